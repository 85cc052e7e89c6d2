"""ticketSplit (TIC-9) and ticketMerge (TIC-5): what moves, the links both ways, the Activity
rows, every refused input (error code and nothing written), replies by email to a merged
ticket over a real SMTP socket, and the races a merge must survive (meaningful on PostgreSQL:
run with DESKQL_DATABASE_URL; on SQLite's single connection they pass trivially)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deskql import models
from deskql.models.enums import ThreadDirection, TicketPriority, TicketStatus
from deskql.services import merge_split, tickets
from deskql.services.auth import load_actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.settings import Settings
from tests.channels.conftest import (
    SUPPORT,
    Mailer,
)
from tests.conftest import GQLClient, World, gid

SPLIT = """
mutation($input: TicketSplitInput!) {
  ticketSplit(input: $input) {
    errors { field message code }
    ticket { number subject priority status version contact { email } account { name }
             department { name } threads { nodes { id } } attachments { nodes { filename } }
             splitFrom { number } splitTickets { nodes { number } } }
    sourceTicket { number version threads { nodes { id } } splitTickets { nodes { number } }
                   splitFrom { number } }
  }
}
"""
MERGE = """
mutation($input: TicketMergeInput!) {
  ticketMerge(input: $input) {
    errors { field message code }
    ticket { number status version tags threads { nodes { id } } comments { nodes { id } }
             attachments { nodes { id } }
             mergedInto { number } mergedTickets { nodes { number } } }
    sources { number status closedAt mergedInto { number } }
  }
}
"""
BY_NUMBER = """
query($n: Int!) {
  ticket(number: $n) { number status mergedInto { number } mergedTickets { nodes { number } } }
}
"""


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def make_ticket(
    world: World,
    subject: str = "Printer jam",
    *,
    department: models.Department | None = None,
    **extra: Any,
) -> models.Ticket:
    actor = await load_actor(world.admin.id)
    return await tickets.create_ticket(
        actor,
        subject=subject,
        department_id=(department or world.support).id,
        contact_id=world.contact.id,
        **extra,
    )


async def add_thread(
    ticket: models.Ticket,
    direction: ThreadDirection = ThreadDirection.INCOMING,
    *,
    subject: str = "Printer jam",
    message_id: str | None = None,
    body: str = "It jams.",
) -> models.Thread:
    return await models.Thread.create(
        ticket_id=ticket.id,
        direction=direction,
        from_address="melissa@example.com" if direction is ThreadDirection.INCOMING else SUPPORT,
        subject=subject,
        body_text=body,
        message_id=message_id,
        author_contact_id=ticket.contact_id  # type: ignore[attr-defined]
        if direction is ThreadDirection.INCOMING
        else None,
    )


async def add_attachment(ticket: models.Ticket, thread: models.Thread | None = None) -> int:
    row = await models.Attachment.create(
        ticket_id=ticket.id,
        thread_id=thread.id if thread else None,
        filename=f"file-{ticket.number}.txt",
        content_type="text/plain",
        size=3,
        sha256="0" * 64,
    )
    return row.id


async def snapshot() -> dict[str, Any]:
    """Every row a split or a merge could write, to compare before and after a refusal."""
    state: dict[str, Any] = {
        "tickets": await models.Ticket.all()
        .order_by("id")
        .values_list(
            "id", "number", "status", "version", "merged_into_id", "split_from_id", "closed_at"
        ),
        "activities": await models.Activity.all().count(),
        "notifications": await models.Notification.all().count(),
        "tags": await models.TicketTag.all().order_by("id").values_list("ticket_id", "tag_id"),
        "follows": await models.Follow.all().order_by("id").values_list("ticket_id", "agent_id"),
        "timers": await models.Timer.all()
        .order_by("id")
        .values_list("ticket_id", "accumulated_seconds", "state"),
    }
    for model in (
        models.Thread,
        models.Comment,
        models.Attachment,
        models.TimeEntry,
        models.Task,
        models.Draft,
    ):
        state[model.__name__] = await model.all().order_by("id").values_list("id", "ticket_id")
    return state


# --- split -----------------------------------------------------------------------------------


async def test_split_makes_a_linked_ticket_holding_the_customer_thread(
    gql: GQLClient, world: World
) -> None:
    account = await models.Account.create(name="Zylker Corp")
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    source = await make_ticket(world, priority=TicketPriority.HIGH)
    first = await add_thread(source, message_id="<orig-1@example.com>")
    reply = await add_thread(source, ThreadDirection.OUTGOING, subject="Re: Printer jam [#1]")
    other = await add_thread(
        source, subject="Re: Printer jam [#1] and the scanner too", body="Scanner broke."
    )
    await add_attachment(source, other)
    kept_attachment = await add_attachment(source, first)

    res = await gql.as_(world.alice_token)(SPLIT, {"input": {"threadId": gid("Thread", other.id)}})
    payload = res.data["ticketSplit"]
    assert payload["errors"] == []
    new = payload["ticket"]
    assert new["number"] == 2  # the same counter as ticketCreate
    assert new["subject"] == "Re: Printer jam and the scanner too"
    assert new["priority"] == "HIGH" and new["status"] == "OPEN"
    assert new["contact"] == {"email": "melissa@example.com"}
    assert new["account"] == {"name": "Zylker Corp"}
    assert new["department"] == {"name": "Support"}
    assert new["threads"]["nodes"] == [{"id": gid("Thread", other.id)}]
    assert new["attachments"]["nodes"] == [{"filename": "file-1.txt"}]
    assert new["splitFrom"] == {"number": 1} and new["splitTickets"]["nodes"] == []
    src = payload["sourceTicket"]
    assert src["threads"]["nodes"] == [
        {"id": gid("Thread", first.id)},
        {"id": gid("Thread", reply.id)},
    ]
    assert src["splitTickets"]["nodes"] == [{"number": 2}] and src["splitFrom"] is None
    assert src["version"] == source.version + 1

    new_row = await models.Ticket.get(number=2)
    assert new_row.split_from_id == source.id  # type: ignore[attr-defined]
    assert new_row.description == "Scanner broke."
    att = await models.Attachment.get(id=kept_attachment)
    assert att.ticket_id == source.id  # type: ignore[attr-defined]
    split = await models.Activity.get(kind="ticket.split")
    assert split.ticket_id == source.id
    assert split.changes["newNumber"] == 2 and split.changes["threadId"] == other.id
    created = await models.Activity.get(kind="ticket.created", ticket_id=new_row.id)
    assert created.changes["splitFrom"] == 1 and created.changes["number"] == 2


async def test_split_refusals_write_nothing(gql: GQLClient, world: World) -> None:
    source = await make_ticket(world)
    customer = await add_thread(source)
    agent_reply = await add_thread(source, ThreadDirection.OUTGOING, subject="Re: Printer jam")
    lonely = await make_ticket(world, "Only one message")
    only = await add_thread(lonely)
    spam = await make_ticket(world, "Buy now", is_spam=True)
    await add_thread(spam)
    spam_thread = await add_thread(spam)
    sales = await make_ticket(world, "Quote", department=world.sales)
    await add_thread(sales)
    sales_thread = await add_thread(sales)
    cases = [
        # An agent's reply: only customer messages are split off (TIC-9).
        (world.alice_token, gid("Thread", agent_reply.id), "INVALID"),
        # The only thread of a ticket: nothing to split it from.
        (world.alice_token, gid("Thread", only.id), "INVALID"),
        (world.alice_token, gid("Thread", spam_thread.id), "INVALID"),
        # A thread of a ticket Alice cannot see (Sales) looks like no thread at all.
        (world.alice_token, gid("Thread", sales_thread.id), "NOT_FOUND"),
        (world.alice_token, gid("Ticket", source.id), "INVALID"),
        (world.alice_token, "garbage!", "INVALID"),
    ]
    before = await snapshot()
    for token, thread_id, code in cases:
        res = await gql.as_(token)(SPLIT, {"input": {"threadId": thread_id}})
        payload = res.data["ticketSplit"]
        assert codes(payload) == [("threadId", code)], (thread_id, payload)
        assert payload["ticket"] is None
        assert await snapshot() == before, thread_id
    # The customer's thread of the same ticket splits fine.
    res = await gql.as_(world.alice_token)(
        SPLIT, {"input": {"threadId": gid("Thread", customer.id)}}
    )
    assert res.data["ticketSplit"]["errors"] == []


async def test_split_of_a_merged_ticket_is_refused(world: World) -> None:
    target = await make_ticket(world)
    source = await make_ticket(world, "Duplicate")
    await add_thread(source)
    late = await add_thread(source)
    actor = await load_actor(world.alice.id)
    await merge_split.merge_tickets(actor, target_id=target.id, source_ids=[source.id])
    # Threads move with the merge; one written to the source later still cannot be split off.
    await models.Thread.filter(id=late.id).update(ticket_id=source.id)
    await add_thread(source)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await merge_split.split_ticket(actor, thread_id=late.id)
    assert exc.value.errors[0].code is ErrorCode.MERGED
    assert "merged" in exc.value.errors[0].message
    assert await snapshot() == before


# --- merge -----------------------------------------------------------------------------------


async def test_merge_moves_everything_and_keeps_numbers_resolvable(
    gql: GQLClient, world: World
) -> None:
    target = await make_ticket(world, "Printer jam", tags=["printer", "urgent"])
    first = await make_ticket(world, "Printer jam again", tags=["printer", "jam"])
    second = await make_ticket(world, "Still jammed", tags=["paper"])
    await models.Ticket.filter(id=second.id).update(status=TicketStatus.ON_HOLD)
    t_thread = await add_thread(target)
    s_threads = [await add_thread(first), await add_thread(second), await add_thread(second)]
    actor = await load_actor(world.alice.id)
    comment = await tickets.add_comment(actor, ticket_id=first.id, body="Same as #1")
    await add_attachment(first, s_threads[0])
    await add_attachment(second)
    # Followers: Alice follows the target and a source (one Follow left), the admin a source.
    await models.Follow.create(agent_id=world.alice.id, ticket_id=target.id)
    await models.Follow.create(agent_id=world.alice.id, ticket_id=first.id)
    await models.Follow.create(agent_id=world.admin.id, ticket_id=second.id)
    now = datetime.now(UTC)
    entry = await models.TimeEntry.create(agent_id=world.alice.id, ticket_id=first.id, seconds=600)
    task = await models.Task.create(
        department_id=world.support.id, ticket_id=second.id, title="Call back"
    )
    draft = await models.Draft.create(ticket_id=first.id, author_id=world.alice.id, body_text="Hi")
    # Alice timed the target (paused, 100 s) and a source (running for ~60 s): one timer stays.
    await models.Timer.create(
        agent_id=world.alice.id,
        ticket_id=target.id,
        state=models.TimerState.PAUSED,
        accumulated_seconds=100,
    )
    await models.Timer.create(
        agent_id=world.alice.id,
        ticket_id=first.id,
        state=models.TimerState.RUNNING,
        accumulated_seconds=20,
        running_since=now - timedelta(seconds=60),
    )
    admin_timer = await models.Timer.create(
        agent_id=world.admin.id,
        ticket_id=second.id,
        state=models.TimerState.PAUSED,
        accumulated_seconds=5,
    )

    res = await gql.as_(world.alice_token)(
        MERGE,
        {
            "input": {
                "targetId": gid("Ticket", target.id),
                "sourceIds": [gid("Ticket", first.id), gid("Ticket", second.id)],
            }
        },
    )
    payload = res.data["ticketMerge"]
    assert payload["errors"] == []
    merged = payload["ticket"]
    assert merged["number"] == 1 and merged["status"] == "OPEN"
    assert merged["version"] == target.version + 1
    assert merged["tags"] == ["jam", "paper", "printer", "urgent"]
    assert [t["id"] for t in merged["threads"]["nodes"]] == [
        gid("Thread", t.id) for t in [t_thread, *s_threads]
    ]
    assert merged["comments"]["nodes"] == [{"id": gid("Comment", comment.id)}]
    assert len(merged["attachments"]["nodes"]) == 2
    assert merged["mergedInto"] is None
    assert merged["mergedTickets"]["nodes"] == [{"number": 2}, {"number": 3}]
    assert [(s["number"], s["status"], s["mergedInto"]) for s in payload["sources"]] == [
        (2, "CLOSED", {"number": 1}),
        (3, "CLOSED", {"number": 1}),
    ]
    assert all(s["closedAt"] for s in payload["sources"])

    # The sources' numbers still resolve, to the closed source pointing at the target.
    res = await gql.as_(world.alice_token)(BY_NUMBER, {"n": 3})
    assert res.data["ticket"] == {
        "number": 3,
        "status": "CLOSED",
        "mergedInto": {"number": 1},
        "mergedTickets": {"nodes": []},
    }

    # Rows moved, sources emptied.
    for model in (models.Thread, models.Comment, models.Attachment):
        assert await model.filter(ticket_id__in=[first.id, second.id]).count() == 0
    assert (await models.TimeEntry.get(id=entry.id)).ticket_id == target.id  # type: ignore[attr-defined]
    assert (await models.Task.get(id=task.id)).ticket_id == target.id  # type: ignore[attr-defined]
    assert (await models.Draft.get(id=draft.id)).ticket_id == target.id  # type: ignore[attr-defined]
    assert await models.TicketTag.filter(ticket_id__in=[first.id, second.id]).count() == 0
    follows = await models.Follow.filter(ticket_id__isnull=False).values_list(
        "ticket_id", "agent_id"
    )
    assert sorted(follows) == sorted([(target.id, world.alice.id), (target.id, world.admin.id)])
    timers = await models.Timer.all().order_by("id")
    assert [(t.agent_id, t.ticket_id) for t in timers] == [  # type: ignore[attr-defined]
        (world.alice.id, target.id),
        (world.admin.id, target.id),
    ]
    alice_timer = timers[0]
    # 100 s paused + 20 s + ~60 s running: still running, as the source's timer was.
    assert alice_timer.state is models.TimerState.RUNNING
    assert 179 <= alice_timer.accumulated_seconds <= 185
    assert timers[1].id == admin_timer.id and timers[1].accumulated_seconds == 5

    # History: one Activity per source, one on the target naming the sources.
    done = await models.Activity.get(kind="ticket.merged")
    assert done.ticket_id == target.id and done.changes["sources"] == [2, 3]
    assert done.changes["tagsAdded"] == ["jam", "paper"]
    assert done.changes["moved"]["threads"] == 3 and done.changes["moved"]["followers"] == 1
    into = await models.Activity.filter(kind="ticket.merged_into").order_by("id")
    assert [(a.ticket_id, a.changes["mergedInto"]) for a in into] == [
        (first.id, 1),
        (second.id, 1),
    ]
    assert into[1].changes["status"] == {"old": "ON_HOLD", "new": "CLOSED"}
    # The admin followed a source: the follow moved, so the merge reaches their notifications.
    note = await models.Notification.filter(agent_id=world.admin.id, activity_id=done.id).first()
    assert note is not None and note.ticket_id == target.id


async def test_merge_refusals_write_nothing(gql: GQLClient, world: World) -> None:
    target = await make_ticket(world, tags=[f"t{i}" for i in range(8)])
    plain = await make_ticket(world, "Duplicate")
    tagged = await make_ticket(world, "Tagged", tags=["t0", "x1", "x2"])  # 8 + 2 new = 10: fine
    too_many_tags = await make_ticket(world, "More tags", tags=["y1", "y2", "y3"])
    sales = await make_ticket(world, "Quote", department=world.sales)
    spam = await make_ticket(world, "Buy now", is_spam=True)
    done_target = await make_ticket(world, "Earlier target")
    done_source = await make_ticket(world, "Earlier duplicate")
    admin = await load_actor(world.admin.id)
    await merge_split.merge_tickets(admin, target_id=done_target.id, source_ids=[done_source.id])
    many = [await make_ticket(world, f"Dup {i}") for i in range(21)]
    await add_thread(plain)

    def t(row: models.Ticket) -> str:
        return gid("Ticket", row.id)

    cases: list[tuple[str, str, list[str], list[tuple[str, str]]]] = [
        (world.alice_token, t(target), [t(target)], [("sourceIds", "INVALID")]),
        (world.alice_token, t(target), [t(plain), t(target)], [("sourceIds", "INVALID")]),
        # Another department: the admin sees both, it is still refused.
        (world.admin_token, t(target), [t(sales)], [("sourceIds", "INVALID")]),
        (world.alice_token, t(target), [t(done_source)], [("sourceIds", "MERGED")]),
        (world.alice_token, t(done_source), [t(plain)], [("targetId", "MERGED")]),
        (world.alice_token, t(spam), [t(plain)], [("targetId", "INVALID")]),
        (world.alice_token, t(target), [t(spam)], [("sourceIds", "INVALID")]),
        # Tickets the agent cannot see look absent.
        (world.alice_token, t(target), [t(sales)], [("sourceIds", "NOT_FOUND")]),
        (
            world.bob_token,
            t(target),
            [t(plain)],
            [("targetId", "NOT_FOUND"), ("sourceIds", "NOT_FOUND")],
        ),
        (world.alice_token, gid("Ticket", 9999), [t(plain)], [("targetId", "NOT_FOUND")]),
        (world.alice_token, t(target), [], [("sourceIds", "REQUIRED")]),
        (world.alice_token, t(target), [t(m) for m in many], [("sourceIds", "LIMIT_EXCEEDED")]),
        # 8 tags + 2 new + 3 new = 13 > 10: refused as a whole, no tag dropped silently.
        (
            world.alice_token,
            t(target),
            [t(tagged), t(too_many_tags)],
            [("sourceIds", "LIMIT_EXCEEDED")],
        ),
        (world.alice_token, "garbage!", [t(plain)], [("targetId", "INVALID")]),
        (world.alice_token, t(target), [gid("Thread", 1)], [("sourceIds", "INVALID")]),
    ]
    before = await snapshot()
    for token, target_id, source_ids, expected in cases:
        res = await gql.as_(token)(
            MERGE, {"input": {"targetId": target_id, "sourceIds": source_ids}}
        )
        payload = res.data["ticketMerge"]
        assert codes(payload) == expected, (target_id, source_ids, payload)
        assert payload["ticket"] is None and payload["sources"] == []
        assert await snapshot() == before, (target_id, source_ids)

    # Exactly at the limits it goes through: 20 sources, 10 tags.
    res = await gql.as_(world.alice_token)(
        MERGE, {"input": {"targetId": t(target), "sourceIds": [t(m) for m in many[:19]]}}
    )
    assert res.data["ticketMerge"]["errors"] == []
    res = await gql.as_(world.alice_token)(
        MERGE, {"input": {"targetId": t(target), "sourceIds": [t(tagged)]}}
    )
    assert res.data["ticketMerge"]["errors"] == []
    assert len(res.data["ticketMerge"]["ticket"]["tags"]) == 10


async def test_an_update_with_a_version_read_before_the_merge_is_refused(world: World) -> None:
    target = await make_ticket(world)
    source = await make_ticket(world, "Duplicate")
    actor = await load_actor(world.alice.id)
    await merge_split.merge_tickets(actor, target_id=target.id, source_ids=[source.id])
    with pytest.raises(ValidationFailed) as exc:
        await tickets.update_ticket(
            actor, ticket_id=source.id, version=source.version, changes={"status": "OPEN"}
        )
    assert exc.value.errors[0].code is ErrorCode.MERGED
    row = await models.Ticket.get(id=source.id)
    assert row.status is TicketStatus.CLOSED and row.merged_into_id == target.id  # type: ignore[attr-defined]


async def test_follow_merges_walks_the_chain(world: World) -> None:
    a, b, c = [await make_ticket(world, s) for s in ("A", "B", "C")]
    actor = await load_actor(world.alice.id)
    await merge_split.merge_tickets(actor, target_id=b.id, source_ids=[a.id])
    await merge_split.merge_tickets(actor, target_id=c.id, source_ids=[b.id])
    assert (await merge_split.follow_merges(await models.Ticket.get(id=a.id))).id == c.id
    assert (await merge_split.follow_merges(await models.Ticket.get(id=c.id))).id == c.id


# --- email replies to a merged ticket ---------------------------------------------------------


def reply_mail(mid: str, subject: str, in_reply_to: str = "") -> bytes:
    head = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (
        f"From: Melissa Doe <melissa@example.com>\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n"
        f"Message-ID: {mid}\r\n{head}Content-Type: text/plain; charset=utf-8\r\n\r\nAnd now?\r\n"
    ).encode()


async def test_email_reply_to_a_merged_ticket_lands_on_the_target(
    mailer: Mailer, world: World
) -> None:
    target = await make_ticket(world, "Printer jam")
    source = await make_ticket(world, "Printer jam (again)")
    await add_thread(target, message_id="<orig-t@example.com>")
    await add_thread(source, message_id="<orig-s@example.com>")
    await add_thread(source, ThreadDirection.OUTGOING, message_id="<out-s@zylker.deskql.local>")
    actor = await load_actor(world.alice.id)
    await merge_split.merge_tickets(actor, target_id=target.id, source_ids=[source.id])

    # By Message-ID: a reply to the source's outgoing message.
    reply = await mailer.send(
        reply_mail("<r1@example.com>", "Re: Printer jam (again)", "<out-s@zylker.deskql.local>")
    )
    assert reply.code == 250
    thread = await models.Thread.get(message_id="<r1@example.com>")
    assert thread.ticket_id == target.id  # type: ignore[attr-defined]
    inbound = await models.InboundMessage.get(message_id="<r1@example.com>")
    assert inbound.ticket_id == target.id  # type: ignore[attr-defined]

    # By the merged source's [#N] subject token alone.
    reply = await mailer.send(reply_mail("<r2@example.com>", f"Re: anything [#{source.number}]"))
    assert reply.code == 250
    thread = await models.Thread.get(message_id="<r2@example.com>")
    assert thread.ticket_id == target.id  # type: ignore[attr-defined]
    assert await models.Thread.filter(ticket_id=source.id).count() == 0
    assert await models.Ticket.all().count() == 2  # no new ticket was made
    source_row = await models.Ticket.get(id=source.id)
    assert source_row.status is TicketStatus.CLOSED  # the merged source is not reopened
    added = await models.Activity.filter(kind="ticket.thread_added").values_list(
        "ticket_id", flat=True
    )
    assert added == [target.id, target.id]
    assert [e["ticketId"] for e in mailer.events] == [target.id, target.id]


# --- races (PostgreSQL) -----------------------------------------------------------------------


async def _try_merge(agent_id: int, target_id: int, source_ids: list[int]) -> str:
    actor = await load_actor(agent_id)
    try:
        await merge_split.merge_tickets(actor, target_id=target_id, source_ids=source_ids)
        return "ok"
    except ValidationFailed as exc:
        return exc.errors[0].code.value


async def test_two_merges_of_one_source_at_once_move_it_once(world: World) -> None:
    first, second = await make_ticket(world, "T1"), await make_ticket(world, "T2")
    source = await make_ticket(world, "Shared duplicate", tags=["shared"])
    for _ in range(5):
        await add_thread(source)
    await models.Follow.create(agent_id=world.admin.id, ticket_id=source.id)
    results = await asyncio.gather(
        _try_merge(world.alice.id, first.id, [source.id]),
        _try_merge(world.admin.id, second.id, [source.id]),
    )
    assert sorted(results) == ["MERGED", "ok"]
    winner = first if results[0] == "ok" else second
    loser = second if winner is first else first
    row = await models.Ticket.get(id=source.id)
    assert row.merged_into_id == winner.id  # type: ignore[attr-defined]
    assert await models.Thread.filter(ticket_id=winner.id).count() == 5
    assert await models.Thread.filter(ticket_id=loser.id).count() == 0
    assert await models.TicketTag.filter(ticket_id=winner.id).count() == 1
    assert await models.Follow.filter(ticket_id=winner.id).count() == 1
    assert await models.Activity.filter(kind="ticket.merged").count() == 1


async def test_crossed_merges_do_not_deadlock(world: World) -> None:
    a, b = await make_ticket(world, "A"), await make_ticket(world, "B")
    await add_thread(a)
    await add_thread(b)
    results = await asyncio.wait_for(
        asyncio.gather(
            _try_merge(world.alice.id, a.id, [b.id]),
            _try_merge(world.admin.id, b.id, [a.id]),
        ),
        timeout=30,
    )
    assert sorted(results) == ["MERGED", "ok"]
    rows = {t.id: t for t in await models.Ticket.filter(id__in=[a.id, b.id])}
    merged = [t for t in rows.values() if t.merged_into_id is not None]  # type: ignore[attr-defined]
    assert len(merged) == 1
    survivor = a if merged[0].id == b.id else b
    assert await models.Thread.filter(ticket_id=survivor.id).count() == 2


async def _try_add_tags(agent_id: int, ticket_id: int, names: list[str]) -> str:
    actor = await load_actor(agent_id)
    try:
        await tickets.add_tags(actor, ticket_id=ticket_id, names=names)
        return "ok"
    except ValidationFailed as exc:
        return exc.errors[0].code.value


async def test_merge_and_tag_add_at_once_never_pass_ten_tags(world: World) -> None:
    # Target 5 tags, source 3 more: merging gives 8, adding 4 gives 9; both together 12.
    for attempt in range(3):
        target = await make_ticket(world, f"T{attempt}", tags=[f"a{i}" for i in range(5)])
        source = await make_ticket(world, f"S{attempt}", tags=["b1", "b2", "b3"])
        results = await asyncio.gather(
            _try_merge(world.admin.id, target.id, [source.id]),
            _try_add_tags(world.alice.id, target.id, ["c1", "c2", "c3", "c4"]),
        )
        assert sorted(results) == ["LIMIT_EXCEEDED", "ok"], results
        tags = await models.TicketTag.filter(ticket_id=target.id).count()
        assert tags == (8 if results[0] == "ok" else 9)
        assert tags + await models.TicketTag.filter(ticket_id=source.id).count() in (8, 12)


async def test_an_update_racing_a_merge_is_not_lost(world: World) -> None:
    target = await make_ticket(world)
    source = await make_ticket(world, "Duplicate")
    actor = await load_actor(world.alice.id)

    async def update() -> str:
        try:
            await tickets.update_ticket(
                actor,
                ticket_id=source.id,
                version=source.version,
                changes={"priority": TicketPriority.URGENT},
            )
            return "ok"
        except ValidationFailed as exc:
            return exc.errors[0].code.value

    merged, updated = await asyncio.gather(
        _try_merge(world.admin.id, target.id, [source.id]), update()
    )
    assert merged == "ok"
    row = await models.Ticket.get(id=source.id)
    assert row.status is TicketStatus.CLOSED and row.merged_into_id == target.id  # type: ignore[attr-defined]
    if updated == "ok":
        # The update committed first: the merge saw it and kept it.
        assert row.priority is TicketPriority.URGENT and row.version == source.version + 2
    else:
        assert updated == "CONFLICT" and row.version == source.version + 1
        assert row.priority is TicketPriority.MEDIUM


async def test_a_reply_arriving_during_a_merge_waits_and_lands_on_the_target(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskql.services import mail_inbound, support_addresses

    await support_addresses.ensure_default_address(settings)
    target = await make_ticket(world, "Printer jam")
    source = await make_ticket(world, "Printer jam (again)")
    await add_thread(source, message_id="<orig-s@example.com>")
    row = await mail_inbound.store_message(
        settings,
        raw=reply_mail("<during@example.com>", f"Re: Printer jam [#{source.number}]"),
        mail_from="melissa@example.com",
        rcpt_tos=[SUPPORT],
    )
    # Hold the merge open (its locks taken, nothing committed) until the reply is under way.
    holding, release = asyncio.Event(), asyncio.Event()
    real = merge_split._merge_follows

    async def held(*args: Any) -> int:
        holding.set()
        await release.wait()
        return await real(*args)

    monkeypatch.setattr(merge_split, "_merge_follows", held)
    merging = asyncio.create_task(_try_merge(world.alice.id, target.id, [source.id]))
    await asyncio.wait_for(holding.wait(), 10)
    replying = asyncio.create_task(mail_inbound.process_message(settings, inbound_id=row.id))
    await asyncio.sleep(0.5)
    assert not replying.done()  # waiting for the merge's lock on the source
    release.set()
    assert await asyncio.wait_for(merging, 30) == "ok"
    await asyncio.wait_for(replying, 30)
    thread = await models.Thread.get(message_id="<during@example.com>")
    assert thread.ticket_id == target.id  # type: ignore[attr-defined]
    assert await models.Thread.filter(ticket_id=source.id).count() == 0
