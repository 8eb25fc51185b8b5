"""Operator commands: ``gateway init``, ``check``, ``status`` and ``demo``.

* ``init DIR`` writes an example configuration directory to start from.
* ``check`` validates the configuration and, unless ``--offline``, tests each partner's
  connection the way the daemon will make it (pinned host key, key login, the folders exist)
  without downloading anything — run it after every change and before every start.
* ``status`` is the one screen an operator looks at: is the daemon up, when did each partner
  last deliver, what is queued, what is dead, quarantined or failed — it exits 1 while a file
  is failed (a stage could not process it: it waits for a fix and ``gateway files retry``).
* ``demo`` runs the whole walk on synthetic files in a scratch workspace.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.codes import EXIT_INVALID, EXIT_OK
from gateway.cli.operator import missing_store
from gateway.cli.run import add_config_argument
from gateway.config.settings import Settings, load_settings

if TYPE_CHECKING:  # the commands import the daemon and the store only when they run
    from gateway.daemon.runtime import PartnerRuntime
    from gateway.store.base import MessageStore
    from gateway.store.models import ReceivedFile


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = subparsers.add_parser("init", help="write an example configuration directory",
                                 description="Write gateway.toml, partners/ and keys/ examples.")
    init.add_argument("directory", type=Path)
    init.add_argument("--force", action="store_true", help="overwrite existing example files")
    init.set_defaults(handler=run_init)

    check = subparsers.add_parser(
        "check", help="validate the configuration and test each partner's connection",
        description="Validate gateway.toml and the partners directory, open the store, then "
        "connect to every SFTP partner and destination (host key, login, folders) without "
        "downloading anything.")
    add_config_argument(check)
    check.add_argument("--offline", action="store_true", help="do not connect to partners")
    check.set_defaults(handler=run_check)

    status = subparsers.add_parser("status", help="partners, last polls, queue, dead letters",
                                   description="One screen of the gateway's state.")
    add_config_argument(status)
    status.set_defaults(handler=run_status)

    demo = subparsers.add_parser(
        "demo", help="run the whole walk on synthetic files in a scratch workspace",
        description="Set up a workspace (SQLite, local folders, synthetic 835s), run one cycle "
        "pull → parse → split → deliver, and print what happened. No patient data, ever.")
    demo.add_argument("--dir", type=Path, default=Path("demo"),
                      help="workspace directory (default ./demo; recreated each run)")
    demo.set_defaults(handler=run_demo)


# -- init ---------------------------------------------------------------------------------------

def run_init(args: argparse.Namespace) -> int:
    from gateway.ops.scaffold import scaffold

    written = scaffold(args.directory, force=args.force)
    for path in written:
        print(f"wrote {path}")
    print(f"\nNext: edit {args.directory}/partners/ (psao.toml, pbms/, members.csv), put keys "
          f"in {args.directory}/keys/, then `gateway check --config {args.directory}`.")
    return EXIT_OK


# -- check --------------------------------------------------------------------------------------

def run_check(args: argparse.Namespace) -> int:
    from gateway.daemon.runtime import build_runtime
    from gateway.store import open_configured

    settings = load_settings(args.config)
    runtime = build_runtime(settings)  # raises ConfigError naming every problem
    roster = runtime.config.roster
    active = sum(1 for m in roster if m.active)
    print(f"ok    configuration {settings.path}: {len(runtime.partners)} PBM(s), "
          f"{len(runtime.config.destinations)} SFTP destination(s), {len(roster)} member(s) "
          f"({active} active)")
    from gateway.ops.check import check_offline, encryption_probe, probe_all

    key = encryption_probe(settings)
    print(f"{'FAIL' if not key.ok else 'WARN' if key.warning else 'ok':<5} {key.what}: "
          f"{key.detail}")
    failures = int(not key.ok)
    if key.ok:
        created = missing_store(settings) is not None
        open_configured(settings).close()  # a new SQLite store is made at the current schema
        print(f"ok    store {_safe_url(settings.store_url)}"
              + (": created, empty (the daemon had not run with it yet)" if created else ""))
    probes = check_offline(runtime)
    for line in probes if args.offline else chain(probes, probe_all(runtime)):
        failures += not line.ok
        label = "FAIL" if not line.ok else "WARN" if line.warning else "ok"
        print(f"{label:<5} {line.what}: {line.detail}")
    runtime.close()
    return EXIT_INVALID if failures else EXIT_OK


def _safe_url(url: str) -> str:
    """A store URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
    return url


# -- status -------------------------------------------------------------------------------------

