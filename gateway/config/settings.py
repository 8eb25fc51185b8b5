"""The daemon's own settings: ``gateway.toml``.

One small file says where things live (store, data, the partners directory) and how the
process runs (HTTP listen address, delivery workers, lease, time zone, logging). Everything
about trading partners — the PSAO's own envelope identity (``psao.toml``), the PBMs
(``pbms/*.toml``), SFTP destinations and the member roster (``members.csv``) — lives in the
partners directory (see :mod:`gateway.config`); this file only points at it, so that an
identity or a roster is never configured in two places.

Relative paths are relative to the directory holding ``gateway.toml``, so a config directory
can be moved or copied as a whole. Every error names the file, the key and the fix.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import date, tzinfo
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import ConfigError

FILE_NAME = "gateway.toml"
DEFAULT_LISTEN = "127.0.0.1:9464"
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}
LOG_FORMATS = ("auto", "json", "console")
TOP_LEVEL = {"gateway", "http", "logging", "holidays"}


@dataclass(frozen=True)
class Settings:
    """Validated ``gateway.toml``. Paths are absolute."""

    path: Path
    store_url: str
    data_dir: Path
    partners_dir: Path
    listen: tuple[str, int] | None  # None: no HTTP endpoint
    workers: int
    lease_seconds: float
    timezone: tzinfo  # of poll windows; SLA rules carry their own
    log_level: int
    log_format: str  # auto | json | console
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def work_dir(self) -> Path:
        """Temp space for fetches: same file system as the data dir, so renames are atomic."""
        return self.data_dir / "work"


def load_settings(path: Path | str) -> Settings:
    """Read and validate ``gateway.toml`` (or a directory holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE_NAME
    if not path.is_file():
        raise ConfigError(
            "configuration file not found",
            where=str(path),
            fix="pass --config PATH/gateway.toml, or create one with `gateway init DIR`",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(path),
                          fix="correct the syntax (see contrib/gateway.toml)") from exc
    return _Reader(path, raw).settings()


class _Reader:
    """Validates one parsed file; every message names ``file: [table] key``."""

    def __init__(self, path: Path, raw: dict[str, Any]) -> None:
        self.path = path.resolve()
        self.base = self.path.parent
        self.raw = raw

    def settings(self) -> Settings:
        self._known(self.raw, None, TOP_LEVEL)
        gw = self._table("gateway")
        self._known(gw, "gateway", {"store", "data_dir", "partners_dir", "workers",
                                    "lease_seconds", "timezone"})
        data_dir = self._path(gw, "gateway", "data_dir", "data")
        store = self._str(gw, "gateway", "store", "sqlite:///" + str(data_dir / "gateway.db"))
        if not store.startswith(("sqlite:", "postgresql:", "postgres:")):
            self._fail("gateway", "store", f"unsupported store URL {store!r}",
                       "use sqlite:///PATH (default) or postgresql://USER@HOST/DB")
        return Settings(
            path=self.path,
            store_url=self._sqlite_relative(store),
            data_dir=data_dir,
            partners_dir=self._path(gw, "gateway", "partners_dir", "partners"),
            listen=self._listen(),
            workers=self._int(gw, "gateway", "workers", 2, low=1, high=64),
            lease_seconds=float(self._int(gw, "gateway", "lease_seconds", 60, low=5, high=3600)),
            timezone=self._zone(gw),
            log_level=self._log_level(),
            log_format=self._log_format(),
            holidays=self._holidays(),
        )

    # -- tables -------------------------------------------------------------------------------

    def _listen(self) -> tuple[str, int] | None:
        http = self._table("http")
        self._known(http, "http", {"listen"})
        text = self._str(http, "http", "listen", DEFAULT_LISTEN)
        if text in ("", "off", "none"):
            return None
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
            self._fail("http", "listen", f"{text!r} is not HOST:PORT",
                       'write e.g. listen = "127.0.0.1:9464", or "off" for no endpoint')
        return host.strip("[]"), int(port)

    def _zone(self, gw: dict[str, Any]) -> tzinfo:
        name = self._str(gw, "gateway", "timezone", "UTC")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self._fail("gateway", "timezone", f"unknown time zone {name!r}",
                       'use an IANA name such as "America/Chicago"')
            raise  # unreachable: _fail raised

    def _log_level(self) -> int:
        table = self._table("logging")
        self._known(table, "logging", {"level", "format"})
        level = self._str(table, "logging", "level", "info").lower()
        if level not in LOG_LEVELS:
            self._fail("logging", "level", f"unknown level {level!r}",
                       "use one of " + ", ".join(LOG_LEVELS))
        return LOG_LEVELS[level]

    def _log_format(self) -> str:
        fmt = self._str(self._table("logging"), "logging", "format", "auto").lower()
        if fmt not in LOG_FORMATS:
            self._fail("logging", "format", f"unknown format {fmt!r}",
                       "use auto (JSON unless on a terminal), json or console")
        return fmt

    def _holidays(self) -> frozenset[date]:
        value = self.raw.get("holidays", [])
        if not isinstance(value, list) or not all(isinstance(d, date) for d in value):
            self._fail(None, "holidays", "must be a list of dates",
                       "write e.g. holidays = [2026-12-25, 2027-01-01] (TOML dates, no quotes)")
        return frozenset(value)

    # -- values -------------------------------------------------------------------------------

    def _table(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            self._fail(None, name, "must be a table", f"write it as a [{name}] section")
        return value

    def _str(self, table: dict[str, Any], tname: str, key: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            self._fail(tname, key, f"must be a string, not {type(value).__name__}",
                       f'quote the value: {key} = "..."')
        return value

    def _int(self, table: dict[str, Any], tname: str, key: str, default: int, *, low: int,
             high: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self._fail(tname, key, f"must be a whole number from {low} to {high}, not {value!r}",
                       f"write e.g. {key} = {default}")
        return value

    def _path(self, table: dict[str, Any], tname: str, key: str, default: str) -> Path:
        text = self._str(table, tname, key, default)
        path = Path(text).expanduser()
        return (path if path.is_absolute() else self.base / path).resolve()

    def _sqlite_relative(self, url: str) -> str:
        """``sqlite:///rel/x.db`` is relative to the config directory, like every path here."""
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
            return prefix + str((self.base / url[len(prefix):]).resolve())
        return url

    def _known(self, table: dict[str, Any], tname: str | None, keys: set[str]) -> None:
        for key in table:
            if key in TOP_LEVEL and tname is not None:
                self._fail(tname, key, "is a top-level key but sits inside a table",
                           "move it above the first [table] (TOML puts every key after a "
                           "[table] header into that table)")
            if key not in keys:
                self._fail(tname, key, "unknown key",
                           "remove it or correct its spelling; known keys: "
                           + ", ".join(sorted(keys)))

    def _fail(self, table: str | None, key: str, what: str, fix: str) -> NoReturn:
        where = f"{self.path}: [{table}] {key}" if table else f"{self.path}: {key}"
        raise ConfigError(what, where=where, fix=fix)
