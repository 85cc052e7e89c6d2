"""A contact's tickets on /help/graphql (issue 13, points 2 and 3): create, read the public
side only, reply, close, rate; other people's tickets are NOT_FOUND."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.services import tickets
from deskql.services.auth import load_actor
from tests.conftest import GQLClient, World, gid
from tests.helpcenter.conftest import HelpClient, SignedIn, accept_invite

CREATE = """
mutation($input: TicketCreateInput!) {
  ticketCreate(input: $input) {
    errors { field code message }
    ticket { id number subject status isMine replyRefusal canRate }
  }
}
"""
TICKET = """
query($id: ID, $number: Int) {
  ticket(id: $id, number: $number) {
    id number subject status replyRefusal
    rating { value comment }
    messages { id body fromCustomer authorName attachments { filename size downloadPath } }
  }
}
"""
LIST = "{ tickets(first: 10) { totalCount edges { node { number subject status isMine } } } }"
REPLY = """
mutation($input: TicketReplyInput!) {
  ticketReply(input: $input) { errors { field code message } ticket { status } }
}
"""
CLOSE = """
mutation($id: ID!) { ticketClose(input: {ticketId: $id}) { errors { code } ticket { status } } }
"""
RATE = """
mutation($input: TicketRateInput!) {
  ticketRate(input: $input) { errors { code message } rating { value comment } }
}
"""
AGENT_REPLY = """
mutation($input: TicketReplyInput!) { ticketReply(input: $input) { errors { code message } } }
"""
AGENT_COMMENT = """
mutation($id: ID!, $body: String!, $public: Boolean!) {
  commentAdd(input: {ticketId: $id, body: $body, isPublic: $public}) { errors { code } }
}
"""


async def _create(client: HelpClient, subject: str = "Drukarka nie działa 打印机坏了") -> dict:
    res = await client(
        CREATE, {"input": {"subject": subject, "description": "Od wczoraj.\n从昨天开始。"}}
    )
    payload = res.data["ticketCreate"]
    assert payload["errors"] == [], payload
    return payload["ticket"]


async def test_create_goes_through_the_one_ticket_service(
    gql: GQLClient, world: World, melissa: SignedIn
) -> None:
    ticket = await _create(melissa.client)
    assert ticket["subject"] == "Drukarka nie działa 打印机坏了"
    assert (ticket["status"], ticket["isMine"], ticket["replyRefusal"]) == ("OPEN", True, None)
    row = await models.Ticket.get(number=ticket["number"])
    assert row.contact_id == world.contact.id and row.channel.value == "WEB"  # type: ignore[attr-defined]
    kinds = await models.Activity.filter(ticket_id=row.id).values_list("kind", flat=True)
    assert kinds[:2] == ["ticket.created", "ticket.thread_added"]
    first = await models.Thread.get(ticket_id=row.id)
    assert first.direction.value == "INCOMING" and first.author_contact_id == world.contact.id  # type: ignore[attr-defined]
    # The agents see it (first department: Sales) with the same number.
    seen = await gql.as_(world.bob_token)(
        "query($id: ID!) { node(id: $id) { ... on Ticket { number contact { email } } } }",
        {"id": ticket["id"]},
    )
    assert seen.data["node"] == {
        "number": ticket["number"],
        "contact": {"email": "melissa@example.com"},
    }
    listed = await melissa.client(LIST)
    assert listed.data["tickets"]["totalCount"] == 1
    bad = await melissa.client(CREATE, {"input": {"subject": " ", "description": "x"}})
    assert bad.data["ticketCreate"]["errors"][0]["field"] == "subject"
    assert await models.Ticket.all().count() == 1


async def test_only_the_public_side_reaches_the_contact(
    gql: GQLClient, world: World, melissa: SignedIn
) -> None:
    ticket = await _create(melissa.client)
    pk = ticket["id"]
    bob = gql.as_(world.bob_token)
    sent = await bob(AGENT_REPLY, {"input": {"ticketId": pk, "bodyText": "Please restart it."}})
    assert sent.data["ticketReply"]["errors"] == []
    # EM-15: a reply without the requester among the recipients is private.
    private = await bob(
        AGENT_REPLY,
        {"input": {"ticketId": pk, "to": ["vendor@example.org"], "bodyText": "SECRET-REPLY"}},
    )
    assert private.data["ticketReply"]["errors"] == []
    await bob(AGENT_COMMENT, {"id": pk, "body": "SECRET-NOTE", "public": False})
    await bob(AGENT_COMMENT, {"id": pk, "body": "We ordered a part.", "public": True})
    row = await models.Ticket.get(number=ticket["number"])
    await tickets.add_tags(await load_actor(world.bob.id), ticket_id=row.id, names=["vipsecret"])
    res = await melissa.client(TICKET, {"id": pk})
    messages = res.data["ticket"]["messages"]
    assert [m["body"] for m in messages] == [
        "Od wczoraj.\n从昨天开始。",
        "Please restart it.",
        "We ordered a part.",
    ]
    assert [m["fromCustomer"] for m in messages] == [True, False, False]
    assert messages[1]["authorName"] == "B Bob"
    text = json.dumps(res.body)
    for secret in ("SECRET", "vendor@example.org", "bob@zylker.com", "vipsecret", "zylker"):
        assert secret not in text, secret


async def test_other_peoples_tickets_are_not_found(
    gql: GQLClient, helpql: HelpClient, world: World, melissa: SignedIn
) -> None:
    other = await models.Contact.create(email="jan@example.com", last_name="Kowalski")
    jan = await accept_invite(gql, helpql, world, other)
    theirs = await _create(jan.client, "Jan's own")
    for variables in ({"id": theirs["id"]}, {"number": theirs["number"]}):
        res = await melissa.client(TICKET, variables)
        assert res.error_codes() == ["NOT_FOUND"]
        assert res.errors[0]["message"] == "no such ticket"
    missing = await melissa.client(TICKET, {"number": 999})
    assert missing.errors[0]["message"] == "no such ticket"
    reply = await melissa.client(REPLY, {"input": {"ticketId": theirs["id"], "body": "hi"}})
    assert reply.data["ticketReply"]["errors"][0]["code"] == "NOT_FOUND"
    closing = await melissa.client(CLOSE, {"id": theirs["id"]})
    assert closing.data["ticketClose"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await melissa.client(LIST)).data["tickets"]["totalCount"] == 0
    assert await models.Thread.filter(ticket__number=theirs["number"]).count() == 1
    # An account's manager sees the account's tickets (ORG-5's second half).
    account = await models.Account.create(name="Zylker Polska")
    await models.Contact.filter(id__in=[world.contact.id, other.id]).update(account_id=account.id)
    await models.Ticket.all().update(account_id=account.id)
    assert (await melissa.client(LIST)).data["tickets"]["totalCount"] == 0
    made = await gql.as_(world.alice_token)(
        """mutation($id: ID!) { contactHelpCenterAccessUpdate(
             input: {contactId: $id, isAccountManager: true}) { errors { code } } }""",
        {"id": gid("Contact", world.contact.id)},
    )
    assert made.data["contactHelpCenterAccessUpdate"]["errors"] == []
    listed = (await melissa.client(LIST)).data["tickets"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["isMine"] is False


async def test_reply_notifies_followers_and_closed_or_merged_tickets_take_none(
    gql: GQLClient, world: World, melissa: SignedIn
) -> None:
    ticket = await _create(melissa.client)
    row = await models.Ticket.get(number=ticket["number"])
    bob = await load_actor(world.bob.id)
    await tickets.update_ticket(
        bob, ticket_id=row.id, version=row.version, changes={"assignee_agent_id": world.bob.id}
    )
    res = await melissa.client(REPLY, {"input": {"ticketId": ticket["id"], "body": "Still broken"}})
    assert res.data["ticketReply"]["errors"] == []
    thread = await models.Thread.filter(ticket_id=row.id).order_by("-id").first()
    assert thread is not None and thread.body_text == "Still broken"
    assert thread.direction.value == "INCOMING" and thread.channel.value == "WEB"
    notified = await models.Notification.filter(
        agent_id=world.bob.id, activity__kind="ticket.thread_added"
    )
    assert len(notified) == 1
    # Closed: refused, nothing written.
    closed = await melissa.client(CLOSE, {"id": ticket["id"]})
    assert closed.data["ticketClose"]["ticket"]["status"] == "CLOSED"
    count = await models.Thread.filter(ticket_id=row.id).count()
    refused = await melissa.client(REPLY, {"input": {"ticketId": ticket["id"], "body": "more"}})
    assert refused.data["ticketReply"]["errors"][0]["code"] == "INVALID_STATE"
    assert await models.Thread.filter(ticket_id=row.id).count() == count
    # Merged: refused with MERGED.
    target = await _create(melissa.client, "Target")
    await models.Ticket.filter(id=row.id).update(
        merged_into_id=(await models.Ticket.get(number=target["number"])).id
    )
    merged = await melissa.client(REPLY, {"input": {"ticketId": ticket["id"], "body": "more"}})
    assert merged.data["ticketReply"]["errors"][0]["code"] == "MERGED"


async def test_ratings_reach_the_agents_side(
    gql: GQLClient, world: World, melissa: SignedIn
) -> None:
    ticket = await _create(melissa.client)
    row = await models.Ticket.get(number=ticket["number"])
    await models.Ticket.filter(id=row.id).update(assignee_agent_id=world.bob.id)
    rate = {"input": {"ticketId": ticket["id"], "value": "GOOD", "comment": "Dziękuję! 谢谢"}}
    open_refused = await melissa.client(RATE, rate)
    assert open_refused.data["ticketRate"]["errors"][0]["code"] == "INVALID_STATE"
    assert await models.TicketRating.all().count() == 0
    await melissa.client(CLOSE, {"id": ticket["id"]})
    rated = await melissa.client(RATE, rate)
    assert rated.data["ticketRate"]["rating"] == {"value": "GOOD", "comment": "Dziękuję! 谢谢"}
    changed = await melissa.client(RATE, {"input": {"ticketId": ticket["id"], "value": "OKAY"}})
    assert changed.data["ticketRate"]["rating"]["value"] == "OKAY"
    # The agent's side: Ticket.rating, the contact's timeline, the activity, a notification.
    agent = await gql.as_(world.bob_token)(
        """query($id: ID!, $c: ID!) {
             node(id: $id) { ... on Ticket { rating { id value } } }
             contact: node(id: $c) { ... on Contact { timeline { edges { node {
               number rating { value } } } } } }
           }""",
        {"id": ticket["id"], "c": gid("Contact", world.contact.id)},
    )
    rating = agent.data["node"]["rating"]
    assert rating["value"] == "OKAY"
    timeline = agent.data["contact"]["timeline"]["edges"]
    assert timeline[0]["node"] == {"number": ticket["number"], "rating": {"value": "OKAY"}}
    activities = await models.Activity.filter(ticket_id=row.id, kind="ticket.rated").order_by("id")
    assert [a.changes for a in activities] == [
        {"rating": "GOOD", "comment": "Dziękuję! 谢谢"},
        {"rating": "OKAY", "previous": "GOOD"},
    ]
    reasons = await models.Notification.filter(
        agent_id=world.bob.id, activity__kind="ticket.rated"
    ).values_list("reason", flat=True)
    assert len(reasons) == 2
    # The rating is a Node, seen with its ticket (ORG-5): Alice is in another department.
    hidden = await gql.as_(world.alice_token)(
        "query($id: ID!) { node(id: $id) { id } }", {"id": rating["id"]}
    )
    assert hidden.data["node"] is None
    shown = await gql.as_(world.bob_token)(
        "query($id: ID!) { node(id: $id) { ... on TicketRating { value } } }", {"id": rating["id"]}
    )
    assert shown.data["node"] == {"value": "OKAY"}
    # After 7 days the rating stays.
    await models.TicketRating.all().update(created_at=datetime.now(UTC) - timedelta(days=8))
    late = await melissa.client(RATE, {"input": {"ticketId": ticket["id"], "value": "BAD"}})
    assert late.data["ticketRate"]["errors"][0]["code"] == "INVALID_STATE"
    assert (await models.TicketRating.get(ticket_id=row.id)).value.value == "OKAY"
    assert row.status is TicketStatus.OPEN  # (the row read before closing)


async def test_attachments_own_only_size_and_type_checked(
    http: httpx.AsyncClient, gql: GQLClient, helpql: HelpClient, world: World, melissa: SignedIn
) -> None:
    def multipart(files: dict[str, tuple[str, bytes, str]]) -> dict:
        names = list(files)
        operations = {
            "query": CREATE,
            "variables": {
                "input": {
                    "subject": "With files",
                    "description": "see",
                    "attachments": [None] * len(names),
                }
            },
        }
        mapping = {n: [f"variables.input.attachments.{i}"] for i, n in enumerate(names)}
        return {
            "data": {"operations": json.dumps(operations), "map": json.dumps(mapping)},
            "files": files,
        }

    headers = {"Authorization": f"Bearer {melissa.token}"}
    ok = await http.post(
        "/help/graphql",
        headers=headers,
        **multipart({"0": ("faktura-ż.pdf", b"%PDF-1", "application/pdf")}),
    )
    created = ok.json()["data"]["ticketCreate"]
    assert created["errors"] == []
    shown = await melissa.client(TICKET, {"id": created["ticket"]["id"]})
    file = shown.data["ticket"]["messages"][0]["attachments"][0]
    assert (file["filename"], file["size"]) == ("faktura-ż.pdf", 6)
    got = await http.get(file["downloadPath"], headers=headers)
    assert got.status_code == 200 and got.content == b"%PDF-1"
    other = await models.Contact.create(email="jan@example.com", last_name="Kowalski")
    jan = await accept_invite(gql, helpql, world, other)
    stolen = await http.get(file["downloadPath"], headers={"Authorization": f"Bearer {jan.token}"})
    assert stolen.status_code == 404
    agent_token = await http.get(
        file["downloadPath"], headers={"Authorization": f"Bearer {world.admin_token}"}
    )
    assert agent_token.status_code == 401
    before = await models.Ticket.all().count()
    for name, ctype in (("setup.exe", "application/octet-stream"), ("page.html", "text/html")):
        refused = await http.post(
            "/help/graphql", headers=headers, **multipart({"0": (name, b"MZ", ctype)})
        )
        errors = refused.json()["data"]["ticketCreate"]["errors"]
        assert errors[0]["code"] == "INVALID" and "not accepted" in errors[0]["message"]
    big = await http.post(
        "/help/graphql",
        headers=headers,
        **multipart({"0": ("big.bin", b"\0" * (30 * 1024 * 1024), "application/octet-stream")}),
    )
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await models.Ticket.all().count() == before
