"""A partner's transport is one table of configuration; this turns it into a Source or Sink.

    [partners.pbm-x.inbound]                       [pharmacies.1234567.outbound]
    type = "sftp"                                   type = "folder"
    host = "sftp.pbm-x.example"                     path = "/srv/drop/1234567/in"
    port = 22
    user = "psao"
    key_file = "keys/pbm-x_ed25519"
    known_hosts = "keys/pbm-x.known_hosts"
    passphrase = "env:PBM_X_KEY_PASS"    # or "file:keys/pbm-x.pass"; never the passphrase
    remote_dir = "/outbound/835"
    after_fetch = "archive"        # or "delete"
    archive_dir = "/outbound/835/done"
    ready = "marker"               # or "stable" (default)
    marker_suffix = ".done"

Every mistake is a ConfigError naming the file/table (``where``), the key and the fix.
Secrets are never values here: ``passphrase`` takes only a ``file:`` or ``env:`` reference
(``passphrase_file``/``passphrase_env`` are the same, spelled out), and a ``password`` is
refused outright (keys only).
Relative paths are resolved against ``base_dir`` (the config file's folder).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.transport.base import Sink, Source
from gateway.transport.folder import LOCAL_DELIVERY_MODE, FolderSink, FolderSource
from gateway.transport.readiness import READINESS_MODES, Readiness
from gateway.transport.sftp import SftpSink, SftpSource
from gateway.transport.ssh import SftpSettings

AFTER_FETCH = ("archive", "delete")
_COMMON = {"type", "archive_dir", "after_fetch", "ready", "marker_suffix", "settle_seconds"}
_FOLDER_KEYS = _COMMON | {"path"}
_SFTP_REQUIRED = ("host", "user", "key_file", "known_hosts", "remote_dir")
_SFTP_KEYS = (
    _COMMON
    | set(_SFTP_REQUIRED)
    | {
        "port",
        "passphrase",
        "passphrase_file",
        "passphrase_env",
        "temp_suffix",
        "connect_timeout",
        "io_timeout",
        "transfer_timeout",
        "connect_attempts",
        "ciphers",
        "mode",
    }
)


class TransportConfigError(ConfigError):
    """A transport table's mistake, with the offending ``key`` (for its line in the file)."""

    def __init__(self, what: str, *, key: str, where: str, fix: str) -> None:
        super().__init__(what, where=where, fix=fix)
        self.key = key


class _Table:
    """Typed access to one config table, with errors that name the key and the fix."""

    def __init__(self, table: Mapping[str, Any], where: str, base_dir: Path | None) -> None:
        self.table, self.where, self.base_dir = table, where, base_dir

    def fail(self, key: str, what: str, fix: str) -> ConfigError:
        return TransportConfigError(f"key {key!r}: {what}", key=key, where=self.where, fix=fix)

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {sorted(allowed)}"
                raise self.fail(key, "unknown key", hint)

    def get(
        self,
        key: str,
        kind: type[Any],
        default: Any = None,
        *,
        required: bool = False,
        zero_ok: bool = False,
    ) -> Any:
        if key not in self.table:
            if required:
                raise self.fail(key, "missing", f"add {key} = ... to this transport table")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
            raise self.fail(key, f"expected {kind.__name__}, got {value!r}", "fix its type")
        if kind in (int, float) and (value < 0 or (value == 0 and not zero_ok)):
            raise self.fail(key, f"must be positive, got {value!r}", "use a number above 0")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value: str = self.get(key, str, default)
        if value not in options:
            raise self.fail(key, f"{value!r} is not one of {list(options)}", "pick one of those")
        return value

    def path(self, key: str, *, required: bool = False) -> Path | None:
        value = self.get(key, str, required=required)
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path

    def readiness(self) -> Readiness:
        return Readiness(
            mode=self.choice("ready", READINESS_MODES, "stable"),
            marker_suffix=self.get("marker_suffix", str, ".done"),
            settle_seconds=self.get("settle_seconds", float, 1.0, zero_ok=True),
        )


