"""The ``[encryption]`` section of ``gateway.toml``: the payload archive encrypted at rest.

    [encryption]
    payloads = "on"                        # "off" keeps payloads in plaintext: say so explicitly
    key = "file:keys/payload.key"          # or "env:GATEWAY_PAYLOAD_KEY"; never the key itself
    previous_keys = ["file:keys/payload-2026.key"]   # during a rotation: read, never written

``gateway init`` writes it on, with a new key. The key is a reference like every secret
(gateway/config/secrets.py); it is read and checked (exists, mode 0600, 32 bytes) when the
store is opened and by ``gateway check``, not here, so a configuration can be loaded on a
host without the key (to edit it, to run ``gateway check`` and be told so). A file without
the section is a file from before encryption: the operator's commands still read its store,
but ``gateway run`` refuses to start and ``check`` fails until the section says "on" or, by an
explicit choice, "off" (docs/security.md, "Encryption at rest").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.config.secrets import Secret, secret_reference
from gateway.config.toml_reader import TomlReader
from gateway.errors import ConfigError

MODES = ("on", "off")


@dataclass(frozen=True)
class EncryptionSettings:
    """``mode`` "on", "off" (explicitly) or "unset" (no section: plaintext, warned)."""

    mode: str = "unset"
    key: Secret | None = None
    previous: tuple[Secret, ...] = ()

    @property
    def on(self) -> bool:
        return self.mode == "on"


def require_a_choice(settings: EncryptionSettings, path: Path) -> None:
    """Plaintext only by an explicit setting: the daemon (the one writer of payloads) refuses a
    configuration that never said whether claim files are encrypted at rest."""
    if settings.mode == "unset":
        raise ConfigError(
            "there is no [encryption] section: the daemon would keep claim files in plaintext",
            where=str(path),
            fix='make a key with `gateway keys new /etc/gateway/secrets/payload.key` and add '
                '[encryption] payloads = "on", key = "file:/etc/gateway/secrets/payload.key"; '
                'or write payloads = "off" to keep plaintext by choice (docs/security.md)')


class EncryptionReader(TomlReader):
    """Validates ``[encryption]``; every message names file, line, key and the fix."""

    def encryption(self) -> EncryptionSettings:
        if "encryption" not in self.raw:
            return EncryptionSettings()
        table = self._table("encryption")
        self._known(table, "encryption", {"payloads", "key", "previous_keys"})
        mode = self._str(table, "encryption", "payloads", "on")
        if mode not in MODES:
            self._fail("encryption", "payloads", f"must be \"on\" or \"off\", not {mode!r}",
                       'write payloads = "on" (and key = "file:PATH")')
        key = self._reference(table, "key", self._str(table, "encryption", "key", ""))
        if mode == "on" and key is None:
            self._fail("encryption", "key", "payload encryption is on but no key is given",
                       'write key = "file:/etc/gateway/secrets/payload.key" (make it with '
                       '`gateway keys new PATH`), or payloads = "off" to store plaintext')
        previous = table.get("previous_keys", [])
        if not isinstance(previous, list) or not all(isinstance(p, str) for p in previous):
            self._fail("encryption", "previous_keys", "must be a list of file:/env: references",
                       'write previous_keys = ["file:keys/payload-old.key"]')
        olds = tuple(self._reference(table, "previous_keys", text) for text in previous)
        return EncryptionSettings(mode, key, tuple(s for s in olds if s is not None))

    def _reference(self, table: dict[str, object], key: str, text: str) -> Secret | None:
        if not text:
            return None
        secret = secret_reference(text, self.base)
        if secret is None:
            self._fail("encryption", key, "keys are never written in the configuration: only "
                       "a file: or env: reference", f'write {key} = "file:PATH" or "env:NAME"')
        return secret
