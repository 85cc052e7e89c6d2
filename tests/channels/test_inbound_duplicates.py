"""The database-level duplicate guard: every thread made from an inbound message carries the
unique `inbound_key` (sha256 of its normalised Message-ID), so the same message delivered twice,
to one process or to two at once, makes one thread and one ticket; the later delivery's whole
transaction rolls back and it is kept IGNORED with the reason."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
from typing import Any

import pytest
from tortoise.connection import get_connection

from deskql import models
from deskql.models.enums import InboundStatus, TicketStatus
from deskql.services import mail_inbound, threads
from deskql.services.mail_inbound import process as inbound_process
from deskql.settings import Settings
from tests.channels.conftest import (
    CORPUS,
    SUPPORT,
    Mailer,
    closed_ticket,
    deliver,
    in_client_thread,
    start_mailer,
)


def message(
    mid: str = "<dup-1@example.com>",
    sender: str = "Melissa Doe <melissa@example.com>",
    subject: str = "Printer on fire",
    extra: str = "",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nIt is on fire.\r\n"
    ).encode()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_key_is_the_sha256_of_the_normalised_message_id() -> None:
    key = threads.inbound_key("<AbC.1@example.com>")
    assert key == sha("<AbC.1@example.com>")
    # The domain is case-insensitive; surrounding text and whitespace do not count.
    assert threads.inbound_key("  <AbC.1@Example.COM> (comment)") == key
    # The local part is case-sensitive (RFC 5322): another message.
    assert threads.inbound_key("<abc.1@example.com>") != key
    assert threads.inbound_key(None) is None
    assert threads.inbound_key("") is None
    assert threads.inbound_key("no angle brackets") is None


async def test_new_ticket_reply_and_bounce_threads_carry_the_key(
    mailer: Mailer, world: Any
) -> None:
    ticket = await closed_ticket(world)
    await mailer.send(message("<first@Example.com>"))
    await mailer.send((CORPUS / "reply_in_reply_to.eml").read_bytes())
    await mailer.send((CORPUS / "bounce_dsn.eml").read_bytes())
    rows = await models.InboundMessage.all().order_by("id")
    assert [r.status for r in rows] == [InboundStatus.PROCESSED] * 3
    keys = [(await models.Thread.get(id=r.thread_id)).inbound_key for r in rows]  # type: ignore[attr-defined]
    assert keys == [
        sha("<first@example.com>"),
        sha("<reply_in_reply_to@example.com>"),
        sha("<bounce-1@mx.example.com>"),
    ]
    assert [r.ticket_id for r in rows[1:]] == [ticket.id, ticket.id]  # type: ignore[attr-defined]
    # Threads that came from no inbound message (ours, outgoing) have none.
    assert await models.Thread.filter(inbound_key__isnull=True).count() == 2


async def test_a_duplicate_writes_nothing_and_is_kept_ignored_with_the_reason(
    mailer: Mailer,
) -> None:
    assert (await mailer.send(message())).code == 250
    first = await models.InboundMessage.get()
    activities = await models.Activity.all().count()
    contacts = await models.Contact.all().count()
    events = len(mailer.events)

    # The same Message-ID (domain in other case) from a new sender with another subject: the
    # work it did (a new contact, a ticket number, a ticket, a thread, history) rolls back.
    again = message("<dup-1@EXAMPLE.com>", "Someone Else <else@example.org>", "Other")
    assert (await mailer.send(again)).code == 250
    second = await models.InboundMessage.exclude(id=first.id).get()
    assert second.status is InboundStatus.IGNORED
    assert second.reason == (
        f"duplicate Message-ID <dup-1@EXAMPLE.com>: already thread {first.thread_id} of ticket #1"  # type: ignore[attr-defined]
    )
    assert second.ticket_id == first.ticket_id  # type: ignore[attr-defined]
    assert second.thread_id == first.thread_id  # type: ignore[attr-defined]
    assert second.attempts == 1
    assert await models.Ticket.all().count() == 1
    assert await models.Thread.all().count() == 1
    assert await models.Contact.all().count() == contacts
    assert not await models.Contact.exists(email="else@example.org")
    assert await models.Activity.all().count() == activities
    assert (await models.Organisation.get()).ticket_seq == 1  # no number used up
    assert len(mailer.events) == events  # nothing announced for the duplicate
    # Kept as received: the raw message of the duplicate is still there.
    assert mail_inbound.raw_path(mailer.settings, second).read_bytes() == again


async def test_a_duplicate_reply_does_not_reopen_or_add_a_thread_twice(
    mailer: Mailer, world: Any
) -> None:
    ticket = await closed_ticket(world)
    raw = (CORPUS / "reply_in_reply_to.eml").read_bytes()
    await mailer.send(raw)
    await models.Ticket.filter(id=ticket.id).update(status=TicketStatus.CLOSED)
    updates = await models.Activity.filter(kind="ticket.updated").count()
    await mailer.send(raw)
    statuses = [r.status for r in await models.InboundMessage.all().order_by("id")]
    assert statuses == [InboundStatus.PROCESSED, InboundStatus.IGNORED]
    assert await models.Thread.filter(ticket_id=ticket.id).count() == 3  # 2 + the one reply
    # The duplicate's reopening rolled back with the rest of its transaction.
    assert (await models.Ticket.get(id=ticket.id)).status is TicketStatus.CLOSED
    assert await models.Activity.filter(kind="ticket.updated").count() == updates


async def test_a_message_stored_before_0004_is_a_duplicate_once_0005_gave_its_thread_the_key(
    mailer: Mailer, world: Any
) -> None:
    """Threads stored before 0004 had no key, so the unique key let a re-delivery of their
    message through; migration 0005 gives them theirs."""
    ticket = await closed_ticket(world)  # its first mail <orig-1@example.com>: no key
    old = await models.Thread.get(ticket_id=ticket.id, message_id="<orig-1@example.com>")
    assert old.inbound_key is None
    backfill = importlib.import_module("deskql.migrations.0005_backfill_inbound_key")
    assert await backfill.backfill_inbound_keys(models.Thread, get_connection("default")) == 1
    assert (await models.Thread.get(id=old.id)).inbound_key == sha("<orig-1@example.com>")
    activities = await models.Activity.all().count()

    raw = message("<orig-1@EXAMPLE.com>", subject="Printer jam")
    assert (await mailer.send(raw)).code == 250
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.IGNORED
    assert row.reason == (
        f"duplicate Message-ID <orig-1@EXAMPLE.com>: already thread {old.id} of ticket #1"
    )
    assert row.thread_id == old.id  # type: ignore[attr-defined]
    assert await models.Ticket.all().count() == 1
    assert await models.Thread.all().count() == 2  # the old mail and our reply
    assert (await models.Ticket.get(id=ticket.id)).status is TicketStatus.CLOSED
    assert await models.Activity.all().count() == activities
    assert mailer.events == []


async def _two_servers(settings: Settings, raw: bytes, copies: int) -> list[Mailer]:
    """Deliver `copies` of one message to each of two SMTP servers at once."""
    a = await start_mailer(settings, workers=4)
    b = await start_mailer(settings, workers=4)
    try:
        replies = await asyncio.gather(
            *(in_client_thread(deliver, m.port, raw) for m in (a, b) for _ in range(copies))
        )
        await asyncio.gather(a.service.processor.drain(), b.service.processor.drain())
    finally:
        await a.service.stop()
        await b.service.stop()
    assert [r.code for r in replies] == [250] * (2 * copies)
    return [a, b]


async def test_one_message_to_two_smtp_servers_at_once_makes_one_ticket(
    world: Any, settings: Settings
) -> None:
    raw = message("<race-1@example.com>", "Newcomer <new@example.net>")
    a, b = await _two_servers(settings, raw, copies=4)
    rows = await models.InboundMessage.all()
    assert sorted(r.status.value for r in rows) == ["IGNORED"] * 7 + ["PROCESSED"]
    assert all(
        r.reason.startswith("duplicate Message-ID <race-1@example.com>: already thread")
        for r in rows
        if r.status is InboundStatus.IGNORED
    )
    assert await models.Ticket.all().count() == 1
    assert await models.Thread.all().count() == 1
    ticket = await models.Ticket.get()
    assert {r.ticket_id for r in rows} == {ticket.id}  # type: ignore[attr-defined]
    assert await models.Contact.filter(email="new@example.net").count() == 1
    assert await models.Activity.filter(kind="ticket.created").count() == 1
    assert await models.Activity.filter(kind="ticket.thread_added").count() == 1
    assert (await models.Organisation.get()).ticket_seq == 1
    assert ticket.number == 1
    assert len(a.events) + len(b.events) == 1  # one ticket announced, once


async def test_one_reply_to_two_smtp_servers_at_once_makes_one_thread(
    world: Any, settings: Settings
) -> None:
    ticket = await closed_ticket(world)
    raw = (CORPUS / "reply_in_reply_to.eml").read_bytes()
    await _two_servers(settings, raw, copies=3)
    statuses = sorted(r.status.value for r in await models.InboundMessage.all())
    assert statuses == ["IGNORED"] * 5 + ["PROCESSED"]
    assert await models.Thread.filter(ticket_id=ticket.id).count() == 3
    assert await models.Activity.filter(kind="ticket.thread_added").count() == 1
    reopened = await models.Activity.filter(kind="ticket.updated", ticket_id=ticket.id).count()
    assert reopened == 1
    assert (await models.Ticket.get(id=ticket.id)).status is TicketStatus.OPEN


async def test_two_processors_in_open_transactions_at_once_make_one_thread(
    world: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both deliveries of one reply find their ticket before either locks it: on PostgreSQL
    the transactions really overlap (on SQLite the process's one connection runs them one after
    the other). The second waits for the ticket's row lock (taken to follow merges, TIC-5) and
    then inserts its thread after the first committed: no duplicate check runs before the
    insert, so only the unique key can refuse it."""
    ticket = await closed_ticket(world)
    await models.Ticket.filter(id=ticket.id).update(status=TicketStatus.OPEN)
    raw = (CORPUS / "reply_in_reply_to.eml").read_bytes()
    rows = [
        await mail_inbound.store_message(settings, raw=raw, mail_from="", rcpt_tos=[SUPPORT])
        for _ in range(2)
    ]
    barrier = asyncio.Barrier(2)
    met: list[bool] = []
    original = inbound_process.follow_merges

    async def meet_then_lock(ticket: models.Ticket, **kwargs: Any) -> models.Ticket:
        try:
            await asyncio.wait_for(barrier.wait(), timeout=2.0)
            met.append(True)
        except TimeoutError:  # SQLite: the other transaction waits for this one
            met.append(False)
        return await original(ticket, **kwargs)

    monkeypatch.setattr(inbound_process, "follow_merges", meet_then_lock)
    done = await asyncio.gather(
        *(mail_inbound.process_message(settings, inbound_id=r.id) for r in rows)
    )
    if not settings.is_embedded_db:
        assert met == [True, True]  # the race really happened
    assert sorted(r.status.value for r in done) == ["IGNORED", "PROCESSED"]
    assert await models.Thread.filter(ticket_id=ticket.id).count() == 3
    assert await models.Activity.filter(kind="ticket.thread_added").count() == 1


async def test_administrators_see_the_duplicate_and_reprocessing_keeps_one_thread(
    mailer: Mailer, gql: Any, world: Any
) -> None:
    from tests.channels.test_email_graphql import INBOUND, REPROCESS

    admin = gql.as_(world.admin_token)
    await mailer.send(message())
    await mailer.send(message())
    ignored = (await admin(INBOUND, {"status": "IGNORED"})).data["inboundMessages"]
    assert ignored["totalCount"] == 1
    node = ignored["nodes"][0]
    assert node["reason"].startswith("duplicate Message-ID <dup-1@example.com>: already thread")
    assert node["ticket"] == {"number": 1}
    # Reprocessing the duplicate decides the same way and writes nothing new.
    again = (await admin(REPROCESS, {"input": {"id": node["id"]}})).data
    result = again["inboundMessageReprocess"]
    assert result["errors"] == []
    assert result["inboundMessage"]["status"] == "IGNORED"
    assert result["inboundMessage"]["attempts"] == 2
    assert await models.Thread.all().count() == 1
    assert await models.Ticket.all().count() == 1