def sftp_settings(
    table: Mapping[str, Any], *, partner: str, where: str = "", base_dir: Path | None = None
) -> SftpSettings:
    """Validated SftpSettings from a ``type = "sftp"`` table."""
    t = _Table(table, where or f"transport of {partner}", base_dir)
    if "password" in table:
        raise t.fail("password", "a password is never written in the configuration, and the "
                     "gateway logs in with keys only",
                     'remove it; use key_file (and passphrase = "file:PATH" or "env:NAME" if '
                     "the key has one)")
    t.check_keys(_SFTP_KEYS)
    passphrase_file, passphrase_env = _passphrase(t)
    ciphers = t.get("ciphers", list, None)
    if ciphers is not None and not all(isinstance(c, str) for c in ciphers):
        raise t.fail("ciphers", "expected a list of cipher names", 'e.g. ["aes128-ctr"]')
    extra: dict[str, Any] = {
        name: t.get(name, float)
        for name in ("connect_timeout", "io_timeout", "transfer_timeout")
        if name in table
    }
    if "connect_attempts" in table:
        extra["connect_attempts"] = t.get("connect_attempts", int)
    if ciphers is not None:
        extra["ciphers"] = tuple(ciphers)
    if "mode" in table:
        extra["file_mode"] = _mode(t, 0o600)
    if "temp_suffix" in table:
        extra["temp_suffix"] = t.get("temp_suffix", str)
    return SftpSettings(
        partner=partner,
        host=t.get("host", str, required=True),
        port=t.get("port", int, 22),
        user=t.get("user", str, required=True),
        key_file=t.path("key_file", required=True),  # type: ignore[arg-type]
        known_hosts=t.path("known_hosts", required=True),  # type: ignore[arg-type]
        remote_dir=t.get("remote_dir", str, required=True),
        passphrase_file=passphrase_file,
        passphrase_env=passphrase_env,
        archive_dir=t.get("archive_dir", str),
        after_fetch=t.choice("after_fetch", AFTER_FETCH, "archive"),
        readiness=t.readiness(),
        **extra,
    )


def _passphrase(t: _Table) -> tuple[Path | None, str | None]:
    """The key's passphrase as a reference: ``passphrase = "file:PATH"`` or ``"env:NAME"``
    (or the older ``passphrase_file``/``passphrase_env``); a literal value is refused."""
    if "passphrase" not in t.table:
        return t.path("passphrase_file"), t.get("passphrase_env", str)
    reference: str = t.get("passphrase", str)
    kind, _, target = reference.partition(":")
    if kind not in ("file", "env") or not target or {"passphrase_file", "passphrase_env"} & set(
            t.table):
        raise t.fail("passphrase", "secrets are never written in the configuration: only a "
                     "file: or env: reference (and only one way of giving it)",
                     'write passphrase = "file:/etc/gateway/keys/NAME.pass" or "env:NAME" '
                     "(and put the passphrase there)")
    if kind == "env":
        return None, target
    return _Table({"passphrase": target}, t.where, t.base_dir).path("passphrase"), None


def source_from_config(
    table: Mapping[str, Any], *, partner: str, where: str = "", base_dir: Path | None = None
) -> Source:
    """The Source a partner's inbound transport table describes (``type`` sftp or folder)."""
    kind = _kind(table, partner, where)
    if kind == "sftp":
        return SftpSource(sftp_settings(table, partner=partner, where=where, base_dir=base_dir))
    t = _Table(table, where or f"transport of {partner}", base_dir)
    t.check_keys(_FOLDER_KEYS)
    return FolderSource(
        t.path("path", required=True),  # type: ignore[arg-type]
        partner=partner,
        archive_dir=t.path("archive_dir"),
        after_fetch=t.choice("after_fetch", AFTER_FETCH, "archive"),
        readiness=t.readiness(),
    )


def sink_from_config(
    table: Mapping[str, Any], *, partner: str, where: str = "", base_dir: Path | None = None
) -> Sink:
    """The Sink a partner's or pharmacy's outbound transport table describes."""
    kind = _kind(table, partner, where)
    if kind == "sftp":
        return SftpSink(sftp_settings(table, partner=partner, where=where, base_dir=base_dir))
    t = _Table(table, where or f"transport of {partner}", base_dir)
    t.check_keys({"type", "path", "mode"})
    return FolderSink(t.path("path", required=True),  # type: ignore[arg-type]
                      mode=_mode(t, LOCAL_DELIVERY_MODE))


def _mode(t: _Table, default: int) -> int:
    """A delivered file's mode, written as an octal string (``mode = "0640"``): exactly
    this, whatever the umask. Never world-readable: remittances are payment data."""
    text: str = t.get("mode", str, f"{default:04o}")
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o770 or mode & 0o007:
        raise t.fail("mode", f"{text!r} is not an octal file mode without bits for others",
                     'write e.g. mode = "0640" (owner rw, group r) or "0600"')
    return mode


def _kind(table: Mapping[str, Any], partner: str, where: str) -> str:
    t = _Table(table, where or f"transport of {partner}", None)
    return t.choice("type", ("sftp", "folder"), "") if "type" in table else _missing_type(t)


def _missing_type(t: _Table) -> str:
    raise t.fail("type", "missing", 'add type = "sftp" or type = "folder"')
