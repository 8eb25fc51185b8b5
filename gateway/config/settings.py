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
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.config.alerting import AlertSettings, AlertsReader
from gateway.config.encryption import EncryptionReader, EncryptionSettings
from gateway.config.retention import RetentionPolicy, RetentionReader
from gateway.config.retry import RetryReader
from gateway.config.retry_policy import RetryPolicies
from gateway.config.toml_reader import TomlReader
from gateway.errors import ConfigError

FILE_NAME = "gateway.toml"
DEFAULT_LISTEN = "127.0.0.1:9464"
DEFAULT_CONSOLE_LISTEN = "127.0.0.1:9465"
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}
LOG_FORMATS = ("auto", "json", "console")
TOP_LEVEL = {"gateway", "http", "console", "logging", "holidays", "alerts", "retry",
             "retention", "encryption"}


@dataclass(frozen=True)
class ConsoleSettings:
    """``[console]``: the web console's own listen address (None: off), sessions and TLS.

    Loopback by default: put a TLS reverse proxy in front (docs/operations.md) or give
    ``tls_cert``/``tls_key``, and set ``secure_cookies`` once browsers reach it over HTTPS.
    ``secret_file`` holds the key that signs session cookies (created, mode 0600, when
    missing); daemons behind one proxy share it."""

    listen: tuple[str, int] | None
    secret_file: Path
    idle_minutes: int = 30
    max_hours: int = 12
    secure_cookies: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None


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
    alerts: AlertSettings = field(default_factory=AlertSettings)
    console: ConsoleSettings | None = None  # None only when built by hand (tests)
    retry: RetryPolicies = field(default_factory=RetryPolicies)  # [retry], per destination
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    encryption: EncryptionSettings = field(default_factory=EncryptionSettings)  # of payloads

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
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=str(path),
                          fix="correct the syntax (see contrib/gateway.toml)") from exc
    return _Reader(path, raw, text).settings()


class _Reader(TomlReader):
    """Validates one parsed file; every message names ``file:line: [table] key``."""

    top_level = frozenset(TOP_LEVEL)

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
        self._no_inline_password(store)
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
            alerts=AlertsReader(self.path, self.raw, self.text).settings(),
            console=self._console(data_dir),
            retry=RetryReader(self.path, self.raw, self.text).policies(),
            retention=RetentionReader(self.path, self.raw, self.text).policy(),
            encryption=EncryptionReader(self.path, self.raw, self.text).encryption(),
        )

    def _no_inline_password(self, store: str) -> None:
        """Secrets are never TOML values: a password in the store URL is refused (libpq reads
        it from PGPASSFILE or PGPASSWORD, or ``?passfile=PATH`` in the URL)."""
        parts = urlsplit(store)
        if parts.password is not None or "password" in parse_qs(parts.query):
            self._fail("gateway", "store", "the store URL holds a password: secrets are never "
                       "written in the configuration",
                       "remove it from the URL and give it to libpq by a file: PGPASSFILE "
                       "(mode 0600) or ?passfile=/etc/gateway/pgpass, or the PGPASSWORD "
                       "environment variable of the service")

    # -- tables -------------------------------------------------------------------------------

    def _listen(self) -> tuple[str, int] | None:
        http = self._table("http")
        self._known(http, "http", {"listen"})
        return self._address(http, "http", DEFAULT_LISTEN)

    def _address(self, table: dict[str, Any], tname: str, default: str) -> tuple[str, int] | None:
        text = self._str(table, tname, "listen", default)
        if text in ("", "off", "none"):
            return None
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535 or not host:
            self._fail(tname, "listen", f"{text!r} is not HOST:PORT",
                       f'write e.g. listen = "{default}", or "off" for no endpoint')
        return host.strip("[]"), int(port)

    def _console(self, data_dir: Path) -> ConsoleSettings:
        table = self._table("console")
        self._known(table, "console", {"listen", "secret_file", "idle_minutes", "max_hours",
                                       "secure_cookies", "tls_cert", "tls_key"})
        secure = table.get("secure_cookies", False)
        if not isinstance(secure, bool):
            self._fail("console", "secure_cookies", "must be true or false",
                       "write secure_cookies = true when browsers reach it over HTTPS")
        cert, key = (self._path(table, "console", k, "") if k in table else None
                     for k in ("tls_cert", "tls_key"))
        if (cert is None) != (key is None):
            self._fail("console", "tls_cert", "tls_cert and tls_key go together",
                       "give both (PEM files), or neither")
        return ConsoleSettings(
            listen=self._address(table, "console", DEFAULT_CONSOLE_LISTEN),
            secret_file=self._path(table, "console", "secret_file",
                                   str(data_dir / "console-secret")),
            idle_minutes=self._int(table, "console", "idle_minutes", 30, low=1, high=1440),
            max_hours=self._int(table, "console", "max_hours", 12, low=1, high=168),
            secure_cookies=secure, tls_cert=cert, tls_key=key,
        )

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

    def _sqlite_relative(self, url: str) -> str:
        """``sqlite:///rel/x.db`` is relative to the config directory, like every path here."""
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
            return prefix + str((self.base / url[len(prefix):]).resolve())
        return url
