"""Thread.bodyHtml is sanitized by default (issue 17, point 5); the raw mail stays available
through originalContent."""

from __future__ import annotations

from deskql import models
from deskql.models.enums import ThreadDirection
from deskql.services import tickets as ticket_service
from tests.conftest import GQLClient, World, gid

HOSTILE = (
    '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
    '<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">link</a>'
    '<a href="https://example.com/help">help</a><style>body{display:none}</style>'
)


async def test_body_html_is_sanitized(gql: GQLClient, world: World) -> None:
    ticket = await ticket_service.create_ticket(
        None, department_id=world.support.id, subject="s", contact_id=world.contact.id
    )
    await models.Thread.create(
        ticket_id=ticket.id, direction=ThreadDirection.INCOMING, body_html=HOSTILE
    )
    await models.Thread.create(ticket_id=ticket.id, direction=ThreadDirection.INCOMING)
    res = await gql.as_(world.alice_token)(
        "query($id: ID!) { ticket(id: $id) { threads { nodes { bodyHtml } } } }",
        {"id": gid("Ticket", ticket.id)},
    )
    hostile, empty = [t["bodyHtml"] for t in res.data["ticket"]["threads"]["nodes"]]
    assert empty == ""
    for bad in ["<script", "alert(1)", "onclick", "onerror", "javascript:", "<style"]:
        assert bad not in hostile, bad
    assert "<p>Hello <b>there</b></p>" in hostile
    assert 'href="https://example.com/help"' in hostile
    # The stored row keeps what came in (originalContent serves the raw message).
    assert (await models.Thread.filter(ticket_id=ticket.id).first()).body_html == HOSTILE
