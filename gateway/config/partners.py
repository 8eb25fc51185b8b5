"""Trading partners as TOML: PBMs under ``partners/pbms/``, pharmacy SFTP servers under
``partners/destinations/`` — one file each.

A file says how to reach the partner — ``[inbound]`` (where its files are pulled from) and/or
``[outbound]`` (where we push to it), each a transport table exactly as
``gateway.transport.config`` reads it (``type = "sftp"`` with host, user, key_file,
known_hosts, remote_dir, after_fetch = "archive"|"delete", archive_dir, ...; or
``type = "folder"`` with path) — plus which files to take, when to poll, which
acknowledgment the partner wants, how deeply to validate its files, and optionally by when
its daily file is expected (an SLA the daemon alerts on). See partners/pbms/*.toml.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.config.problems import Problems
from gateway.config.tables import (
    choice,
    clock_time,
    integer,
    read_toml,
    text,
    toml_line,
    unknown_keys,
)
from gateway.errors import ConfigError
from gateway.transport.base import Sink, Source
from gateway.transport.config import (
    TransportConfigError,
    sink_from_config,
    source_from_config,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TOP_KEYS = {
    "id", "name", "isa_qualifier", "isa_id", "inbound", "outbound", "files", "schedule",
    "acknowledgment", "validation", "sla",
}


@dataclass(frozen=True)
class Schedule:
    """Poll every ``interval_seconds``, only between ``window_start`` and ``window_end``."""

    interval_seconds: int
    window_start: str | None
    window_end: str | None


@dataclass(frozen=True)
class Acknowledgment:
    """``kind`` none, ta1 or 999, pushed through the partner's ``[outbound]`` transport."""

    kind: str


@dataclass(frozen=True)
class Sla:
    """The partner's file is expected by ``expected_by`` (local time in ``timezone``)."""

    expected_by: str
    business_days: bool
    timezone: str


@dataclass(frozen=True)
class Partner:
    """One trading partner. ``inbound``/``outbound`` are validated transport tables."""

    id: str
    name: str
    isa_qualifier: str | None
    isa_id: str | None
    inbound: dict[str, Any] | None
    outbound: dict[str, Any] | None
    patterns: tuple[str, ...]
    schedule: Schedule
    acknowledgment: Acknowledgment
    validation: str  # "structure" or "tr3"
    sla: Sla | None
    file: str

    @property
    def archive(self) -> str:
        """What to do with the partner's copy once the store has it: archive or delete
        (transport/config.py checked the value)."""
        after_fetch: str = (self.inbound or {}).get("after_fetch", "archive")
        return after_fetch

    def source(self) -> Source:
        """The Source to poll (``[inbound]``)."""
        if self.inbound is None:
            raise ConfigError(f"partner {self.id} has no [inbound] transport", where=self.file,
                              fix="add an [inbound] table to pull files from it")
        return source_from_config(self.inbound, partner=self.id, where=f"{self.file} [inbound]",
                                  base_dir=Path(self.file).parent)

    def sink(self, directory: str | None = None) -> Sink:
        """The Sink to push to (``[outbound]``), into ``directory`` instead of its own."""
        if self.outbound is None:
            raise ConfigError(f"partner {self.id} has no [outbound] transport", where=self.file,
                              fix="add an [outbound] table to deliver to it")
        table = _with_directory(self.outbound, directory)
        return sink_from_config(table, partner=self.id, where=f"{self.file} [outbound]",
                                base_dir=Path(self.file).parent)


def load_partners(directory: Path, *, requires: str = "inbound") -> dict[str, Partner]:
    """Every ``*.toml`` under ``directory``, by partner id; all problems raised together.

    ``requires`` names the transport table every file there must have: ``inbound`` for PBMs
    (we pull from them), ``outbound`` for pharmacy destinations (we push to them).
    """
    problems = Problems(directory)
    partners: dict[str, Partner] = {}
    for path in sorted(directory.glob("*.toml")):
        file_problems = Problems(path)
        partner = _partner(path, file_problems, requires)
        problems.found.extend(file_problems.found)
        if partner is None:
            continue
        if partner.id in partners:
            problems.add(None, "id", f"{partner.id!r} is also the id in "
                         f"{partners[partner.id].file}", "give each partner its own id")
            continue
        partners[partner.id] = partner
    problems.raise_if_any()
    return partners


def load_partner(path: Path, *, requires: str = "inbound") -> Partner:
    """One partner file, validated."""
    problems = Problems(path)
    partner = _partner(path, problems, requires)
    problems.raise_if_any()
    assert partner is not None  # no problems means a partner was built
    return partner


