"""Secrets in the configuration are references, never values: ``file:PATH`` or ``env:NAME``.

One concept for every secret the gateway reads — the SMTP password, a webhook URL, the
payload encryption keys — so ``check`` says the same thing about each, and a rotated file
needs no edit of the configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import ConfigError


@dataclass(frozen=True)
class Secret:
    """A ``file:PATH`` or ``env:NAME`` reference, read at the moment it is needed."""

    reference: str

    def read(self) -> str:
        kind, _, target = self.reference.partition(":")
        if kind == "env":
            value = os.environ.get(target)
            if value is None:
                raise ConfigError(f"environment variable {target} is not set",
                                  fix=f"export {target} in the daemon's environment")
            return value
        try:
            return Path(target).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read {target} ({exc.strerror})",
                              fix="check the path and the daemon user's permissions") from exc


def secret_reference(text: str, base: Path) -> Secret | None:
    """``text`` as a reference (a relative ``file:`` path resolved against ``base``), or None
    when it is not one — the caller refuses it, naming its key."""
    kind, _, target = text.partition(":")
    if kind not in ("file", "env") or not target:
        return None
    if kind == "file":
        path = Path(target).expanduser()
        text = "file:" + str(path if path.is_absolute() else (base / path).resolve())
    return Secret(text)
