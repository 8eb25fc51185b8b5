"""The PHI scanner: a pytest plugin over every end-to-end test (issue 13).

While an end-to-end test runs (its module is one of :data:`E2E`), the synthetic generators
tell the scanner what they generate — patient names, cardholder and member ids, birth dates
and Rx numbers — by wrapping the generator functions that draw them (gateway/synth/). After
the test's call, what it produced is searched for those values:

- its captured stderr and log output, the ``*.log``/``*.jsonl`` files under its tmp_path
  (the daemon's JSON log), and the events and alerts in every SQLite store under tmp_path or
  in its PostgreSQL store: for all four kinds;
- its captured stdout and the reports under tmp_path (``*.html``, ``*.json``, ``*.txt``,
  ``*.csv``; not the generators' own inputs and truth, nor the files delivered to pharmacy
  and PBM folders): for names, ids and birth dates only —
  a reconciliation report or an audit pack lists Rx numbers by design, to the pharmacy
  that filled them.

A hit fails the test, naming the value, its kind and where it was found. Matching is on
whole tokens (a name inside a longer word, or digits inside a decimal number, are not hits),
so a scan is a set intersection: it costs milliseconds per test.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any

import pytest

E2E = ("test_daemon_", "test_console_", "test_reconcile_", "test_alerts_", "test_e2e_",
       "test_lifecycle_")
LOG_FILES = ("*.log", "*.jsonl")
REPORT_FILES = ("*.html", "*.json", "*.txt", "*.csv")
# Not reports: the generators' own files, and deliveries (a pharmacy's remittance names its
# own patients, which is what it is for).
NOT_REPORTS = ("truth", "members.csv", "roster", "scenario", "pharmacies", "inbox", "pbm")
MAX_BYTES = 8 << 20
KINDS = ("name", "id", "birth date", "rx number")
_TOKEN = re.compile(r"\d{4}-\d{2}-\d{2}|[A-Za-z0-9]+(?:\.[0-9]+)*")


@dataclass
class Generated:
    """Every PHI value the generators made while recording was on, by kind."""

    values: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    recording: bool = False

    def add(self, kind: str, *values: object) -> None:
        if not self.recording:
            return
        for value in values:
            if isinstance(value, date):
                self.values[kind] |= {value.isoformat(), value.strftime("%Y%m%d")}
            elif value and len(str(value)) >= 4:  # a 3-letter name would match anything
                self.values[kind].add(str(value))

    def hits(self, text: str, kinds: Iterable[str] = KINDS) -> list[tuple[str, str]]:
        tokens = set(_TOKEN.findall(text))
        return [(kind, value) for kind in kinds for value in sorted(tokens & self.values[kind])]


GENERATED = Generated()
_WRAPPED = "_phi_recorded"


def _record_x12(claim: Any) -> None:
    last, first, member = claim.patient
    GENERATED.add("name", last, first)
    GENERATED.add("id", member)
    GENERATED.add("rx number", claim.rx)


def _record_ncpdp_patient(patient: dict[str, Any]) -> None:
    GENERATED.add("name", patient["first"], patient["last"])
    GENERATED.add("id", patient["cardholder"])
    GENERATED.add("birth date", patient["born"])


def _record_recon(claim: Any) -> None:
    p = claim.patient
    GENERATED.add("name", p.last_name, p.first_name)
    GENERATED.add("id", p.cardholder_id)
    GENERATED.add("birth date", p.birth_date)
    GENERATED.add("rx number", claim.rx)


def _wrap(owner: Any, name: str, record: Callable[[Any], None], *, generator: bool) -> None:
    original = getattr(owner, name)
    if getattr(original, _WRAPPED, False):
        return

    if generator:
        @wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for item in original(*args, **kwargs):
                record(item)
                yield item
    else:
        @wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            made = original(*args, **kwargs)
            record(made)
            return made

    setattr(wrapper, _WRAPPED, True)
    setattr(owner, name, wrapper)


def install_recorders() -> None:
    """Make the generators report what they draw (only while GENERATED.recording)."""
    from gateway.synth import ncpdp, recon, x12_835

    _wrap(x12_835, "_claims", _record_x12, generator=True)
    _wrap(ncpdp, "_patient", _record_ncpdp_patient, generator=False)
    _wrap(ncpdp, "_claim", lambda c: GENERATED.add("rx number", c.rx_number), generator=False)
    _wrap(recon.Scenario, "_claim", _record_recon, generator=False)


# -- what a test produced ----------------------------------------------------------------------

def _store_rows(connect: Callable[[], Any]) -> str:
    """Events and alerts of one store, as text (a store without the tables gives '')."""
    parts: list[str] = []
    try:
        db = connect()
    except Exception:  # a database being written, or gone: nothing to read
        return ""
    try:
        for sql in ("SELECT actor, entity_id, action, reason FROM events",
                    "SELECT entity_id, summary FROM alerts"):
            try:
                parts += [" ".join(map(str, row)) for row in db.execute(sql)]
            except Exception:  # no such table: an older or another kind of database
                db.rollback()
    finally:
        db.close()
    return "\n".join(parts)


def _files(root: Path, patterns: Iterable[str]) -> Iterator[tuple[Path, str]]:
    for pattern in patterns:
        for path in root.rglob(pattern):
            if path.is_file() and path.stat().st_size <= MAX_BYTES:
                yield path, path.read_text(errors="replace")


def produced(item: pytest.Item, sections: list[tuple[str, str]]) -> Iterator[
        tuple[str, str, tuple[str, ...]]]:
    """(where, text, kinds to look for) of everything ``item`` produced."""
    for title, text in sections:
        yield title, text, KINDS if "stdout" not in title else KINDS[:3]
    funcargs = getattr(item, "funcargs", {})
    tmp = funcargs.get("tmp_path")
    if isinstance(tmp, Path) and tmp.is_dir():
        for path, text in _files(tmp, LOG_FILES):
            yield str(path), text, KINDS
        for path, text in _files(tmp, REPORT_FILES):
            if not any(part in str(path.relative_to(tmp)) for part in NOT_REPORTS):
                yield str(path), text, KINDS[:3]
        for db in tmp.rglob("*.db"):
            yield f"{db} (events, alerts)", _store_rows(lambda db=db: sqlite3.connect(db)), KINDS
    url = funcargs.get("store_url") or funcargs.get("pg_url")
    if isinstance(url, str) and url.startswith("postgres"):
        import psycopg

        yield f"{url} (events, alerts)", _store_rows(lambda: psycopg.connect(url)), KINDS


def scan(item: pytest.Item, sections: list[tuple[str, str]]) -> list[str]:
    """Every hit, as 'kind value in where'."""
    found = []
    for where, text, kinds in produced(item, sections):
        found += [f"{kind} {value!r} in {where}" for kind, value in GENERATED.hits(text, kinds)]
    return found


def _is_e2e(item: pytest.Item) -> bool:
    return item.path.name.startswith(E2E)


# -- the hooks ---------------------------------------------------------------------------------

def pytest_configure(config: pytest.Config) -> None:
    install_recorders()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    GENERATED.recording = _is_e2e(item)
    yield
    GENERATED.recording = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.passed or not _is_e2e(item):
        return
    hits = scan(item, report.sections)
    if hits:
        report.outcome = "failed"
        report.longrepr = ("PHI scanner: the synthetic patient data appeared where it must "
                           "not:\n  " + "\n  ".join(hits[:20]))
