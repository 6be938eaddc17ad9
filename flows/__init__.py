"""Sift's dataflow: records, settings, pure operators and the flow that wires them."""
