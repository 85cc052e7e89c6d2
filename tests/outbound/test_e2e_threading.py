"""End to end: a reply sent by the outbox worker (started as in the server's lifespan) reaches
the sink; the customer's answer to it, delivered to our inbound SMTP server, threads back into
the same ticket, by In-Reply-To or by the subject token alone."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import make_msgid

from deskql import models
from deskql.models.enums import ThreadDirection
from deskql.services import auth, outbox, replies
from deskql.settings import Settings
from tests.channels.conftest import SUPPORT, start_mailer
from tests.outbound.conftest import Sink, email_ticket, relay_settings


def answer(to_reply: EmailMessage, *, threading_headers: bool) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Melissa Doe <melissa@example.com>"
    msg["To"] = SUPPORT
    msg["Subject"] = "Re: " + str(to_reply["Subject"])
    msg["Message-ID"] = make_msgid(domain="example.com")
    if threading_headers:
        msg["In-Reply-To"] = to_reply["Message-ID"]
        msg["References"] = f"{to_reply['References']} {to_reply['Message-ID']}"
    msg.set_content("It works now, thanks!")
    return msg.as_bytes()


async def wait_for(sink: Sink, n: int) -> None:
    for _ in range(200):
        if len(sink.received) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(sink.received)} of {n} messages arrived")


async def test_customer_answer_threads_back(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink, outbox_interval_ms=50)
    worker = outbox.OutboxWorker(cfg)
    worker.start()
    mailer = await start_mailer(settings)
    try:
        ticket = await email_ticket(world)
        alice = await auth.load_actor(world.alice.id)
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Try this.")
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Or this.")
        await wait_for(sink, 2)  # the worker was woken by the commits
        first, second = (r.message for r in sink.received)

        reply = await mailer.send(answer(first, threading_headers=True))
        assert reply.code == 250
        reply = await mailer.send(answer(second, threading_headers=False))  # token only
        assert reply.code == 250

        assert await models.Ticket.all().count() == 1
        incoming = await models.Thread.filter(
            ticket_id=ticket.id, direction=ThreadDirection.INCOMING
        ).order_by("id")
        assert [t.body_text.strip() for t in incoming[1:]] == ["It works now, thanks!"] * 2
        assert incoming[1].in_reply_to == first["Message-ID"]

        # The auto-CC copy of our own reply reaching the support mailbox adds nothing.
        copy = next(r for r in sink.received if SUPPORT in r.rcpt_tos)
        before = await models.Thread.filter(ticket_id=ticket.id).count()
        await mailer.send(copy.raw, mail_from=copy.mail_from)
        assert await models.Thread.filter(ticket_id=ticket.id).count() == before
        assert await models.Ticket.all().count() == 1
    finally:
        await mailer.service.stop()
        await worker.stop()


async def test_server_lifespan_runs_the_worker(world, settings: Settings, sink: Sink):
    from deskql.server import create_app

    cfg = relay_settings(settings, sink, smtp_enabled=False, outbox_interval_ms=50)
    app = create_app(cfg, manage_db=False)
    async with app.router.lifespan_context(app):
        ticket = await email_ticket(world)
        alice = await auth.load_actor(world.alice.id)
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
        await wait_for(sink, 1)
    assert outbox._workers == []  # stopped with the app
    off = create_app(
        relay_settings(settings, sink, smtp_enabled=False, outbox_enabled=False), manage_db=False
    )
    async with off.router.lifespan_context(off):
        assert outbox._workers == []
