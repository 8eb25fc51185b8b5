"""Real receivers for the alert tests: an SMTP server (aiosmtpd) that insists on STARTTLS and
AUTH, with a certificate made here by a test CA, and an HTTP server that keeps the JSON it is
POSTed. Both listen on loopback only."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SMTP_USER, SMTP_PASSWORD = "gateway", "test-smtp-password"


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) for 127.0.0.1, valid one day."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName(
                  [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class Received:
    message: Message
    tls: bool
    authenticated: bool

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.as_string()

    @property
    def body(self) -> str:
        return self.message.get_content()  # type: ignore[attr-defined]


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(Received(message_from_bytes(envelope.content, policy=policy.default),
                                      tls=session.ssl is not None,
                                      authenticated=bool(session.authenticated)))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok)


class SmtpServer:
    """aiosmtpd on 127.0.0.1:``port``: STARTTLS required before anything, then AUTH."""

    def __init__(self, certificates: tuple[Path, Path, Path], port: int) -> None:
        _, cert, key = certificates
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.handler = _Handler()
        self.port = port
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=port, tls_context=context,
            require_starttls=True, authenticator=_authenticate, auth_required=True,
        )

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[Received]:
        return list(self.handler.received)


class WebhookServer:
    """Keeps every JSON body POSTed to it; answers 200."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def alerts_toml(smtp: SmtpServer, ca: Path, webhook: WebhookServer, **extra: object) -> str:
    """An ``[alerts]`` section sending to both test servers."""
    settings = {"check_seconds": 1, "instance": "test-gateway", **extra}
    lines = ["[alerts]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    lines += ["[alerts.mail]", 'host = "127.0.0.1"', f"port = {smtp.port}", 'tls = "starttls"',
              f'ca_file = "{ca}"', f'user = "{SMTP_USER}"', 'password = "env:TEST_SMTP_PASSWORD"',
              'from = "gateway@example.test"', 'to = ["edi-ops@example.test"]',
              "[alerts.webhook]", f'url = "{webhook.url}"']
    return "\n".join(lines) + "\n"
