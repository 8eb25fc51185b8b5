"""Reading ``gateway.toml``'s tables: typed values, and errors that name file, line, table,
key and the fix. The settings reader and the ``[alerts]`` reader share it."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, NoReturn

from gateway.config.tables import toml_line
from gateway.errors import ConfigError


class TomlReader:
    """One parsed file (``raw``) with its text (for line numbers)."""

    top_level: frozenset[str] = frozenset()  # keys that may only stand above every table

    def __init__(self, path: Path, raw: dict[str, Any], text: str) -> None:
        self.path = path.resolve()
        self.base = self.path.parent
        self.raw = raw
        self.text = text

    def _table(self, name: str, within: dict[str, Any] | None = None) -> dict[str, Any]:
        """Table ``name`` (``a.b`` for ``[a.b]``: give ``within`` = table ``a``), or {}."""
        value = (self.raw if within is None else within).get(name.rpartition(".")[2], {})
        if not isinstance(value, dict):
            self._fail(None, name, "must be a table", f"write it as a [{name}] section")
        return value

    def _str(self, table: dict[str, Any], tname: str, key: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            self._fail(tname, key, f"must be a string, not {type(value).__name__}",
                       f'quote the value: {key} = "..."')
        return str(value)

    def _int(self, table: dict[str, Any], tname: str, key: str, default: int, *, low: int,
             high: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self._fail(tname, key, f"must be a whole number from {low} to {high}, not {value!r}",
                       f"write e.g. {key} = {default}")
        return int(value)

    def _path(self, table: dict[str, Any], tname: str, key: str, default: str) -> Path:
        """A path; relative ones are relative to the directory of the file."""
        text = self._str(table, tname, key, default)
        path = Path(text).expanduser()
        return (path if path.is_absolute() else self.base / path).resolve()

    def _known(self, table: dict[str, Any], tname: str | None, keys: set[str]) -> None:
        for key in table:
            if key in self.top_level and tname is not None:
                self._fail(tname, key, "is a top-level key but sits inside a table",
                           "move it above the first [table] (TOML puts every key after a "
                           "[table] header into that table)")
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                self._fail(tname, key, "unknown key",
                           (f"did you mean {close[0]!r}? " if close else "")
                           + "remove it or correct its spelling; known keys: "
                           + ", ".join(sorted(keys)))

    def _fail(self, table: str | None, key: str, what: str, fix: str) -> NoReturn:
        line = toml_line(self.text, table, key)
        place = f"{self.path}:{line}" if line else str(self.path)
        where = f"{place}: [{table}] {key}" if table else f"{place}: {key}"
        raise ConfigError(what, where=where, fix=fix)
