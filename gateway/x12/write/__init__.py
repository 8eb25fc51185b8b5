"""Writing X12: new envelopes for split parts, TA1/999 acknowledgments, control numbers."""