def run_status(args: argparse.Namespace) -> int:
    from gateway.daemon.runtime import build_runtime
    from gateway.store import open_configured

    settings = load_settings(args.config)
    runtime = build_runtime(settings)
    if missing := missing_store(settings):
        raise missing
    store = open_configured(settings, migrate=False, create=False)
    try:
        print(_daemon_line(settings))
        print(f"\n{'PARTNER':<20} {'LAST POLL (daemon)':<21} {'LAST FILE':<22} FILES  "
              "QUARANTINED  SLA TODAY")
        last_polls = _scrape_last_polls(settings)
        for pid, partner in runtime.partners.items():
            files = store.list_files(partner=pid, limit=1000)
            last_file = files[0].received_at.strftime("%Y-%m-%d %H:%M:%S") if files else "-"
            quarantined = sum(1 for f in files if f.status.value == "quarantined")
            poll = last_polls.get(pid)
            poll_text = datetime.fromtimestamp(poll, UTC).strftime("%Y-%m-%d %H:%M:%S") \
                if poll else "-"
            print(f"{pid:<20} {poll_text:<21} {last_file:<22} {len(files):>5}  "
                  f"{quarantined:>11}  {_sla_text(partner, files, settings)}")
        _print_queue(store)
        failed = _print_problems(store)
    finally:
        store.close()
        runtime.close()
    return EXIT_INVALID if failed else EXIT_OK


def _sla_text(partner: PartnerRuntime, files: list[ReceivedFile], settings: Settings) -> str:
    """``-`` without a rule; ``MISSED`` when today's deadline passed without a new file."""
    if not partner.sla:
        return "-"
    received = next((f.received_at for f in files if f.status.value != "duplicate"), None)
    now = datetime.now(UTC)
    missed = [r for r in partner.sla if r.missed(now, received, settings.holidays)]
    return f"MISSED ({missed[0].describe()})" if missed else "ok"


def _daemon_line(settings: Settings) -> str:
    if settings.listen is None:
        return "daemon: no HTTP endpoint configured ([http] listen = \"off\")"
    host, port = settings.listen
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=2) as answer:
            reasons = json.load(answer).get("degraded") or []
        if reasons:
            return f"daemon: running, DEGRADED (http://{host}:{port}): " + "; ".join(reasons)
        return f"daemon: running, healthy (http://{host}:{port})"
    except urllib.error.HTTPError as exc:
        return f"daemon: running, UNHEALTHY ({exc.code}) at http://{host}:{port}/healthz"
    except OSError:
        return f"daemon: not answering on http://{host}:{port} (stopped?)"


def _scrape_last_polls(settings: Settings) -> dict[str, float]:
    """Last successful poll per partner, from the running daemon's /metrics (if any)."""
    from gateway.daemon.metrics import parse_exposition

    if settings.listen is None:
        return {}
    host, port = settings.listen
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=2) as response:
            samples = parse_exposition(response.read().decode())
    except OSError:
        return {}
    return {dict(labels)["partner"]: value for (name, labels), value in samples.items()
            if name == "gateway_last_successful_poll_timestamp_seconds"}


def _print_queue(store: MessageStore) -> None:
    from gateway.store.queue_depth import WAITING, QueueTotals

    queue = QueueTotals.of(store.queue_depth())
    totals = sorted((state.value, count) for state, count in queue.by_state().items())
    print("\nQUEUE  " + ("  ".join(f"{state}={count}" for state, count in totals) or "empty"))
    waiting = sorted((r for r in queue.rows if r.state in WAITING), key=lambda r: -r.count)[:10]
    now = datetime.now(UTC)
    for row in waiting:
        age = (now - row.oldest_enqueued_at).total_seconds() if row.oldest_enqueued_at else 0
        print(f"  {row.state.value:<8} {row.count:>6}  oldest {age:>8.0f}s  {row.destination}")


def _print_problems(store: MessageStore) -> int:
    """Dead letters, held parts, quarantined and failed files; how many files failed."""
    from gateway.store.models import DeliveryState, FileStatus

    dead = store.list_deliveries(state=DeliveryState.DEAD, limit=1000)
    held = store.list_deliveries(state=DeliveryState.HELD, limit=1000)
    print(f"\nDEAD LETTERS {len(dead)}   HELD {len(held)}"
          + ("   (gateway deliveries list --state dead; gateway deliveries retry ID)"
             if dead else ""))
    for delivery in dead[-5:]:
        print(f"  #{delivery.id} {delivery.destination}: {(delivery.last_error or '')[:90]}")
    quarantined = store.list_files(status=FileStatus.QUARANTINED, limit=5)
    if quarantined:
        print("\nQUARANTINED FILES (latest)")
    for f in quarantined:
        print(f"  file {f.id} {f.partner} {f.original_name}: {(f.error or '')[:90]}")
    failed = store.list_files(status=FileStatus.FAILED, limit=1000)
    if failed:
        print(f"\nFAILED FILES {len(failed)}   (correct the cause, then `gateway files retry "
              "ID` or reload the daemon)")
    for f in failed[:10]:
        print(f"  file {f.id} {f.partner} {f.original_name}: {(f.error or '')[:200]}")
    return len(failed)


# -- demo ---------------------------------------------------------------------------------------

def run_demo(args: argparse.Namespace) -> int:
    from gateway.ops.demo_run import run_demo as demo

    return demo(args.dir)
