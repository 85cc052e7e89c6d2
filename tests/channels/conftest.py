"""Fixtures of the email channel tests: the SMTP server on a free port of 127.0.0.1 inside the
test's event loop, a blocking smtplib client run in a thread, and a ticket to reply to."""

from __future__ import annotations

import asyncio
import functools
import smtplib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest_asyncio

from deskql import models
from deskql.channels.email.server import SMTPService
from deskql.models.enums import Channel, ThreadDirection, TicketStatus
from deskql.services import support_addresses
from deskql.services.tickets import create_ticket
from deskql.settings import Settings

CORPUS = Path(__file__).parent / "corpus"
SUPPORT = "support@zylker.deskql.local"


@dataclass
class SMTPReply:
    """What the server answered at each step of one delivery."""

    mail: tuple[int, bytes]
    rcpt: list[tuple[int, bytes]]
    data: tuple[int, bytes] | None

    @property
    def code(self) -> int:
        """The final answer: DATA's, else the first refusal."""
        if self.data is not None:
            return self.data[0]
        refused = [c for c, _ in self.rcpt if c >= 400]
        return refused[0] if refused else self.mail[0]


def deliver(
    port: int,
    raw: bytes,
    *,
    mail_from: str = "melissa@example.com",
    rcpt: list[str] | None = None,
    login: tuple[str, str] | None = None,
) -> SMTPReply:
    """One SMTP transaction with smtplib (blocking: run it in a thread)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("tests.example")
        if login is not None:
            client.login(*login)
        mail = client.mail(mail_from)
        rcpts = [client.rcpt(r) for r in rcpt or [SUPPORT]]
        data = None
        if mail[0] == 250 and any(code == 250 for code, _ in rcpts):
            try:
                data = client.data(raw)
            except smtplib.SMTPDataError as exc:
                data = (exc.smtp_code, exc.smtp_error)
        else:
            client.rset()
        return SMTPReply(mail, rcpts, data)


# Blocking smtplib clients get their own threads: on the loop's default executor they could
# take every thread while the server waits for one to store a message.
_CLIENTS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="smtp-client")


async def in_client_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking SMTP client call off the event loop, on the clients' own threads."""
    return await asyncio.get_running_loop().run_in_executor(
        _CLIENTS, functools.partial(fn, *args, **kwargs)
    )


@dataclass
class Mailer:
    """The running SMTP service and the messages it processed (as its observer saw them)."""

    service: SMTPService
    settings: Settings
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.service.port

    async def send(self, raw: bytes, **kwargs: Any) -> SMTPReply:
        """Deliver a message and wait until it is processed."""
        reply = await in_client_thread(deliver, self.port, raw, **kwargs)
        await self.service.processor.drain()
        return reply


async def start_mailer(settings: Settings, workers: int = 2, **overrides: Any) -> Mailer:
    """Start an SMTP service on a free port with these setting overrides."""
    events: list[dict[str, Any]] = []

    async def observe(event: dict[str, Any]) -> None:
        events.append(event)

    cfg = replace(settings, smtp_port=0, **overrides)
    service = SMTPService(cfg, on_processed=observe, workers=workers)
    await service.start()
    return Mailer(service, cfg, events)


@pytest_asyncio.fixture
async def mailer(world: Any, settings: Settings) -> AsyncIterator[Mailer]:
    m = await start_mailer(settings)
    try:
        yield m
    finally:
        await m.service.stop()


async def closed_ticket(world: Any) -> models.Ticket:
    """Ticket #1 from melissa@example.com in Support: her first mail <orig-1@example.com>,
    our reply <out-1@zylker.deskql.local>, then closed."""
    ticket = await create_ticket(
        None,
        subject="Printer jam",
        department_id=world.support.id,
        contact_id=world.contact.id,
        channel=Channel.EMAIL,
    )
    await models.Thread.create(
        ticket_id=ticket.id,
        direction=ThreadDirection.INCOMING,
        from_address="melissa@example.com",
        subject="Printer jam",
        body_text="It jams.",
        message_id="<orig-1@example.com>",
        author_contact_id=world.contact.id,
    )
    await models.Thread.create(
        ticket_id=ticket.id,
        direction=ThreadDirection.OUTGOING,
        from_address=SUPPORT,
        subject="Re: Printer jam [#1]",
        body_text="Try turning it off and on.",
        message_id="<out-1@zylker.deskql.local>",
        in_reply_to="<orig-1@example.com>",
    )
    await models.Ticket.filter(id=ticket.id).update(status=TicketStatus.CLOSED)
    return await models.Ticket.get(id=ticket.id)


async def default_address(settings: Settings) -> models.SupportAddress:
    return await support_addresses.ensure_default_address(settings)
