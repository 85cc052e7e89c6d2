"""A ticket merged into another (TIC-5) stays as it was merged: every change to it is refused
with MERGED and writes nothing, even with its current version; the work goes on in the
target. Reading it (and deleting it) still works."""

from __future__ import annotations

from typing import Any

import pytest

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.services import macros, merge_split, tickets
from deskql.services.auth import load_actor
from tests.conftest import GQLClient, World, gid


async def _snapshot(ticket_id: int) -> dict[str, Any]:
    row = await models.Ticket.get(id=ticket_id)
    return {
        "ticket": (row.status, row.priority, row.version, row.assignee_agent_id),  # type: ignore[attr-defined]
        "tags": await models.TicketTag.filter(ticket_id=ticket_id).count(),
        "comments": await models.Comment.filter(ticket_id=ticket_id).count(),
        "threads": await models.Thread.filter(ticket_id=ticket_id).count(),
        "timers": await models.Timer.filter(ticket_id=ticket_id).count(),
        "activities": await models.Activity.filter(ticket_id=ticket_id).count(),
        "outbox": await models.OutboxMessage.all().count(),
    }


@pytest.fixture
async def merged(world: World) -> tuple[models.Ticket, models.Ticket]:
    admin = await load_actor(world.admin.id)
    target, source = [
        await tickets.create_ticket(
            admin,
            subject=subject,
            department_id=world.support.id,
            contact_id=world.contact.id,
            tags=["printer"],
        )
        for subject in ("Printer jam", "Printer jam again")
    ]
    await merge_split.merge_tickets(admin, target_id=target.id, source_ids=[source.id])
    source = await models.Ticket.get(id=source.id)
    assert source.status is TicketStatus.CLOSED
    return target, source


@pytest.mark.parametrize(
    "name",
    [
        "ticketUpdate",
        "ticketTagsAdd",
        "ticketTagRemove",
        "commentAdd",
        "ticketReply",
        "ticketAssign",
        "ticketTake",
        "timerStart",
    ],
)
async def test_changes_to_a_merged_ticket_are_refused(
    gql: GQLClient, world: World, merged: tuple[models.Ticket, models.Ticket], name: str
) -> None:
    _, source = merged
    sid = gid("Ticket", source.id)
    # mutation -> (input type, input, extra selection)
    cases: dict[str, tuple[str, dict[str, Any], str]] = {
        "ticketUpdate": (
            "TicketUpdateInput",
            {"id": sid, "version": source.version, "status": "OPEN"},
            "",
        ),
        "ticketTagsAdd": ("TicketTagsAddInput", {"ticketId": sid, "tags": ["urgent"]}, ""),
        "ticketTagRemove": ("TicketTagRemoveInput", {"ticketId": sid, "tag": "printer"}, ""),
        "commentAdd": ("CommentAddInput", {"ticketId": sid, "body": "Still jammed?"}, ""),
        "ticketReply": ("TicketReplyInput", {"ticketId": sid, "bodyText": "Hello"}, ""),
        "ticketAssign": (
            "TicketAssignInput",
            {"ticketIds": [sid], "agentId": gid("Agent", world.alice.id)},
            "results { errors { field code } }",
        ),
        "ticketTake": ("TicketTakeInput", {"ticketId": sid}, ""),
        "timerStart": ("TimerStartInput", {"ticketId": sid}, ""),
    }
    input_type, variables, extra = cases[name]
    query = (
        f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ errors {{ field code }} {extra} }} }}"
    )
    before = await _snapshot(source.id)
    res = await gql.as_(world.alice_token)(query, {"i": variables})
    payload = res.data[name]
    errors = payload["errors"] or [e for r in payload.get("results", []) for e in r["errors"]]
    assert [e["code"] for e in errors] == ["MERGED"], payload
    assert await _snapshot(source.id) == before


async def test_a_macro_skips_a_merged_ticket_and_applies_to_the_others(
    world: World, merged: tuple[models.Ticket, models.Ticket], settings
) -> None:
    target, source = merged
    admin = await load_actor(world.admin.id)
    macro = await macros.create_macro(
        admin,
        department_id=world.support.id,
        name="Hold",
        actions=[{"type": "SET_STATUS", "status": "ON_HOLD"}],
    )
    before = await _snapshot(source.id)
    result = await macros.apply_macro(
        admin, settings=settings, macro_id=macro.id, ticket_ids=[source.id, target.id]
    )
    by_ticket = {r.ticket_id: r for r in result.results}
    assert [e.code.value for e in by_ticket[source.id].errors] == ["MERGED"]
    assert by_ticket[target.id].errors == []
    assert await _snapshot(source.id) == before
    assert (await models.Ticket.get(id=target.id)).status is TicketStatus.ON_HOLD


async def test_a_merged_ticket_can_still_be_read_and_deleted(
    gql: GQLClient, world: World, merged: tuple[models.Ticket, models.Ticket]
) -> None:
    target, source = merged
    res = await gql.as_(world.alice_token)(
        "query($n: Int!) { ticket(number: $n) { status mergedInto { number } } }",
        {"n": source.number},
    )
    assert res.data["ticket"] == {"status": "CLOSED", "mergedInto": {"number": target.number}}
    res = await gql.as_(world.admin_token)(
        "mutation($i: TicketDeleteInput!) { ticketDelete(input: $i) { errors { code } } }",
        {"i": {"id": gid("Ticket", source.id)}},
    )
    assert res.data["ticketDelete"]["errors"] == []
    assert not await models.Ticket.exists(id=source.id)
