"""The ``[alerts]`` section of ``gateway.toml``: which rules, how often, which channels.

    [alerts]
    check_seconds = 15          # how often the conditions are evaluated
    unreachable_polls = 3       # partner-unreachable after this many failed polls in a row
    max_per_hour = 20           # per channel; past it, what is pending goes out as one digest
    rules = ["sla-missed", "file-quarantined"]   # default: every rule
    instance = "gateway-east"   # names this installation in messages (default: the host)

    [alerts.mail]               # SMTP, STARTTLS by default
    host = "smtp.example.org"
    port = 587
    tls = "starttls"            # or "tls" (implicit, port 465); "none" only to a loopback relay
    ca_file = "/etc/gateway/smtp-ca.pem"      # optional: else the system's trust store
    user = "gateway"                           # optional
    password = "file:/etc/gateway/smtp-password"   # or "env:SMTP_PASSWORD"; never inline
    from = "gateway@example.org"
    to = ["edi-ops@example.org"]

    [alerts.webhook]            # JSON POST with a "text" field: Slack and Teams read it
    url = "env:ALERT_WEBHOOK_URL"   # a Slack/Teams URL is a credential: file: or env:
    ca_file = "..."                 # optional

Secrets are references (``file:PATH`` or ``env:NAME``), checked here and read when a message
is sent, so a rotated password needs no restart and never sits in the configuration.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config.secrets import Secret, secret_reference
from gateway.config.toml_reader import TomlReader
from gateway.errors import ConfigError

RULES = ("sla-missed", "file-quarantined", "part-held", "dead-letter", "processing-failed",
         "partner-unreachable", "reload-refused")
TLS_MODES = ("starttls", "tls", "none")

@dataclass(frozen=True)
class MailChannel:
    host: str
    port: int
    tls: str  # starttls | tls | none
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: Secret | None = None
    ca_file: Path | None = None
    timeout: float = 15.0


@dataclass(frozen=True)
class WebhookChannel:
    url: str | Secret
    ca_file: Path | None = None
    timeout: float = 15.0


@dataclass(frozen=True)
class AlertSettings:
    check_seconds: int = 15
    unreachable_polls: int = 3
    max_per_hour: int = 20
    rules: frozenset[str] = frozenset(RULES)
    instance: str = field(default_factory=socket.gethostname)
    mail: MailChannel | None = None
    webhook: WebhookChannel | None = None

    @property
    def channels(self) -> dict[str, MailChannel | WebhookChannel]:
        """The configured channels by name ("mail", "webhook")."""
        found = {"mail": self.mail, "webhook": self.webhook}
        return {name: channel for name, channel in found.items() if channel is not None}


class AlertsReader(TomlReader):
    """Validates ``[alerts]`` and its channel tables of one gateway.toml."""

    def settings(self) -> AlertSettings:
        t = self._table("alerts")
        self._known(t, "alerts", {"check_seconds", "unreachable_polls", "max_per_hour", "rules",
                                  "instance", "mail", "webhook"})
        return AlertSettings(
            check_seconds=self._int(t, "alerts", "check_seconds", 15, low=1, high=3600),
            unreachable_polls=self._int(t, "alerts", "unreachable_polls", 3, low=1, high=1000),
            max_per_hour=self._int(t, "alerts", "max_per_hour", 20, low=1, high=10_000),
            rules=self._rules(t),
            instance=self._str(t, "alerts", "instance", socket.gethostname()),
            mail=self._mail(self._table("alerts.mail", t)) if "mail" in t else None,
            webhook=self._webhook(self._table("alerts.webhook", t)) if "webhook" in t else None,
        )

    def _rules(self, t: dict[str, Any]) -> frozenset[str]:
        rules = t.get("rules", list(RULES))
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            self._fail("alerts", "rules", "must be a list of rule names",
                       f'write e.g. rules = ["{RULES[0]}", "{RULES[1]}"]')
        unknown = sorted(set(rules) - set(RULES))
        if unknown:
            self._fail("alerts", "rules", f"unknown rule(s) {', '.join(unknown)}",
                       "use any of " + ", ".join(RULES))
        return frozenset(rules)

    def _mail(self, t: dict[str, Any]) -> MailChannel:
        name = "alerts.mail"
        self._known(t, name, {"host", "port", "tls", "ca_file", "user", "password", "from", "to",
                              "timeout"})
        host = self._required(t, name, "host", 'write host = "smtp.example.org"')
        tls = self._str(t, name, "tls", "starttls")
        if tls not in TLS_MODES:
            self._fail(name, "tls", f"unknown mode {tls!r}", "use starttls, tls or none")
        if tls == "none" and not _loopback(host):
            self._fail(name, "tls", f"plain SMTP to {host} would send alerts unencrypted",
                       'use tls = "starttls" (or "none" only with a relay on 127.0.0.1)')
        to = t.get("to")
        if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a
                                                          for a in to):
            self._fail(name, "to", "must be a non-empty list of e-mail addresses",
                       'write to = ["edi-ops@example.org"]')
        user = self._str(t, name, "user", "") or None
        password = self._secret(t, name, "password") if "password" in t else None
        if user and password is None:
            self._fail(name, "password", "a user is set but no password",
                       'add password = "file:/etc/gateway/smtp-password" (or "env:NAME")')
        port = self._int(t, name, "port", 465 if tls == "tls" else 587, low=1, high=65535)
        return MailChannel(
            host=host, port=port, tls=tls,
            sender=self._required(t, name, "from", 'write from = "gateway@example.org"'),
            recipients=tuple(to), user=user, password=password, ca_file=self._ca(t, name),
            timeout=float(self._int(t, name, "timeout", 15, low=1, high=300)),
        )

    def _webhook(self, t: dict[str, Any]) -> WebhookChannel:
        name = "alerts.webhook"
        self._known(t, name, {"url", "ca_file", "timeout"})
        url = self._required(t, name, "url", 'write url = "env:ALERT_WEBHOOK_URL"')
        target: str | Secret = url
        if url.startswith(("file:", "env:")):
            target = self._secret(t, name, "url")
        elif not url.startswith(("https://", "http://")):
            self._fail(name, "url", f"{url!r} is not an http(s) URL nor a file:/env: reference",
                       'write url = "env:ALERT_WEBHOOK_URL" (the URL is a credential)')
        return WebhookChannel(target, ca_file=self._ca(t, name),
                              timeout=float(self._int(t, name, "timeout", 15, low=1, high=300)))

    def _secret(self, t: dict[str, Any], table: str, key: str) -> Secret:
        """A reference, checked now (the daemon should not learn at the first alert that
        the password file is missing)."""
        secret = secret_reference(self._str(t, table, key, ""), self.base)
        if secret is None:
            self._fail(table, key, "secrets are never written in the configuration",
                       f'write {key} = "file:/etc/gateway/{key}" or "env:NAME"')
        try:
            secret.read()
        except ConfigError as exc:
            self._fail(table, key, exc.what, exc.fix)
        return secret

    def _ca(self, t: dict[str, Any], table: str) -> Path | None:
        if not self._str(t, table, "ca_file", ""):
            return None
        path = self._path(t, table, "ca_file", "")
        if not path.is_file():
            self._fail(table, "ca_file", f"{path} does not exist",
                       "point it at the PEM file of the CA that signed the server's certificate")
        return path

    def _required(self, t: dict[str, Any], table: str, key: str, fix: str) -> str:
        value = self._str(t, table, key, "")
        if not value:
            self._fail(table, key, "is missing", fix)
        return value


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
