"""Console accounts: ``gateway users add|passwd|disable|enable|list`` and the console's login.

Passwords are kept only as argon2id hashes (argon2-cffi's defaults, which follow RFC 9106's
second recommended option); a hash made with weaker parameters is upgraded at the next
login. A login for an unknown or disabled user still computes a hash, so timing does not
tell which names exist. Every change is an audit event naming who made it.
"""

from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.errors import ConfigError
from gateway.store.base import MessageStore
from gateway.store.operator_models import Role, User

MIN_PASSWORD = 12
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user is unknown. Made on first use, not at import:
    one argon2 hash costs 64 MiB and ~0.2 s, which every CLI command would otherwise pay."""
    return _HASHER.hash("not a password of anyone")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{name!r} is not a valid user name",
                          fix="use 1-64 lower-case letters, digits, '.', '_' or '-'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password has {len(password)} characters",
                          fix=f"use at least {MIN_PASSWORD} (a passphrase of a few words)")
    return password


class Accounts:
    """Accounts kept in the message store; ``actor`` is who is making the changes."""

    def __init__(self, store: MessageStore, *, actor: str) -> None:
        self.store = store
        self.actor = actor

    def add(self, name: str, password: str, role: Role) -> User:
        hashed = _HASHER.hash(check_password(password))
        return self.store.add_user(check_name(name), hashed, role, actor=self.actor)

    def passwd(self, name: str, password: str) -> User:
        hashed = _HASHER.hash(check_password(password))
        return self.store.update_user(name, actor=self.actor, password_hash=hashed)

    def set_role(self, name: str, role: Role) -> User:
        return self.store.update_user(name, actor=self.actor, role=role)

    def disable(self, name: str) -> User:
        """The user can no longer sign in; their open sessions end now."""
        return self.store.update_user(name, actor=self.actor, disabled=True)

    def enable(self, name: str) -> User:
        return self.store.update_user(name, actor=self.actor, disabled=False)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password is theirs and the account is enabled, else None."""
        user = self.store.get_user(name)
        try:
            _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled:
            return None
        if _HASHER.check_needs_rehash(user.password_hash):
            self.store.update_user(name, actor=f"console:{name}",
                                   password_hash=_HASHER.hash(password))
        return user
