"""The N+1 property (DESIGN rule 6): the SQL statements of a ticket list request do not grow
with its page size, because every nested field loads through a batching DataLoader.

Statements are counted from the `tortoise.db_client` logger, which Tortoise 1.1.9 calls at
DEBUG level in every execute method of both the SQLite and the asyncpg client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from strawberry.dataloader import DataLoader
from tortoise.transactions import in_transaction

from deskql import models
from deskql.db import count_statements as count_sql
from deskql.models.enums import Role, TicketPriority, TicketStatus
from deskql.schema import loaders as loaders_module
from deskql.schema.connections import encode_cursor
from deskql.settings import Settings
from tests.conftest import GQLClient, World
from tests.serving.conftest import app_client


@pytest_asyncio.fixture
async def http(clean_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as served (no verification run beside each query): the statements counted are
    the ones a production request runs."""
    async with app_client(clean_db, readpath_verify=False) as client:
        yield client


LIST = """
query($first: Int!) {
  tickets(first: $first) {
    totalCount
    edges { node {
      id number subject status priority tags
      contact { name email account { name } }
      assignee { __typename ... on Agent { name } ... on Team { name } }
      department { name }
    } }
  }
}
"""

# Statements a request runs to authenticate its bearer token (token + agent, memberships).
AUTH_ONLY = "{ __typename }"

# Observed on SQLite and PostgreSQL: tickets page, count, tags, contacts, accounts, agents,
# teams, departments. A bigger number means a nested field stopped batching.
MAX_DATA_STATEMENTS = 8

STATUSES = list(TicketStatus)
PRIORITIES = list(TicketPriority)
TAG_POOL = ["billing", "printer", "urgent", "vip", "refund", "login", "mobile"]


async def seed_tickets(world: World, start: int, count: int) -> dict[int, dict[str, Any]]:
    """`count` tickets numbered from `start`, each with its own contact, account and assignee
    (agents and teams alternately, in both departments) and 2 or 3 tags. Returns what each
    ticket's list entry must show, by ticket number."""
    expected: dict[int, dict[str, Any]] = {}
    tags = {name: (await models.Tag.get_or_create(name=name))[0] for name in TAG_POOL}
    async with in_transaction():
        for i in range(start, start + count):
            dept = world.support if i % 2 else world.sales
            account = await models.Account.create(name=f"Account {i}")
            contact = await models.Contact.create(
                first_name="Contact",
                last_name=str(i),
                email=f"contact{i}@example.com",
                account=account,
            )
            agent_id = team_id = None
            if i % 4 in (0, 1):
                agent = await models.Agent.create(
                    email=f"agent{i}@zylker.com", first_name="Agent", last_name=str(i)
                )
                await models.DepartmentMembership.create(agent=agent, department=dept)
                agent_id, assignee = agent.id, {"__typename": "Agent", "name": agent.name}
            else:
                team = await models.Team.create(name=f"Team {i}", department=dept)
                team_id, assignee = team.id, {"__typename": "Team", "name": team.name}
            ticket = await models.Ticket.create(
                number=i,
                subject=f"Ticket {i}",
                status=STATUSES[i % len(STATUSES)],
                priority=PRIORITIES[i % len(PRIORITIES)],
                department=dept,
                contact=contact,
                account=account,
                assignee_agent_id=agent_id,
                assignee_team_id=team_id,
            )
            names = sorted({TAG_POOL[i % 7], TAG_POOL[(i + 2) % 7], TAG_POOL[(i * 3) % 7]})
            assert len(names) in (2, 3)
            for name in names:
                await models.TicketTag.create(ticket=ticket, tag=tags[name])
            expected[i] = {
                "number": i,
                "subject": f"Ticket {i}",
                "status": ticket.status.value,
                "priority": ticket.priority.name,
                "tags": names,
                "contact": {
                    "name": f"Contact {i}",
                    "email": f"contact{i}@example.com",
                    "account": {"name": f"Account {i}"},
                },
                "assignee": assignee,
                "department": {"name": dept.name},
            }
    return expected


async def list_statements(gql: GQLClient, token: str, first: int) -> tuple[list[str], dict]:
    """Run the ticket list query; the statements it ran and its data. The token's Actor is
    cached first (services/auth_cache.py), so every count is of the data statements alone,
    whether or not an earlier request of the test authenticated the token."""
    assert (await gql.as_(token)(AUTH_ONLY)).data == {"__typename": "Query"}
    with count_sql() as stmts:
        res = await gql.as_(token)(LIST, {"first": first})
        data = res.data
    return stmts.sql, data


async def auth_statements(gql: GQLClient, token: str) -> int:
    with count_sql() as stmts:
        res = await gql.as_(token)(AUTH_ONLY)
        assert res.data == {"__typename": "Query"}
    return len(stmts.sql)


