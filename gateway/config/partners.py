"""PBM trading partners: one TOML file per partner under ``partners/pbms/``.

Each file says how to reach the partner (an SFTP server or a local folder), which files to
take, when to poll, what to do with the partner's copy after the store has committed it,
which acknowledgment the partner wants and how deeply to validate its files, and optionally
by when its daily file is expected (an SLA the daemon alerts on). See partners/pbms/*.toml.
"""

from __future__ import annotations

import re
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
    unknown_keys,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TOP_KEYS = {
    "id", "name", "isa_qualifier", "isa_id", "transport", "files", "schedule", "archive",
    "acknowledgment", "validation", "sla",
}
_SFTP_KEYS = {
    "type", "host", "port", "user", "key_file", "known_hosts", "inbound_dir", "archive_dir",
    "outbound_dir", "timeout",
}
_FOLDER_KEYS = {"type", "path", "archive_dir", "outbound_dir"}


@dataclass(frozen=True)
class SftpTransport:
    """An SFTP server with a pinned host key (``known_hosts``); the key file holds the secret."""

    host: str
    port: int
    user: str
    key_file: str
    known_hosts: str
    inbound_dir: str
    archive_dir: str | None
    outbound_dir: str | None
    timeout: int = 30
    type: str = "sftp"


@dataclass(frozen=True)
class FolderTransport:
    """A local or mounted drop folder."""

    path: str
    archive_dir: str | None
    outbound_dir: str | None
    type: str = "folder"


@dataclass(frozen=True)
class Schedule:
    """Poll every ``interval_seconds``, only between ``window_start`` and ``window_end``."""

    interval_seconds: int
    window_start: str | None
    window_end: str | None


@dataclass(frozen=True)
class Acknowledgment:
    """``kind`` none, ta1 or 999; ``push_to`` the partner directory acknowledgments go to."""

    kind: str
    push_to: str | None


@dataclass(frozen=True)
class Sla:
    """The partner's file is expected by ``expected_by`` (local time in ``timezone``)."""

    expected_by: str
    business_days: bool
    timezone: str


@dataclass(frozen=True)
class Partner:
    """One PBM trading partner."""

    id: str
    name: str
    isa_qualifier: str | None
    isa_id: str | None
    transport: SftpTransport | FolderTransport
    patterns: tuple[str, ...]
    schedule: Schedule
    archive: str  # "archive" or "delete": what to do with the partner's copy once stored
    acknowledgment: Acknowledgment
    validation: str  # "structure" or "tr3"
    sla: Sla | None
    file: str


def load_partners(directory: Path) -> dict[str, Partner]:
    """Every ``*.toml`` under ``directory``, by partner id; all problems raised together."""
    problems = Problems(directory)
    partners: dict[str, Partner] = {}
    for path in sorted(directory.glob("*.toml")):
        file_problems = Problems(path)
        partner = _partner(path, file_problems)
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


def load_partner(path: Path) -> Partner:
    """One partner file, validated."""
    problems = Problems(path)
    partner = _partner(path, problems)
    problems.raise_if_any()
    assert partner is not None  # no problems means a partner was built
    return partner


def _partner(path: Path, problems: Problems) -> Partner | None:
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
    transport = _transport(_table(data, "transport", problems, required=True), problems)
    files = _table(data, "files", problems)
    unknown_keys(files, {"patterns"}, "files.", problems)
    patterns = files.get("patterns", ["*"])
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        problems.add(None, "files.patterns", f"{patterns!r} is not a list of glob patterns",
                     'write patterns = ["*.835", "*.edi"]')
        patterns = ["*"]
    schedule = _schedule(_table(data, "schedule", problems), problems)
    archive = choice(data, "archive", "", problems, ("archive", "delete"), "archive")
    if archive == "archive" and transport is not None and not transport.archive_dir:
        problems.add(None, "transport.archive_dir", "is missing but archive = \"archive\"",
                     "set archive_dir, or archive = \"delete\"")
    ack_table = _table(data, "acknowledgment", problems)
    unknown_keys(ack_table, {"kind", "push_to"}, "acknowledgment.", problems)
    ack = Acknowledgment(
        choice(ack_table, "kind", "acknowledgment.", problems, ("none", "ta1", "999"), "none"),
        text(ack_table, "push_to", "acknowledgment.", problems, required=False),
    )
    if ack.kind != "none" and not (ack.push_to or (transport and transport.outbound_dir)):
        problems.add(None, "acknowledgment.push_to", f"{ack.kind} acknowledgments have nowhere "
                     "to go", "set acknowledgment.push_to or transport.outbound_dir")
    validation = choice(data, "validation", "", problems, ("structure", "tr3"), "structure")
    sla = _sla(data.get("sla"), problems)
    if len(problems.found) != before or transport is None:
        return None
    return Partner(
        id=partner_id or "", name=name or "",
        isa_qualifier=text(data, "isa_qualifier", "", problems, required=False),
        isa_id=text(data, "isa_id", "", problems, required=False),
        transport=transport, patterns=tuple(patterns), schedule=schedule, archive=archive,
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


def _transport(table: dict[str, Any], problems: Problems) -> SftpTransport | FolderTransport | None:
    if not table:
        return None
    kind = table.get("type")
    if kind == "sftp":
        unknown_keys(table, _SFTP_KEYS, "transport.", problems)
        values = {k: text(table, k, "transport.", problems)
                  for k in ("host", "user", "key_file", "known_hosts", "inbound_dir")}
        optional = {k: text(table, k, "transport.", problems, required=False)
                    for k in ("archive_dir", "outbound_dir")}
        port = integer(table, "port", "transport.", problems, 22, 1, 65535)
        timeout = integer(table, "timeout", "transport.", problems, 30, 1, 600)
        if any(v is None for v in values.values()):
            return None
        return SftpTransport(port=port, timeout=timeout, **values, **optional)  # type: ignore[arg-type]
    if kind == "folder":
        unknown_keys(table, _FOLDER_KEYS, "transport.", problems)
        path = text(table, "path", "transport.", problems)
        optional = {k: text(table, k, "transport.", problems, required=False)
                    for k in ("archive_dir", "outbound_dir")}
        return FolderTransport(path, **optional) if path else None  # type: ignore[arg-type]
    problems.add(None, "transport.type", f"{kind!r} is not a known transport",
                 'use type = "sftp" or type = "folder"')
    return None


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
