"""Measurements of Sift's quality and speed on real data read from ../shared/data at run time."""