def check_page(data: dict, expected: dict[int, dict[str, Any]], size: int) -> None:
    """The page holds `size` tickets, each with exactly its own nested data."""
    conn = data["tickets"]
    assert conn["totalCount"] == len(expected)
    nodes = [edge["node"] for edge in conn["edges"]]
    assert len(nodes) == size
    for node in nodes:
        node = dict(node)
        node.pop("id")
        assert node == expected[node["number"]]
    # The page really has distinct contacts, accounts, agents and teams to batch.
    assert len({n["contact"]["email"] for n in nodes}) == size
    assert len({n["contact"]["account"]["name"] for n in nodes}) == size
    assert {n["assignee"]["__typename"] for n in nodes} == {"Agent", "Team"}


async def test_ticket_list_statements_do_not_grow_with_page_size(
    gql: GQLClient, world: World
) -> None:
    auth = await auth_statements(gql, world.admin_token)
    assert 1 <= auth <= 2
    # The second request of the token answers from the token cache: no statement at all.
    assert await auth_statements(gql, world.admin_token) == 0

    expected = await seed_tickets(world, 1, 10)
    small, data = await list_statements(gql, world.admin_token, 10)
    check_page(data, expected, 10)
    small_part, data = await list_statements(gql, world.admin_token, 5)
    check_page(data, expected, 5)

    expected |= await seed_tickets(world, 11, 90)
    large, data = await list_statements(gql, world.admin_token, 100)
    check_page(data, expected, 100)
    large_part, data = await list_statements(gql, world.admin_token, 50)
    check_page(data, expected, 50)

    print(
        f"\nticket list SQL statements: {len(small)} for 10 tickets, {len(large)} for 100 "
        f"({auth} of them authentication); a page short of the end: {len(small_part)} "
        f"for 5, {len(large_part)} for 50"
    )
    assert len(small) == len(large), "\n".join(large)
    assert len(small_part) == len(large_part), "\n".join(large_part)
    # No statement reads the agents' password hashes (only the columns used).
    assert not any("password_hash" in q for q in small + large), "\n".join(large)
    # Only a page that does not reach the end needs the COUNT for totalCount.
    assert len(large_part) == len(large) + 1
    assert sum(_is_count(q) for q in large_part) == 1
    assert not any(_is_count(q) for q in large)
    assert len(large_part) <= MAX_DATA_STATEMENTS, "\n".join(large_part)


def _is_count(statement: str) -> bool:
    return statement.upper().startswith("SELECT COUNT")


async def test_total_count_on_last_and_past_pages(gql: GQLClient, world: World) -> None:
    """totalCount is right whether it comes from the page or from a COUNT query."""
    await seed_tickets(world, 1, 5)
    query = (
        "query($after: String) { tickets(first: 2, after: $after) { totalCount nodes { number } } }"
    )
    admin = gql.as_(world.admin_token)
    for after, numbers, counted in [
        (None, [5, 4], True),  # first page, more follow
        (encode_cursor(2), [2, 1], False),  # last page: the total is where it ends
        (encode_cursor(3), [1], False),
        (encode_cursor(4), [], True),  # past the end: nothing to count on the page
        (encode_cursor(9), [], True),
    ]:
        with count_sql() as stmts:
            res = await admin(query, {"after": after})
        page = res.data["tickets"]
        assert page["totalCount"] == 5, after
        assert [n["number"] for n in page["nodes"]] == numbers, after
        assert any(_is_count(q) for q in stmts.sql) is counted, after


async def test_agent_list_statements_do_not_grow_either(gql: GQLClient, world: World) -> None:
    """Same for an agent, whose list and loaders are filtered to their departments."""
    assert world.alice.role is Role.AGENT
    alice = world.alice_token
    expected = await seed_tickets(world, 1, 40)
    mine = {n: e for n, e in expected.items() if e["department"]["name"] == "Support"}
    small, data = await list_statements(gql, alice, 5)
    assert data["tickets"]["totalCount"] == len(mine) == 20
    large, data = await list_statements(gql, alice, 19)
    nodes = [dict(edge["node"]) for edge in data["tickets"]["edges"]]
    assert len(nodes) == 19
    for node in nodes:
        node.pop("id")
        assert node == mine[node["number"]]
    assert len(small) == len(large), "\n".join(large)


async def test_the_count_catches_an_unbatched_loader(
    clean_db: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proof that the assertion above can fail: with the contact loader fetching one row per
    call (as a resolver querying the ORM itself would), the count grows with the page. (The
    lean executor's loaders: compiled pages join the contact into the page's statement.)"""
    original = loaders_module.Loaders.__init__

    def unbatched(self: loaders_module.Loaders, actor: Any) -> None:
        original(self, actor)
        self.contact = DataLoader(load_fn=self.contact.load_fn, max_batch_size=1)

    monkeypatch.setattr(loaders_module.Loaders, "__init__", unbatched)
    expected = await seed_tickets(world, 1, 30)
    async with app_client(clean_db, readpath_verify=False, readpath_compiled=False) as client:
        gql = GQLClient(client)
        small, _ = await list_statements(gql, world.admin_token, 10)
        large, data = await list_statements(gql, world.admin_token, 30)
    check_page(data, expected, 30)
    # 20 more contacts, one statement each: the count grows with the page.
    assert len(large) > len(small)
    assert sum('FROM "contact"' in s for s in small) == 10
    assert sum('FROM "contact"' in s for s in large) == 30
