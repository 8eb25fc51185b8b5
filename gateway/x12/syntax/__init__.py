"""X12 syntax: delimiters from the ISA, the segment tokenizer, and how defects are reported."""