def _partner(path: Path, problems: Problems, requires: str) -> Partner | None:
    data = read_toml(path, problems)
    if data is None:
        return None
    before = len(problems.found)
    unknown_keys(data, _TOP_KEYS, "", problems)
    partner_id = text(data, "id", "", problems)
    if partner_id and not _ID.match(partner_id):
        problems.add(None, "id", f"{partner_id!r} is not a plain id",
                     "use lower-case letters, digits, - and _ (it names folders and logs)")
    name = text(data, "name", "", problems)
    label = partner_id or path.stem
    inbound = _transport(data, "inbound", label, path, problems, source_from_config)
    outbound = _transport(data, "outbound", label, path, problems, sink_from_config)
    if requires not in data:
        problems.add(None, requires, "table is missing",
                     f"add an [{requires}] transport table (type = \"sftp\" or \"folder\")")
    files = _table(data, "files", problems)
    unknown_keys(files, {"patterns"}, "files.", problems)
    patterns = files.get("patterns", ["*"])
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        problems.add(None, "files.patterns", f"{patterns!r} is not a list of glob patterns",
                     'write patterns = ["*.835", "*.edi"]')
        patterns = ["*"]
    schedule = _schedule(_table(data, "schedule", problems), problems)
    ack_table = _table(data, "acknowledgment", problems)
    unknown_keys(ack_table, {"kind"}, "acknowledgment.", problems)
    ack = Acknowledgment(
        choice(ack_table, "kind", "acknowledgment.", problems, ("none", "ta1", "999"), "none"),
    )
    if ack.kind != "none" and outbound is None:
        problems.add(None, "acknowledgment.kind", f"{ack.kind} acknowledgments have nowhere "
                     "to go", "add an [outbound] transport table, or kind = \"none\"")
    validation = choice(data, "validation", "", problems, ("structure", "tr3"), "structure")
    sla = _sla(data.get("sla"), problems)
    if len(problems.found) != before:
        return None
    return Partner(
        id=partner_id or "", name=name or "",
        isa_qualifier=text(data, "isa_qualifier", "", problems, required=False),
        isa_id=text(data, "isa_id", "", problems, required=False),
        inbound=inbound, outbound=outbound, patterns=tuple(patterns), schedule=schedule,
        acknowledgment=ack, validation=validation, sla=sla, file=str(path),
    )


def _table(
    data: dict[str, Any], key: str, problems: Problems, required: bool = False
) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            problems.add(None, key, "table is missing", f"add a [{key}] table")
        return {}
    if not isinstance(value, dict):
        problems.add(None, key, "is not a table", f"write it as [{key}] with keys below it")
        return {}
    return value


def _transport(
    data: dict[str, Any], key: str, partner: str, path: Path, problems: Problems,
    build: Callable[..., object],
) -> dict[str, Any] | None:
    """A transport table, checked by building its Source or Sink (nothing is contacted)."""
    table = data.get(key)
    if table is None:
        return None
    if not isinstance(table, dict):
        problems.add(None, key, "is not a table", f"write [{key}] with the transport keys below")
        return None
    try:
        build(table, partner=partner, where=f"[{key}]", base_dir=path.parent)
    except ConfigError as exc:
        offending = exc.key if isinstance(exc, TransportConfigError) else None
        line = toml_line(path.read_text(), key, offending) if offending else None
        problems.add(line, key, exc.what,
                     exc.fix or "see gateway/transport/config.py")
        return None
    return table


def _with_directory(table: dict[str, Any], directory: str | None) -> dict[str, Any]:
    """The transport table pointed at another directory (a member's own inbox)."""
    if directory is None:
        return table
    return {**table, ("remote_dir" if table.get("type") == "sftp" else "path"): directory}


def _schedule(table: dict[str, Any], problems: Problems) -> Schedule:
    unknown_keys(table, {"interval", "window_start", "window_end"}, "schedule.", problems)
    interval = integer(table, "interval", "schedule.", problems, 300, 10)
    start = clock_time(table, "window_start", "schedule.", problems)
    end = clock_time(table, "window_end", "schedule.", problems)
    if (start is None) != (end is None):
        problems.add(None, "schedule.window_start", "a daily window needs both ends",
                     "set window_start and window_end, or neither")
    return Schedule(interval, start, end)


def _sla(value: Any, problems: Problems) -> Sla | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add(None, "sla", "is not a table", "write [sla] with expected_by = \"10:00\"")
        return None
    unknown_keys(value, {"expected_by", "business_days", "timezone"}, "sla.", problems)
    expected_by = clock_time(value, "expected_by", "sla.", problems)
    if expected_by is None:
        problems.add(None, "sla.expected_by", "is missing or not HH:MM", 'write "10:00"')
        return None
    business_days = value.get("business_days", True)
    if not isinstance(business_days, bool):
        problems.add(None, "sla.business_days", f"{business_days!r} is not true/false",
                     "write true or false")
        business_days = True
    timezone = text(value, "timezone", "sla.", problems, required=False) or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(None, "sla.timezone", f"{timezone!r} is not a known time zone",
                     'use an IANA name such as "America/New_York"')
    return Sla(expected_by, business_days, timezone)
