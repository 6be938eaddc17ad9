"""Self-generated demo data for sift: app metadata and a seeded review stream (``python -m demo.generate``)."""
