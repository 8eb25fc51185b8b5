"""Key-encryption keys (KEKs): what the operator keeps, apart from the data.

Each payload has its own random data key (stream.py); only that data key is encrypted under
a KEK ("wrapped": AES-256-GCM, random nonce, the payload's SHA-256 and blob id as associated
data, so a wrapped key moved to another payload fails). Rotating a KEK therefore re-wraps
32-byte keys, never the payload bodies.

A KEK is 32 random bytes written as base64 (``gateway keys new PATH``), in a file of mode
0600 or an environment variable. Its **key id** is derived from it (an HMAC of a fixed label
under the key): stored with every wrapped key, printed by ``gateway keys status``, it says
which key a payload needs without revealing it, and a key file cannot carry a wrong id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.config.secrets import Secret
from gateway.config.settings import Settings
from gateway.errors import ConfigError, StoreError

KEY_BYTES = 32
_ID_LABEL = b"psao-gateway payload key id v1"
_WRAP_LABEL = b"psao-gateway data key v1|"


def key_id_of(key: bytes) -> str:
    return "kek-" + hmac.new(key, _ID_LABEL, hashlib.sha256).hexdigest()[:16]


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class Kek:
    key_id: str
    key: bytes = field(repr=False)

    @classmethod
    def of(cls, key: bytes) -> Kek:
        return cls(key_id_of(key), key)


def parse_key(text: str, where: str) -> Kek:
    """A KEK from its base64 text; ConfigError naming ``where`` when it is not 32 bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
        problem = "is not base64"
    else:
        problem = f"decodes to {len(raw)} bytes"
    if len(raw) != KEY_BYTES:
        raise ConfigError(f"the payload key {problem}; a key is {KEY_BYTES} random bytes in "
                          "base64 (44 characters)", where=where,
                          fix="make one with `gateway keys new PATH` and point key = "
                          '"file:PATH" at it (or put its text in the env: variable)')
    return Kek.of(raw)


def read_kek(secret: Secret, where: str) -> Kek:
    """Read and check a key reference: a file must be private (0600 or stricter)."""
    kind, _, target = secret.reference.partition(":")
    if kind == "file":
        path = Path(target)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            raise ConfigError(f"the payload key file {path} does not exist", where=where,
                              fix=f"restore it from the key backup, or make a new key with "
                              f"`gateway keys new {path}` (only for a store with no payload "
                              "under the old one)") from None
        if mode & 0o077:
            raise ConfigError(f"the payload key file {path} is mode {mode:04o}: others may "
                              "read it", where=where, fix=f"chmod 600 {path}")
    try:
        text = secret.read()
    except ConfigError as exc:
        raise ConfigError(exc.what, where=where, fix=exc.fix) from None
    return parse_key(text, f"{where} ({secret.reference})")


class Keyring:
    """The KEKs a store may use: ``current`` wraps new data keys (None: payloads are written
    in plaintext, by explicit choice), every one in ``known`` unwraps."""

    def __init__(self, current: Kek | None, previous: Iterable[Kek] = ()) -> None:
        self.current = current
        known = [*([current] if current else []), *previous]
        self.known: Mapping[str, Kek] = {kek.key_id: kek for kek in known}

    def __repr__(self) -> str:
        return f"Keyring(current={self.current and self.current.key_id}, known={list(self.known)})"

    def wrap(self, data_key: bytes, sha256: str, blob_id: bytes) -> tuple[str, bytes]:
        """The data key under the current KEK: (key id, nonce | ciphertext | tag)."""
        assert self.current is not None
        return self.current.key_id, wrap_with(self.current, data_key, sha256, blob_id)

    def unwrap(self, key_id: str, wrapped: bytes, sha256: str, blob_id: bytes) -> bytes:
        kek = self.known.get(key_id)
        if kek is None:
            have = ", ".join(self.known) or "none"
            raise StoreError(
                f"payload {sha256} is encrypted under key id {key_id}, which is not a "
                f"configured key (configured: {have})", where="[encryption] in gateway.toml",
                fix=f"point key or previous_keys at the key file whose id is {key_id} "
                "(`gateway keys id FILE` prints a file's id); pass --config so the key is used")
        try:
            return AESGCM(kek.key).decrypt(wrapped[:12], wrapped[12:],
                                            _WRAP_LABEL + sha256.encode() + blob_id)
        except InvalidTag:
            raise StoreError(
                f"the data key of payload {sha256} (key id {key_id}) failed authentication: "
                "its envelope was altered or belongs to another payload",
                fix="restore the database from backup") from None


def wrap_with(kek: Kek, data_key: bytes, sha256: str, blob_id: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(kek.key).encrypt(nonce, data_key, _WRAP_LABEL + sha256.encode()
                                           + blob_id)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def write_key_file(path: Path) -> Kek:
    """A new KEK in a new file, mode 0600 from the start (never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = new_key_text()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (text + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return parse_key(text, str(path))


def load_keyring(settings: Settings) -> Keyring | None:
    """The keys ``[encryption]`` names, read and checked: None without the section (payloads
    in plaintext, as before encryption existed); with ``payloads = "off"`` no current key
    (plaintext by choice) but any key given still reads what was sealed."""
    enc = settings.encryption
    if enc.mode == "unset":
        return None
    where = f"{settings.path}: [encryption]"
    key = read_kek(enc.key, f"{where} key") if enc.key is not None else None
    previous = [read_kek(s, f"{where} previous_keys") for s in enc.previous]
    if not enc.on:
        return Keyring(None, [*([key] if key else []), *previous])
    return Keyring(key, previous)
