"""What makes inbound mail cheap, and that it changes no outcome: the per-process snapshot of
support addresses, switches and blocklist (services.mail_directory), group commits of stored
rows and of processing, parsing in the parser process, and the statements a message costs."""

from __future__ import annotations

import asyncio
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from deskql import models
from deskql.db import count_statements as count_sql
from deskql.models.enums import InboundStatus, NotificationReason
from deskql.services import mail_directory, mail_inbound, support_addresses
from deskql.services.mail_inbound import parsing as inbound_parsing
from deskql.services.mail_inbound import settle as inbound_settle
from deskql.services.mail_inbound import store as inbound_store
from deskql.settings import Settings
from tests.channels.conftest import CORPUS, SUPPORT, Mailer, deliver, in_client_thread


def message(
    mid: str, sender: str = "Melissa Doe <melissa@example.com>", subject: str = "Hi"
) -> bytes:
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    ).encode()


async def store(settings: Settings, raw: bytes) -> models.InboundMessage:
    """Store one message for the support address, as the SMTP server does."""
    return await mail_inbound.store_message(settings, raw=raw, mail_from="", rcpt_tos=[SUPPORT])


# --- the snapshot -----------------------------------------------------------------------------


async def test_known_addresses_and_switches_cost_no_statement(mailer: Mailer, world: Any) -> None:
    await mail_directory.snapshot()
    with count_sql() as sql:
        found = await mail_directory.address(SUPPORT.upper())
        switches = await mail_directory.switches(world.support.id)
        blocked = await mail_directory.blocked_among(["x@example.com", "@example.com"])
        first = await mail_directory.default_department_id()
    assert sql.sql == []
    assert found is not None and found.email == SUPPORT and found.is_fetching
    assert switches.forwarded_on_behalf is True and switches.contact_from_reply_to is False
    assert blocked == set()
    assert first == world.sales.id


async def test_changes_through_services_are_seen_at_once(
    mailer: Mailer, gql: Any, world: Any
) -> None:
    from tests.channels.test_email_graphql import CREATE, SETTINGS_UPDATE, UPDATE
    from tests.conftest import gid

    admin = gql.as_(world.admin_token)
    await mailer.send(message("<a1@example.com>"))  # loads the snapshot
    created = (
        await admin(
            CREATE,
            {
                "input": {
                    "email": "sales@zylker.deskql.local",
                    "departmentId": gid("Department", world.support.id),
                    "isFetching": False,
                }
            },
        )
    ).data["supportAddressCreate"]
    assert created["errors"] == []
    await mailer.send(message("<a2@example.com>"), rcpt=["sales@zylker.deskql.local"])
    row = await models.InboundMessage.filter(message_id="<a2@example.com>").get()
    assert row.status is InboundStatus.IGNORED and "EM-4" in row.reason
    # Switched on, remapped: the next message follows at once.
    res = await admin(
        UPDATE, {"input": {"id": created["supportAddress"]["id"], "isFetching": True}}
    )
    assert res.data["supportAddressUpdate"]["errors"] == []
    await mailer.send(message("<a3@example.com>"), rcpt=["sales@zylker.deskql.local"])
    ticket = await models.Ticket.filter(subject="Hi").order_by("-id").first()
    assert ticket is not None and ticket.department_id == world.support.id  # type: ignore[attr-defined]
    # EM-11 switched on for the organisation: Reply-To decides the requester at once.
    res = await admin(SETTINGS_UPDATE, {"input": {"contactFromReplyTo": True}})
    assert res.data["emailSettingsUpdate"]["errors"] == []
    raw = message("<a4@example.com>", subject="With Reply-To").replace(
        b"Subject:", b"Reply-To: Real Person <real@example.org>\r\nSubject:"
    )
    await mailer.send(raw)
    ticket = await models.Ticket.filter(subject="With Reply-To").select_related("contact").get()
    assert ticket.contact.email == "real@example.org"


