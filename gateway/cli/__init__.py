"""The ``gateway`` command.

Each command group lives in its own module under ``gateway.cli`` with a ``register(subparsers)``
function that adds its parser and sets ``handler`` (a function of the parsed arguments that
returns the exit code). The list below is explicit on purpose: reading it tells you every
command there is.

Exit codes: 0 success, 1 the input (or a partner, or the queue) is not as it should be,
2 usage or configuration error. A user-facing problem is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from gateway import __version__
from gateway.cli import (
    files,
    keys,
    lifecycle,
    migrate,
    ops,
    parse,
    partners,
    queue,
    reconcile,
    run,
    split,
    synth,
    users,
    validate,
)
from gateway.cli.codes import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from gateway.errors import ConfigError, GatewayError

# One module per command group, each with register(subparsers). Add new ones here.
COMMANDS: tuple[ModuleType, ...] = (
    parse, validate, synth, queue, files, partners, split, run, users, ops, migrate, reconcile,
    lifecycle, keys,
)


def build_parser() -> argparse.ArgumentParser:
    """The whole argument tree; sub-commands come from COMMANDS in order."""
    parser = argparse.ArgumentParser(
        prog="gateway",
        description="PSAO EDI/NCPDP gateway: pull, parse, split, route and deliver.",
    )
    parser.add_argument("--version", action="version", version=f"gateway {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GatewayError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
