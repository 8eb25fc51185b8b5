"""SQL files of the message store (a package so that wheels carry them)."""
