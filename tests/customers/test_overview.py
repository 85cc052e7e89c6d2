"""Contact and account overviews (CUS-4), related attachments (CUS-3) and each ticket's status
at the time of an activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskql import models
from deskql.db import count_statements
from deskql.models.enums import TicketStatus
from deskql.services import tickets
from deskql.services.auth import load_actor
from tests.conftest import GQLClient, World, gid

OVERVIEW = """
query($first: Int) {
  contacts(first: $first) { nodes { id lastName overview {
    totalTickets openTickets overdueTickets lastContactedAt averageRating ratingCount
    ticketsByStatus { status count } } } }
}
"""


async def _ticket(world: World, contact: models.Contact, **kw: object) -> models.Ticket:
    dept = kw.pop("department", world.support)
    return await tickets.create_ticket(
        None,
        subject="s",
        department_id=dept.id,
        contact_id=contact.id,
        **kw,  # type: ignore
    )


async def _thread(ticket: models.Ticket, direction: str, at: datetime) -> None:
    thread = await models.Thread.create(ticket=ticket, direction=direction, body_text="x")
    await models.Thread.filter(id=thread.id).update(created_at=at)


async def test_overview_counts(world: World, gql: GQLClient) -> None:
    c = world.contact
    now = datetime.now(UTC)
    waiting = await _ticket(world, c)  # customer wrote last: awaits a reply
    await _thread(waiting, "INCOMING", now - timedelta(hours=3))
    answered = await _ticket(world, c, due_at=now - timedelta(days=1))  # overdue, answered
    await _thread(answered, "INCOMING", now - timedelta(hours=5))
    await _thread(answered, "OUTGOING", now - timedelta(hours=1))
    await _ticket(world, c)  # no message yet: awaits a reply
    await _ticket(world, c, status=TicketStatus.ON_HOLD, due_at=now - timedelta(days=1))
    closed = await _ticket(world, c, status=TicketStatus.CLOSED, due_at=now - timedelta(days=9))
    await _thread(closed, "INCOMING", now - timedelta(days=10))
    await _ticket(world, c, is_spam=True)
    sales = await _ticket(world, c, department=world.sales)  # hidden from Alice
    await _thread(sales, "INCOMING", now)

    alice = (await gql.as_(world.alice_token)(OVERVIEW)).data["contacts"]["nodes"][0]["overview"]
    assert alice["totalTickets"] == 5
    assert {s["status"]: s["count"] for s in alice["ticketsByStatus"]} == {
        "OPEN": 3,
        "ON_HOLD": 1,
        "CLOSED": 1,
    }
    assert alice["openTickets"] == 2
    assert alice["overdueTickets"] == 2  # the answered open one and the one on hold
    last = datetime.fromisoformat(alice["lastContactedAt"])
    assert abs((last - (now - timedelta(hours=1))).total_seconds()) < 2

    admin = (await gql.as_(world.admin_token)(OVERVIEW)).data["contacts"]["nodes"][0]["overview"]
    assert admin["totalTickets"] == 6 and admin["openTickets"] == 3
    assert abs((datetime.fromisoformat(admin["lastContactedAt"]) - now).total_seconds()) < 2
    bob = (await gql.as_(world.bob_token)(OVERVIEW)).data["contacts"]["nodes"][0]["overview"]
    assert bob["totalTickets"] == 1

    account = await models.Account.create(name="Zylker")
    await _ticket(world, c, account_id=account.id)
    data = await gql.as_(world.alice_token)(
        "query($id: ID!) { account(id: $id) { overview { totalTickets openTickets } } }",
        {"id": gid("Account", account.id)},
    )
    assert data.data["account"]["overview"] == {"totalTickets": 1, "openTickets": 1}


async def test_overview_average_rating(world: World, gql: GQLClient) -> None:
    from deskql.models.helpcenter import RatingValue

    query = """query($first: Int) { contacts(first: $first) { nodes { lastName
      overview { averageRating ratingCount totalTickets } } } }"""
    c = world.contact
    unrated = (await gql.as_(world.alice_token)(query)).data["contacts"]["nodes"][0]["overview"]
    assert unrated == {"averageRating": None, "ratingCount": 0, "totalTickets": 0}
    closed = {"status": TicketStatus.CLOSED}
    for value in (RatingValue.GOOD, RatingValue.GOOD, RatingValue.BAD):
        ticket = await _ticket(world, c, **closed)
        await models.TicketRating.create(ticket=ticket, contact=c, value=value)
    await _ticket(world, c, **closed)  # closed, not rated
    hidden = await _ticket(world, c, department=world.sales, **closed)
    await models.TicketRating.create(ticket=hidden, contact=c, value=RatingValue.BAD)
    spam = await _ticket(world, c, is_spam=True, **closed)
    await models.TicketRating.create(ticket=spam, contact=c, value=RatingValue.BAD)

    alice = (await gql.as_(world.alice_token)(query)).data["contacts"]["nodes"][0]["overview"]
    assert alice == {"averageRating": 2.33, "ratingCount": 3, "totalTickets": 4}
    admin = (await gql.as_(world.admin_token)(query)).data["contacts"]["nodes"][0]["overview"]
    assert admin == {"averageRating": 2.0, "ratingCount": 4, "totalTickets": 5}
    bob = (await gql.as_(world.bob_token)(query)).data["contacts"]["nodes"][0]["overview"]
    assert bob == {"averageRating": 1.0, "ratingCount": 1, "totalTickets": 1}


async def test_overview_of_a_page_costs_the_same_statements(world: World, gql: GQLClient) -> None:
    async def page_statements(n: int) -> int:
        with count_statements() as stmts:
            data = (await gql.as_(world.alice_token)(OVERVIEW, {"first": n})).data
        assert len(data["contacts"]["nodes"]) == n
        return stmts.count

    for i in range(40):
        contact = await models.Contact.create(last_name=f"C{i:02d}")
        if i % 3 == 0:
            await _thread(await _ticket(world, contact), "INCOMING", datetime.now(UTC))
    # The token's Actor cached first (services/auth_cache.py), so neither count includes
    # authentication (otherwise the first would, and the second not).
    warm = await gql.as_(world.alice_token)("{ __typename }")
    assert warm.data == {"__typename": "Query"}
    assert await page_statements(5) == await page_statements(40)


async def test_attachments_of_contact_and_account(world: World, gql: GQLClient) -> None:
    account = await models.Account.create(name="Zylker")
    mine = await _ticket(world, world.contact, account_id=account.id)
    hidden = await _ticket(world, world.contact, department=world.sales)
    thread = await models.Thread.create(ticket=mine, direction="INCOMING", body_text="x")
    comment = await models.Comment.create(ticket=mine, body="note")
    for i, (ticket, kw) in enumerate(
        [(mine, {"thread": thread}), (mine, {"comment": comment}), (hidden, {})]
    ):
        await models.Attachment.create(
            ticket=ticket,
            filename=f"f{i}.txt",
            content_type="text/plain",
            size=1,
            sha256=str(i) * 64,
            **kw,
        )
    query = """
    query($c: ID!, $a: ID!) {
      contact(id: $c) { attachments(first: 1) { totalCount pageInfo { hasNextPage }
        nodes { filename } } }
      account(id: $a) { attachments { totalCount nodes { filename } } }
    }
    """
    variables = {"c": gid("Contact", world.contact.id), "a": gid("Account", account.id)}
    alice = (await gql.as_(world.alice_token)(query, variables)).data
    assert alice["contact"]["attachments"]["totalCount"] == 2
    assert alice["contact"]["attachments"]["nodes"] == [{"filename": "f1.txt"}]
    assert alice["contact"]["attachments"]["pageInfo"]["hasNextPage"] is True
    assert [n["filename"] for n in alice["account"]["attachments"]["nodes"]] == [
        "f1.txt",
        "f0.txt",
    ]
    admin = (await gql.as_(world.admin_token)(query, variables)).data
    assert admin["contact"]["attachments"]["totalCount"] == 3


async def test_history_shows_the_ticket_status_at_the_time(world: World, gql: GQLClient) -> None:
    actor = await load_actor(world.admin.id)
    ticket = await _ticket(world, world.contact)
    for status in (TicketStatus.ON_HOLD, TicketStatus.CLOSED):
        fresh = await models.Ticket.get(id=ticket.id)
        await tickets.update_ticket(
            actor, ticket_id=ticket.id, version=fresh.version, changes={"status": status}
        )
    fresh = await models.Ticket.get(id=ticket.id)
    await tickets.update_ticket(
        actor, ticket_id=ticket.id, version=fresh.version, changes={"subject": "renamed"}
    )
    data = await gql.as_(world.alice_token)(
        "query($id: ID!) { contact(id: $id) { activities(first: 20) { nodes { kind "
        "ticketStatus changes } } } }",
        {"id": gid("Contact", world.contact.id)},
    )
    rows = [
        (n["kind"], n["ticketStatus"])
        for n in data.data["contact"]["activities"]["nodes"]
        if n["kind"].startswith("ticket.")
    ]
    # Newest first: renamed while closed, closed, put on hold, created open.
    assert rows == [
        ("ticket.updated", "CLOSED"),
        ("ticket.updated", "CLOSED"),
        ("ticket.updated", "ON_HOLD"),
        ("ticket.created", "OPEN"),
    ]
