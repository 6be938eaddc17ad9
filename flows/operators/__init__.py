"""Pure, testable steps of the dataflow; no I/O happens here."""
