"""The 835 splitter: one pass over the raw file, each pharmacy's part written from byte ranges."""
