"""Fixtures of the outbound email tests: a real aiosmtpd sink on a free port of 127.0.0.1 in the
test's event loop that records what it accepts and can be told to fail, stop and start."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from deskql import models
from deskql.models.enums import Channel
from deskql.services import outbox
from deskql.services.tickets import create_ticket
from deskql.settings import Settings


@dataclass
class Received:
    """One accepted message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Sink:
    """An SMTP server that records messages; `answers` are DATA replies used before 250."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    rcpt_answer: str | None = None
    credentials: tuple[str, str] | None = None
    tls: ssl.SSLContext | None = None  # implicit TLS (an SSL port)
    server: asyncio.AbstractServer | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.answers:
            return self.answers.pop(0)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 Message accepted"

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        ok = (
            isinstance(data, LoginPassword)
            and self.credentials is not None
            and (data.login.decode(), data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok, handled=False)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def factory() -> SMTP:
            kwargs: dict[str, Any] = {}
            if self.credentials is not None:
                kwargs = {"authenticator": self._auth, "auth_require_tls": False}
            return SMTP(self, hostname="sink.test", **kwargs)

        self.server = await loop.create_server(factory, self.host, self.port, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


def self_signed(tmp: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sink.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "sink.crt", tmp / "sink.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[Sink]:
    s = Sink()
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


def relay_settings(settings: Settings, sink: Sink, **overrides: Any) -> Settings:
    """Settings whose relay is the sink, with short timeouts and backoff for tests."""
    values: dict[str, Any] = {
        "relay_host": sink.host,
        "relay_port": sink.port,
        "relay_security": "PLAIN",
        "relay_timeout_seconds": 2,
        "relay_verify_certificates": False,
        "outbox_backoff_ms": 1,
        "outbox_max_attempts": 4,
        "public_base_url": "http://desk.test",
    }
    values.update(overrides)
    return replace(settings, **values)


async def email_ticket(world: Any) -> models.Ticket:
    """Ticket #1 from melissa@example.com in Support, with her first mail as a thread."""
    ticket = await create_ticket(
        None,
        subject="Printer jam",
        department_id=world.support.id,
        contact_id=world.contact.id,
        channel=Channel.EMAIL,
    )
    await models.Thread.create(
        ticket_id=ticket.id,
        direction="INCOMING",
        from_address="melissa@example.com",
        subject="Printer jam",
        body_text="It jams.",
        message_id="<orig-1@example.com>",
        author_contact_id=world.contact.id,
    )
    return ticket


async def make_due() -> None:
    """Let the backoff time of every queued row pass (the tests do not wait for the clock)."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await models.OutboxMessage.filter(status="QUEUED").update(next_attempt_at=past)


async def deliver_all(settings: Settings, rounds: int = 10) -> None:
    """Run worker passes, each after the backoff has passed, until nothing is left to try."""
    for _ in range(rounds):
        await make_due()
        if not await outbox.run_once(settings):
            return
