"""X12: tokenizer, envelopes, the 835 reader and splitter, acknowledgments, TR3 validation."""
