"""Reading typed values out of TOML tables while recording problems.

Small helpers shared by the partner and PSAO loaders: each takes the table, the dotted key for
messages, and the :class:`Problems` to record into, and returns a value (or None when the key
is missing or wrong) so a loader can check every key before it gives up.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from gateway.config.problems import Problems

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def read_toml(path: Path, problems: Problems) -> dict[str, Any] | None:
    """Parse a TOML file; a syntax error becomes a problem with the line tomllib reports."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        problems.add(None, "file", f"cannot be read ({exc.strerror})", "check the path")
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        problems.add(
            int(line.group(1)) if line else None, "syntax", str(exc),
            "fix the TOML syntax (quotes around strings, key = value)",
        )
    return None


def text(
    table: dict[str, Any], key: str, where: str, problems: Problems, *, required: bool = True
) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            problems.add(None, f"{where}{key}", "is missing", f"add {key} = \"...\"")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(None, f"{where}{key}", f"{value!r} is not a non-empty string", "quote it")
        return None
    return value.strip()


def choice(
    table: dict[str, Any], key: str, where: str, problems: Problems, allowed: tuple[str, ...],
    default: str,
) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or value not in allowed:
        problems.add(
            None, f"{where}{key}", f"{value!r} is not allowed", f"use one of {', '.join(allowed)}"
        )
        return default
    return value


def integer(
    table: dict[str, Any], key: str, where: str, problems: Problems, default: int,
    minimum: int = 0, maximum: int | None = None,
) -> int:
    value = table.get(key, default)
    too_big = maximum is not None and isinstance(value, int) and value > maximum
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or too_big:
        bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        problems.add(None, f"{where}{key}", f"{value!r} is not a whole number {bounds}",
                     f"write {key} = {default}")
        return default
    return value


def clock_time(
    table: dict[str, Any], key: str, where: str, problems: Problems
) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _TIME.match(value):
        problems.add(None, f"{where}{key}", f"{value!r} is not a time HH:MM", 'write "10:00"')
        return None
    return value


def unknown_keys(
    table: dict[str, Any], allowed: set[str], where: str, problems: Problems
) -> None:
    """A misspelt key is silently ignored by most loaders; here it is a problem."""
    for key in sorted(set(table) - allowed):
        problems.add(None, f"{where}{key}", "is not a known setting",
                     f"remove it or use one of {', '.join(sorted(allowed))}")


_HEADER = re.compile(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]")


def toml_line(text: str, table: str | None, key: str) -> int | None:
    """The line where ``key`` is written in ``[table]`` (None: the top level) of a TOML text;
    for a key that is missing, the line of its table's header; a top-level key written as a
    table (``[htp]``) is found at its header; None when neither is there.

    tomllib gives values without positions; an operator fixing a file wants the line."""
    current: str | None = None
    header_line: int | None = None
    assignment = re.compile(rf"^{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = _HEADER.match(stripped)
        if header:
            current = header.group(1)
            if current == table:
                header_line = number
            if table is None and current.split(".")[0] == key:
                return number  # a table at the top level: its header
        elif current == table and assignment.match(stripped):
            return number
    return header_line