async def test_rows_written_around_the_services_are_seen_within_the_ttl(
    mailer: Mailer, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await mailer.send(message("<b1@example.com>", "Spammer <x@junk.example>", "First"))
    # Another process blocklists the domain and turns the address's fetching off: this one
    # holds its snapshot for TTL seconds, then reads them.
    await models.BlockedSender.create(pattern="@junk.example")
    await models.SupportAddress.filter(email=SUPPORT).update(is_fetching=False)
    snap = await mail_directory.snapshot()
    assert snap.blocked == frozenset() and snap.by_email[SUPPORT].is_fetching
    monkeypatch.setattr(mail_directory, "TTL", 0.0)
    await mailer.send(message("<b2@example.com>", "Spammer <x@junk.example>", "Second"))
    row = await models.InboundMessage.filter(message_id="<b2@example.com>").get()
    assert row.status is InboundStatus.IGNORED and "not fetching (EM-4)" in row.reason
    await models.SupportAddress.filter(email=SUPPORT).update(is_fetching=True)
    await mailer.send(message("<b3@example.com>", "Spammer <x@junk.example>", "Third"))
    assert (await models.Ticket.get(subject="Third")).is_spam is True
    assert (await models.Ticket.get(subject="First")).is_spam is False


async def test_an_alias_added_around_the_services_is_not_refused(mailer: Mailer) -> None:
    await mailer.send(message("<c1@example.com>"))  # loads the snapshot
    await models.SupportAddress.create(email="billing@zylker.deskql.local")
    reply = await mailer.send(message("<c2@example.com>"), rcpt=["billing@zylker.deskql.local"])
    assert reply.code == 250
    row = await models.InboundMessage.filter(message_id="<c2@example.com>").get()
    assert row.status is InboundStatus.PROCESSED


async def test_a_big_blocklist_is_asked_per_message(
    mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mail_directory, "MAX_BLOCKED", 2)
    await models.BlockedSender.bulk_create(
        [models.BlockedSender(pattern=p) for p in ("a@x.example", "b@x.example", "@junk.example")]
    )
    mail_directory.invalidate()
    assert (await mail_directory.snapshot()).blocked is None
    assert await mail_directory.blocked_among(["z@junk.example", "@junk.example"]) == {
        "@junk.example"
    }
    await mailer.send(message("<d1@junk.example>", "z@junk.example", "Junk"))
    assert (await models.Ticket.get(subject="Junk")).is_spam is True


# --- group commits ----------------------------------------------------------------------------


async def test_stored_rows_of_concurrent_sessions_commit_together(
    world: Any, settings: Settings
) -> None:
    await support_addresses.ensure_default_address(settings)
    with count_sql() as sql:
        rows = await asyncio.gather(
            *(
                mail_inbound.store_message(
                    settings, raw=message(f"<g{i}@example.com>"), mail_from="", rcpt_tos=[SUPPORT]
                )
                for i in range(6)
            )
        )
    # One statement per group (no transaction around it), never more than one per row.
    inserts = [s for s in sql.sql if s.startswith('INSERT INTO "inbound_message"')]
    assert 1 <= len(inserts) <= 6
    # Each caller got its own row, as stored.
    assert [r.message_id for r in rows] == [f"<g{i}@example.com>" for i in range(6)]
    stored = {r.id: r for r in await models.InboundMessage.filter(status=InboundStatus.RECEIVED)}
    assert len(stored) == 6
    for row in rows:
        assert _columns(stored[row.id]) == _columns(row)


def _columns(row: models.InboundMessage) -> dict[str, Any]:
    return {name: getattr(row, name) for name in models.InboundMessage._meta.fields_db_projection}


async def test_a_group_of_rows_is_one_insert_and_each_row_comes_back_in_order(
    world: Any, settings: Settings
) -> None:
    await support_addresses.ensure_default_address(settings)
    values = [
        {
            "message_id": f"<o{i}@example.com>",
            "mail_from": f"c{i}@example.com",
            "rcpt_to": SUPPORT,
            "subject": f"Order {i}",
            "raw_sha256": f"{i:064x}",
            "size": 100 + i,
            "status": InboundStatus.RECEIVED,
            "support_address_id": None,
        }
        for i in range(20)
    ]
    with count_sql() as sql:
        rows = await inbound_store._insert_rows(values)
    assert len(sql.sql) == 1
    assert [r.message_id for r in rows] == [v["message_id"] for v in values]
    assert [r.size for r in rows] == list(range(100, 120))
    assert rows == sorted(rows, key=lambda r: r.id)
    stored = {r.id: r for r in await models.InboundMessage.all()}
    for row in rows:
        assert _columns(stored[row.id]) == _columns(row)
        assert row.status is InboundStatus.RECEIVED and row.attempts == 0 and row.reason == ""


async def test_one_row_that_cannot_be_written_fails_only_its_own_delivery(
    mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert = inbound_store._insert_rows

    async def refuse_one(group: list[dict[str, Any]]) -> Any:
        # Any statement holding the bad row fails: the whole group's, then its own alone.
        if any(values.get("message_id") == "<bad@example.com>" for values in group):
            raise ConnectionError("the disk said no")
        return await insert(group)

    monkeypatch.setattr(inbound_store, "_insert_rows", refuse_one)
    replies = await asyncio.gather(
        *(
            in_client_thread(deliver, mailer.port, message(mid))
            for mid in ("<ok1@example.com>", "<bad@example.com>", "<ok2@example.com>")
        )
    )
    await mailer.service.processor.drain()
    assert [r.code for r in replies] == [250, 451, 250]
    ids = sorted(await models.InboundMessage.all().values_list("message_id", flat=True))
    assert ids == ["<ok1@example.com>", "<ok2@example.com>"]
    assert await models.Ticket.all().count() == 2


async def test_a_group_gives_each_message_its_own_outcome(world: Any, settings: Settings) -> None:
    raws = [
        message("<h1@example.com>", subject="One"),
        (CORPUS / "missing_from_no_envelope.eml").read_bytes(),  # FAILED: no sender
        message("<h1@example.com>", subject="One again"),  # a duplicate inside the group
        message("<h2@example.com>", "New Person <np@example.org>", "Two"),
    ]
    rows = [await store(settings, raw) for raw in raws]
    seen: list[dict[str, Any]] = []

    async def observe(event: dict[str, Any]) -> None:
        # Called only after the group's one commit: the ticket is there for anyone to read.
        assert await models.Ticket.exists(id=event["ticketId"])
        seen.append(event)

    done = await mail_inbound.process_messages(
        settings, items=[(r.id, r) for r in rows], on_processed=observe
    )
    statuses = [r.status for r in done]
    assert statuses == [
        InboundStatus.PROCESSED,
        InboundStatus.FAILED,
        InboundStatus.IGNORED,
        InboundStatus.PROCESSED,
    ]
    assert "no usable sender address" in done[1].reason
    assert done[2].reason.startswith("duplicate Message-ID <h1@example.com>")
    assert sorted(await models.Ticket.all().values_list("subject", flat=True)) == ["One", "Two"]
    assert await models.Thread.all().count() == 2
    assert [e["inboundMessageId"] for e in seen] == [rows[0].id, rows[3].id]
    fresh = {r.id: r for r in await models.InboundMessage.all()}
    assert [fresh[r.id].status for r in rows] == statuses


async def test_a_group_that_fails_as_a_whole_is_processed_one_by_one(
    world: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        await store(settings, message(f"<f{i}@example.com>", subject=f"F{i}")) for i in range(3)
    ]
    process = inbound_settle._process
    processed = 0

    async def raise_once(*args: Any) -> Any:
        nonlocal processed
        processed += 1
        if processed == 2:  # the group without savepoints: undone, again with savepoints
            raise RuntimeError("a hiccup")
        return await process(*args)

    finish = inbound_settle._finish
    calls = 0

    async def connection_lost_once(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls in (2, 3):  # the second message of the group, and recording its failure
            raise ConnectionError("server closed the connection")
        await finish(*args)

    monkeypatch.setattr(inbound_settle, "_process", raise_once)
    monkeypatch.setattr(inbound_settle, "_finish", connection_lost_once)
    # With savepoints, _settle records an unexpected error as FAILED with _finish, which fails
    # again: the group's transaction fails, rolls back, and every message goes on its own.
    done = await mail_inbound.process_messages(settings, items=[(r.id, r) for r in rows])
    assert [r.status for r in done] == [InboundStatus.PROCESSED] * 3
    assert [r.attempts for r in done] == [1, 1, 1]
    assert sorted(await models.Ticket.all().values_list("subject", flat=True)) == ["F0", "F1", "F2"]
    assert await models.Thread.all().count() == 3
    assert sorted(await models.Ticket.all().values_list("number", flat=True)) == [1, 2, 3]
    fresh = {r.id: r for r in await models.InboundMessage.all()}
    assert [(fresh[r.id].status, fresh[r.id].attempts) for r in rows] == [
        (InboundStatus.PROCESSED, 1)
    ] * 3


async def test_a_message_that_raises_leaves_nothing_and_the_others_of_its_group_are_written(
    world: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    senders = ["Ann <ann@example.org>", "Ben <ben@example.org>", "Cy <cy@example.org>"]
    rows = [
        await store(settings, message(f"<x{i}@example.com>", sender, subject))
        for i, (sender, subject) in enumerate(zip(senders, ["Good", "Bad", "Fine"], strict=True))
    ]
    add_thread = mail_inbound.threads.add_incoming_thread

    async def fail_on_bad(**kwargs: Any) -> Any:
        if kwargs["subject"] == "Bad":  # after its contact, ticket and history were written
            raise RuntimeError("the thread could not be written")
        return await add_thread(**kwargs)

    monkeypatch.setattr(mail_inbound.threads, "add_incoming_thread", fail_on_bad)
    seen: list[int] = []

    async def observe(event: dict[str, Any]) -> None:
        seen.append(event["inboundMessageId"])

    done = await mail_inbound.process_messages(
        settings, items=[(r.id, r) for r in rows], on_processed=observe
    )
    assert [r.status for r in done] == [
        InboundStatus.PROCESSED,
        InboundStatus.FAILED,
        InboundStatus.PROCESSED,
    ]
    assert done[1].reason == "processing failed: RuntimeError: the thread could not be written"
    assert [r.attempts for r in done] == [1, 1, 1]
    assert seen == [rows[0].id, rows[2].id]
    # Nothing of the bad one stayed: no ticket, contact, thread or history; no number lost.
    tickets = await models.Ticket.all().order_by("number").values_list("subject", "number")
    assert tickets == [("Good", 1), ("Fine", 2)]
    assert not await models.Contact.filter(email="ben@example.org").exists()
    assert await models.Thread.all().count() == 2
    assert await models.Activity.filter(kind="ticket.created").count() == 2
    assert await models.Activity.filter(kind="contact.created").count() == 2
    fresh = {r.id: r for r in await models.InboundMessage.all()}
    assert [fresh[r.id].status for r in rows] == [r.status for r in done]
    assert fresh[rows[1].id].ticket_id is None  # type: ignore[attr-defined]


async def test_a_group_of_new_tickets_costs_four_statements_a_message(
    world: Any, settings: Settings
) -> None:
    await support_addresses.ensure_default_address(settings)
    await mail_directory.snapshot()
    senders = ["Melissa Doe <melissa@example.com>"] + [
        f"Known {i} <known{i}@example.com>" for i in range(7)
    ]
    for i in range(7):
        await models.Contact.create(email=f"known{i}@example.com", first_name="K", last_name="N")
    rows = [
        await store(settings, message(f"<n{i}@example.com>", sender, f"N{i}"))
        for i, sender in enumerate(senders)
    ]
    with count_sql() as sql:
        done = await mail_inbound.process_messages(settings, items=[(r.id, r) for r in rows])
    assert [r.status for r in done] == [InboundStatus.PROCESSED] * 8
    # Per message: its ticket, thread and their two Activity rows. Per group: agents, contacts,
    # their followers, the department, the ticket numbers, the active webhooks and the
    # outcomes of all; and the search index of the group before its commit: one read of the
    # tickets with their threads, comments and tasks, one write of their index rows.
    assert len(sql.sql) == 4 * 8 + 7 + 2, "\n".join(sql.sql)
    numbers = dict(await models.Ticket.all().values_list("subject", "number"))
    assert numbers == {f"N{i}": i + 1 for i in range(8)}
    assert await models.Contact.all().count() == 8
    contacts = dict(await models.Ticket.all().values_list("subject", "contact__email"))
    assert contacts == {f"N{i}": s.split("<")[1].rstrip(">") for i, s in enumerate(senders)}


async def test_numbers_a_group_takes_ahead_and_does_not_use_are_given_back(
    world: Any, settings: Settings
) -> None:
    from deskql.services import tickets

    await support_addresses.ensure_default_address(settings)
    raws = [
        message("<u1@example.com>", subject="U1"),
        (CORPUS / "missing_from_no_envelope.eml").read_bytes(),  # FAILED: no ticket
        message("<u2@example.com>", subject="U2"),
        message("<u3@example.com>", subject="Re: U1 [#1]"),  # a reply: no new ticket
    ]
    rows = [await store(settings, raw) for raw in raws]
    with count_sql() as sql:
        done = await mail_inbound.process_messages(settings, items=[(r.id, r) for r in rows])
    assert [r.status for r in done] == [
        InboundStatus.PROCESSED,
        InboundStatus.FAILED,
        InboundStatus.PROCESSED,
        InboundStatus.PROCESSED,
    ]
    assert "reply to ticket #1" in done[3].reason
    taken = [s for s in sql.sql if s.startswith('UPDATE "organisation" SET "ticket_seq"')]
    assert [s.split(" RETURNING")[0].rsplit(" ", 1)[1] for s in taken] == ["4", "-2"]
    numbers = dict(await models.Ticket.all().values_list("subject", "number"))
    assert numbers == {"U1": 1, "U2": 2}
    assert (await models.Organisation.get()).ticket_seq == 2
    # The next ticket, made any other way, gets the next number.
    later = await tickets.create_ticket(
        None, subject="By hand", department_id=world.support.id, contact_id=world.contact.id
    )
    assert later.number == 3


async def test_what_a_group_reads_ahead_is_what_each_message_would_read(
    world: Any, settings: Settings
) -> None:
    await support_addresses.ensure_default_address(settings)
    dave = await models.Agent.create(email="dave@zylker.com", first_name="D", last_name="Dave")
    erin = await models.Agent.create(email="erin@zylker.com", first_name="E", last_name="Erin")
    for agent in (dave, erin):  # mail to the default address goes to the first department
        await models.DepartmentMembership.create(agent_id=agent.id, department_id=world.sales.id)
    account = await models.Account.create(name="Doe Inc")
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    await models.Follow.create(agent_id=dave.id, contact_id=world.contact.id)
    await models.Follow.create(agent_id=erin.id, account_id=account.id)
    raws = [
        message("<r1@example.com>", "Melissa Doe <melissa@example.com>", "From Melissa"),
        message("<r2@example.com>", "Alice <alice@zylker.com>", "From an agent"),
        message("<r3@example.com>", "New One <new@example.org>", "From someone new"),
        message("<r4@example.com>", "New One <new@example.org>", "Again from someone new"),
    ]
    rows = [await store(settings, raw) for raw in raws]
    done = await mail_inbound.process_messages(settings, items=[(r.id, r) for r in rows])
    assert [r.status for r in done] == [InboundStatus.PROCESSED] * 4
    tickets = {t.subject: t for t in await models.Ticket.all().select_related("contact")}
    melissa = tickets["From Melissa"]
    assert melissa.contact_id == world.contact.id  # type: ignore[attr-defined]
    assert melissa.account_id == account.id  # type: ignore[attr-defined]
    # The contact's follower and the account's hear of it (each for its two activities)...
    notes = await models.Notification.filter(ticket_id=melissa.id).order_by("agent_id", "id")
    assert [(n.agent_id, n.reason) for n in notes] == [  # type: ignore[attr-defined]
        (dave.id, NotificationReason.FOLLOWING),
        (dave.id, NotificationReason.FOLLOWING),
        (erin.id, NotificationReason.FOLLOWING),
        (erin.id, NotificationReason.FOLLOWING),
    ]
    # ... and nobody of the others'.
    assert await models.Notification.all().count() == 4
    # The agent's mail is the agent's thread; the new sender became one contact for both.
    thread = await models.Thread.get(ticket_id=tickets["From an agent"].id)
    assert thread.author_agent_id == world.alice.id  # type: ignore[attr-defined]
    assert thread.author_contact_id is None  # type: ignore[attr-defined]
    new = await models.Contact.get(email="new@example.org")
    assert {
        tickets["From someone new"].contact_id,  # type: ignore[attr-defined]
        tickets["Again from someone new"].contact_id,  # type: ignore[attr-defined]
    } == {new.id}
    created = await models.Activity.filter(kind="contact.created").values_list(
        "subject_id", flat=True
    )
    alice_contact = await models.Contact.get(email="alice@zylker.com")  # the requester
    assert sorted(created) == sorted([new.id, alice_contact.id])


class FakeDeadlock(Exception):
    """What asyncpg raises for a deadlock victim (SQLSTATE 40P01)."""

    sqlstate = "40P01"


async def test_a_deadlock_in_a_group_rolls_it_back_and_each_goes_alone(
    world: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        await store(settings, message(f"<k{i}@example.com>", subject=f"K{i}")) for i in range(3)
    ]
    process = inbound_settle._process
    calls = 0

    async def deadlock_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise FakeDeadlock("deadlock detected")
        return await process(*args)

    monkeypatch.setattr(inbound_settle, "_process", deadlock_once)
    done = await mail_inbound.process_messages(settings, items=[(r.id, r) for r in rows])
    # The group's first ticket rolled back with it; alone, each message went through once.
    assert [r.status for r in done] == [InboundStatus.PROCESSED] * 3
    assert [r.attempts for r in done] == [1, 1, 1]
    assert sorted(await models.Ticket.all().values_list("number", flat=True)) == [1, 2, 3]
    assert await models.Activity.filter(kind="ticket.created").count() == 3


async def test_a_deadlock_victim_alone_runs_again(
    world: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = await store(settings, message("<v1@example.com>"))
    process = inbound_settle._process
    calls = 0

    async def deadlock_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise FakeDeadlock("deadlock detected")
        return await process(*args)

    monkeypatch.setattr(inbound_settle, "_process", deadlock_once)
    done = await mail_inbound.process_message(settings, inbound_id=row.id, row=row)
    assert done.status is InboundStatus.PROCESSED and done.attempts == 1
    assert calls == 2
    assert await models.Ticket.all().count() == 1


# --- parsing in the parser process -------------------------------------------------------------


async def test_the_parser_process_parses_as_this_one_does(world: Any, settings: Settings) -> None:
    from deskql.channels.email.parse import parse_message

    raw = (CORPUS / "rfc2231_filename.eml").read_bytes()
    row = await store(settings, raw)
    parsed = await mail_inbound.parse_stored(settings, row)
    assert parsed == parse_message(raw)
    assert parsed.attachments  # type: ignore[union-attr]


async def test_parsing_keeps_ahead_of_the_queue_within_its_bound(
    world: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskql.channels.email import server
    from deskql.channels.email.parse import parse_message

    await support_addresses.ensure_default_address(settings)
    rows = [
        await store(settings, message(f"<q{i}@example.com>", subject=f"Q{i}")) for i in range(10)
    ]
    started: list[int] = []
    gate = asyncio.Event()

    async def parse_when_let(settings: Settings, row: models.InboundMessage) -> Any:
        started.append(row.id)
        await gate.wait()
        return parse_message(await mail_inbound.read_raw(settings, row))

    for where in (mail_inbound, inbound_parsing):  # server.py reads it here, _parse in parsing
        monkeypatch.setattr(where, "parse_stored", parse_when_let)
    monkeypatch.setattr(server, "PARSE_AHEAD", 4)
    processor = server.InboundProcessor(settings, group_size=2)
    processor._tasks = [asyncio.create_task(processor._work())]  # start() without pending_ids
    try:
        for row in rows:
            processor.submit(row.id, row=row)
        for _ in range(5):
            await asyncio.sleep(0)
        # Four parsed ahead at submit; the worker took the first two, and the next two started.
        assert started == [r.id for r in rows[:6]]
        gate.set()
        await asyncio.wait_for(processor.drain(), 30)
    finally:
        await processor.stop()
    assert sorted(started) == [r.id for r in rows]  # each parsed once, none here
    done = await models.InboundMessage.all().values_list("status", flat=True)
    assert done == [InboundStatus.PROCESSED] * 10
    assert await models.Ticket.all().count() == 10


async def test_a_dead_parser_process_is_replaced_and_nothing_is_lost(
    mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Dead:
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            raise BrokenProcessPool("killed")

    monkeypatch.setattr(inbound_parsing, "_parser", Dead())
    reply = await mailer.send(message("<p1@example.com>", subject="Parsed here"))
    assert reply.code == 250
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.PROCESSED
    assert await models.Ticket.filter(subject="Parsed here").exists()
    assert inbound_parsing._parser is None  # a new one is spawned next time


# --- statements per message -------------------------------------------------------------------

# A new ticket from a known contact: agent check, department check, contact, ticket number,
# ticket, its activity and followers, thread and its activity, the inbound row's outcome;
# plus BEGIN/SAVEPOINT bookkeeping that the driver does not log. It was 17 before the
# snapshot, RETURNING and the followers memo. +1 since webhooks: the active webhooks, read
# once per transaction (services/webhooks/events.py), so a webhook created by another process
# hears the very next change. The search index adds 2 before the commit (one read of the ticket
# with its threads and comments, one write of its index row).
MAX_STATEMENTS_NEW_TICKET = 13


async def test_statements_for_a_new_ticket_from_a_known_contact(
    world: Any, settings: Settings
) -> None:
    await support_addresses.ensure_default_address(settings)
    await mail_directory.snapshot()
    row = await store(settings, message("<s1@example.com>"))
    with count_sql() as sql:
        done = await mail_inbound.process_message(settings, inbound_id=row.id, row=row)
    assert done.status is InboundStatus.PROCESSED
    assert len(sql.sql) <= MAX_STATEMENTS_NEW_TICKET, "\n".join(sql.sql)
