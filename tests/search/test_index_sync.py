"""The index follows every kind of write in the write's own transaction: inbound email (new
ticket and reply), agent replies, merges, splits, spam marking, and a rolled-back change that
leaves no trace in the index."""

from __future__ import annotations

from typing import Any

import pytest

from deskql import models
from deskql.services import mail_inbound, merge_split, replies, support_addresses, tickets, uow
from deskql.services.auth import Actor
from deskql.services.search import query
from deskql.settings import Settings
from tests.search.conftest import Desk


async def find(actor: Actor, text: str, **kwargs: Any) -> list[tuple[str, int]]:
    plan = await query.plan(actor, query=text, decode_id=lambda g, t: 0, **kwargs)
    hits, _ = await query.page(plan, offset=0, limit=50)
    return [(h.module, h.object_id) for h in hits]


def mail(subject: str, body: str, message_id: str, extra: str = "") -> bytes:
    return (
        "From: Zofia <zofia@example.pl>\r\nTo: support@zylker.deskql.local\r\n"
        f"Subject: {subject}\r\nMessage-ID: {message_id}\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


async def deliver(settings: Settings, raw: bytes) -> None:
    row = await mail_inbound.store_message(
        settings, raw=raw, mail_from="zofia@example.pl", rcpt_tos=["support@zylker.deskql.local"]
    )
    await mail_inbound.process_message(settings, inbound_id=row.id)


async def test_inbound_email_new_ticket_and_reply(desk: Desk, settings: Settings) -> None:
    await support_addresses.ensure_default_address(settings)
    await deliver(settings, mail("Drukarka", "Drukarka drukuje źdźbła trawy", "<in-1@example.pl>"))
    ticket = await models.Ticket.filter(subject="Drukarka").first()
    assert ticket is not None
    assert await find(desk.admin, "zdzbla") == [("ticket", ticket.id)]
    await deliver(
        settings,
        mail(
            f"Re: Drukarka [#{ticket.number}]",
            "Teraz pachnie jaśminem",
            "<in-2@example.pl>",
            "In-Reply-To: <in-1@example.pl>\r\n",
        ),
    )
    assert await find(desk.admin, "jasminem") == [("ticket", ticket.id)]


async def test_agent_reply_and_comment(desk: Desk, settings: Settings) -> None:
    await replies.send_reply(
        desk.alice, settings=settings, ticket_id=desk.chinese.id, body_text="Prosimy o zrzut ekranu"
    )
    assert await find(desk.alice, "zrzut ekranu") == [("ticket", desk.chinese.id)]


async def test_merge_and_split(desk: Desk) -> None:
    await models.Thread.create(
        ticket_id=desk.yellow.id,
        direction="INCOMING",
        from_address="jan@example.pl",
        subject="Rower",
        body_text="Pierwsza wiadomość",
    )
    await models.Thread.create(
        ticket_id=desk.yellow.id,
        direction="INCOMING",
        from_address="jan@example.pl",
        subject="Dodatkowo",
        body_text="Dzwonek też nie dzwoni",
    )
    thread = await models.Thread.filter(body_text__contains="Dzwonek").first()
    assert thread is not None
    new, _ = await merge_split.split_ticket(desk.alice, thread_id=thread.id)
    assert await find(desk.alice, "dzwonek") == [("ticket", new.id)]
    await merge_split.merge_tickets(desk.alice, target_id=desk.chinese.id, source_ids=[new.id])
    assert ("ticket", desk.chinese.id) in await find(desk.alice, "dzwonek")
    merged = await models.Ticket.get(id=new.id)
    assert merged.merged_into_id == desk.chinese.id  # type: ignore[attr-defined]


async def test_spam_marking_follows(desk: Desk) -> None:
    await mail_inbound.mark_spam(desk.alice, ticket_id=desk.yellow.id)
    assert await find(desk.alice, "zolty") == []
    assert ("ticket", desk.yellow.id) in await find(desk.alice, "zolty", include_spam=True)


async def test_rolled_back_write_leaves_the_index_alone(desk: Desk) -> None:
    with pytest.raises(RuntimeError):
        async with uow.transaction():
            await tickets.add_comment(desk.alice, ticket_id=desk.yellow.id, body="Ślimak")
            raise RuntimeError("the whole change fails")
    assert await find(desk.alice, "slimak") == []
    doc = await models.SearchDocument.get(module="ticket", object_id=desk.yellow.id)
    assert "Ślimak" not in doc.body


async def test_macro_run_indexes_its_comments_and_tasks(desk: Desk, settings: Settings) -> None:
    from deskql.services import macros
    from deskql.services.search import criteria as crit

    macro = await macros.create_macro(
        desk.admin,
        department_id=desk.world.support.id,
        name="Escalate bikes",
        actions=[
            {"type": "ADD_COMMENT", "body": "Przekazano serwisowi rowerów"},
            {"type": "CREATE_TASK", "title": "Zadzwoń do klienta o przeglądzie"},
        ],
    )
    await macros.apply_macro(
        desk.alice, settings=settings, macro_id=macro.id, ticket_ids=[desk.yellow.id]
    )
    assert await find(desk.alice, "serwisowi") == [("ticket", desk.yellow.id)]
    task = await models.Task.get(ticket_id=desk.yellow.id)
    assert await find(desk.alice, "przegladzie") == [("task", task.id)]
    assert await find(desk.bob, "przegladzie") == []  # the ticket's department decides
    got = await find(
        desk.alice,
        "",
        criteria=[
            crit.Criterion("task", "completed", crit.Op.EQUALS, ["false"]),
            crit.Criterion("task", "dueAt", crit.Op.IS_EMPTY, []),
        ],
    )
    assert got == [("task", task.id)]
