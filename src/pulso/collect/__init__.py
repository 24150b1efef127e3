"""Collection: the Segment-compatible HTTP collector, file imports and quarantine (issue 3)."""
