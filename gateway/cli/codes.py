"""Exit codes shared by every command: 0 success, 1 invalid input or failed work, 2 usage."""

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
