"""Transport adapters: one Source/Sink interface over SFTP and local folders."""
