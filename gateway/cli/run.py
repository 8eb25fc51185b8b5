"""``gateway run``: the daemon (see gateway/daemon/loop.py), or one cycle of it with ``--once``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gateway.config.settings import FILE_NAME, load_settings

CONFIG_ENV = "GATEWAY_CONFIG"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """``--config``, shared by every command that reads gateway.toml."""
    parser.add_argument(
        "--config", "-c", type=Path,
        default=Path(os.environ.get(CONFIG_ENV, FILE_NAME)),
        help=f"gateway.toml or its directory (default ${CONFIG_ENV} or ./{FILE_NAME})",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run", help="run the daemon: poll partners, parse, route, deliver",
        description="Run the gateway daemon. SIGTERM/SIGINT stop it cleanly, SIGHUP reloads "
        "partners and members. With --once: one full cycle, then exit (for cron and tests).",
    )
    add_config_argument(parser)
    parser.add_argument("--once", action="store_true",
                        help="poll every partner, parse, route, deliver what is due, then exit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from gateway.daemon.loop import run_daemon

    return run_daemon(load_settings(args.config), once=args.once)
