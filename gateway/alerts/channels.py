"""The channels an alert goes out on: e-mail over SMTP, and a webhook (JSON POST).

smtplib and httpx rather than apprise: the gateway needs exactly two channels, each with
things apprise does not let us set — the CA file that verifies a PSAO's internal mail relay
on STARTTLS, a webhook body that is both Slack/Teams-readable and a structured record, a
timeout on every network call — and a failure must come back to us as an exception to be
retried, not a boolean. Both fit in a few lines each with the standard library and httpx.

A channel either sends or raises :class:`ChannelError` (what failed, where, the fix).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx

from gateway.alerts.messages import body, headline, webhook_payload
from gateway.config.alerting import MailChannel, WebhookChannel
from gateway.config.secrets import Secret
from gateway.errors import GatewayError
from gateway.store.alerts import Notice


class ChannelError(GatewayError):
    """An alert could not be handed to its channel; the notice is retried later."""


class Channel(Protocol):
    name: str

    def send(self, notices: Sequence[Notice], instance: str) -> None: ...


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates are verified, against ``ca_file`` when given, else the system's store."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class Mail:
    """SMTP submission: STARTTLS (default), implicit TLS, or plain to a loopback relay."""

    name = "mail"

    def __init__(self, settings: MailChannel) -> None:
        self.settings = settings

    def send(self, notices: Sequence[Notice], instance: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["Subject"] = headline(notices, instance)
        message["From"] = s.sender
        message["To"] = ", ".join(s.recipients)
        message.set_content(body(notices, instance))
        where = f"smtp://{s.host}:{s.port} ({s.tls})"
        try:
            with self._connect() as smtp:
                if s.user and s.password:
                    smtp.login(s.user, s.password.read())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise ChannelError(f"mail not sent: {type(exc).__name__}: {exc}", where=where,
                               fix="check [alerts.mail] and that the relay answers; the alert "
                               "is retried") from exc

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                    context=tls_context(s.ca_file))
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.tls == "starttls":
                smtp.starttls(context=tls_context(s.ca_file))
        except BaseException:
            smtp.close()
            raise
        return smtp


class Webhook:
    """A JSON POST; any 2xx answer is success."""

    name = "webhook"

    def __init__(self, settings: WebhookChannel) -> None:
        self.settings = settings

    def send(self, notices: Sequence[Notice], instance: str) -> None:
        s = self.settings
        url = s.url.read() if isinstance(s.url, Secret) else s.url
        where = "[alerts.webhook] url"  # the URL itself is a credential: never in a message
        try:
            answer = httpx.post(url, json=webhook_payload(notices, instance), timeout=s.timeout,
                                verify=tls_context(s.ca_file), follow_redirects=False)
        except httpx.HTTPError as exc:
            raise ChannelError(f"webhook not called: {type(exc).__name__}", where=where,
                               fix="check the URL and that the service answers; the alert "
                               "is retried") from exc
        if not answer.is_success:
            raise ChannelError(f"webhook answered HTTP {answer.status_code}", where=where,
                               fix="check the URL (a revoked Slack/Teams hook answers 403/404)")


def channels_of(mail: MailChannel | None, webhook: WebhookChannel | None) -> list[Channel]:
    found: list[Channel] = []
    if mail is not None:
        found.append(Mail(mail))
    if webhook is not None:
        found.append(Webhook(webhook))
    return found
