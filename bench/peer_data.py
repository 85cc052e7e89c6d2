"""The data side of bench/peer_postgraphile.py: the seed, the two query documents (DeskQL's
and PostGraphile's for the same page of tickets) and the check that both answers are the same
tickets once the fields are mapped between the two schemas."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED_MARK = "Peer bench A"  # the first department's name: this script seeded the database

DESKQL_QUERY = """{ tickets(first: %d, sort: {field: NUMBER, direction: DESC}) { edges { node {
  id number subject status priority channel isSpam createdAt updatedAt
  contact { name }
  assignee { __typename ... on Agent { name } ... on Team { name } }
} } } }"""

# PostGraphile with @graphile-contrib/pg-simplify-inflector: `tickets` is the ticket table's
# connection, `contact` / `assigneeAgent` / `assigneeTeam` its foreign keys. DeskQL leaves spam
# out of its lists unless asked (TicketFilter.isSpam defaults to false), hence the condition.
PEER_QUERY = """{ tickets(first: %d, orderBy: [NUMBER_DESC], condition: {isSpam: false}) {
  edges { node {
    id number subject status priority channel isSpam createdAt updatedAt
    contact { firstName lastName }
    assigneeAgent { firstName lastName }
    assigneeTeam { name }
} } } }"""

TYPENAME_QUERY = "{ __typename }"

# Seeding ---------------------------------------------------------------------------------------

CONTACTS_SQL = """
INSERT INTO contact (first_name, last_name, email, secondary_email, phone, mobile, description,
                     created_at, updated_at, email_key, first_name_key, last_name_key,
                     full_name_key)
SELECT 'Customer' || i, 'Example' || (i % 97), 'customer' || i || '@example.com', '', '', '', '',
       now() - interval '400 days', now() - interval '400 days',
       'customer' || i || '@example.com', 'customer' || i, 'example' || (i % 97),
       'customer' || i || ' example' || (i % 97)
FROM generate_series(1, $1::int) AS i
"""

# Ticket i: department i % 2; contact (i % contacts) + 1 except every 10th (none); assignee an
# agent of its department, a team of it, or nobody (i % 3); every 50th spam.
TICKETS_SQL = """
INSERT INTO ticket (number, subject, description, status, priority, channel, is_spam, version,
                    created_at, updated_at, department_id, contact_id, assignee_agent_id,
                    assignee_team_id)
SELECT i, 'Problem number ' || i || ' with the order', 'Something went wrong.',
       (ARRAY['OPEN','ON_HOLD','ESCALATED','CLOSED'])[1 + i % 4], 1 + (i * 7) % 4,
       (ARRAY['EMAIL','PHONE','WEB','CHAT','FORUM'])[1 + i % 5], i % 50 = 0, 1 + i % 3,
       now() - interval '1 day' - make_interval(secs => ($1::int - i) * 30),
       now() - interval '1 day' - make_interval(secs => ($1::int - i) * 30 - i % 600),
       ($3::int[])[1 + i % 2],
       CASE WHEN i % 10 <> 0 THEN c.first_id + i % $2::int END,
       CASE WHEN i % 3 = 1 THEN ($4::int[])[1 + i % 2][1 + (i / 2) % 4] END,
       CASE WHEN i % 3 = 2 THEN ($5::int[])[1 + i % 2][1 + (i / 2) % 3] END
FROM generate_series(1, $1::int) AS i, (SELECT min(id) AS first_id FROM contact) AS c
"""


async def seed(database_url: str, var_dir: Path, tickets: int, reset: bool, actor: str) -> str:
    """Migrate and seed the database (or reuse this script's earlier seed); returns a token."""
    import asyncpg

    from deskql import db, models
    from deskql.models.enums import Role, TokenKind
    from deskql.services import auth, organisation
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=database_url)
    if settings.is_embedded_db:
        raise SystemExit("--database-url must be a postgres:// URL")
    if reset:
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        count = await models.Ticket.all().count()
        if count and not await models.Department.exists(name=SEED_MARK):
            raise SystemExit("the database has tickets this script did not seed; pass --reset")
        if count and count != tickets:
            raise SystemExit(f"the database holds {count} tickets, not {tickets}; pass --reset")
        if not count:
            await organisation.ensure_organisation(settings)
            depts = [
                await organisation.create_department(None, name=name)
                for name in (SEED_MARK, "Peer bench B")
            ]
            agents: list[list[int]] = []
            teams: list[list[int]] = []
            for d_index, dept in enumerate(depts):
                members = [
                    await organisation.create_agent(
                        None,
                        email=f"agent{d_index}{i}@zylker.com",
                        first_name=f"Agent{d_index}{i}",
                        last_name=f"Surname{i}",
                        department_ids=[dept.id],
                    )
                    for i in range(4)
                ]
                agents.append([a.id for a in members])
                dept_teams = []
                for i in range(3):
                    team = await models.Team.create(name=f"{dept.name} team {i}", department=dept)
                    await models.TeamMembership.create(team=team, agent_id=members[i].id)
                    dept_teams.append(team.id)
                teams.append(dept_teams)
            contacts = max(1, tickets // 2)
            conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
            try:
                started = time.monotonic()
                async with conn.transaction():
                    await conn.execute(CONTACTS_SQL, contacts)
                    await conn.execute(
                        TICKETS_SQL,
                        tickets,
                        contacts,
                        [d.id for d in depts],
                        agents,
                        teams,
                    )
                    await conn.execute("UPDATE organisation SET ticket_seq = $1", tickets)
                await conn.execute("ANALYZE")
                print(
                    f"seeded {tickets} tickets, {contacts} contacts in "
                    f"{time.monotonic() - started:.0f} s"
                )
            finally:
                await conn.close()
        email = "peer-bench-admin@zylker.com" if actor == "admin" else "peer-bench@zylker.com"
        agent = await models.Agent.get_or_none(email=email)
        if agent is None:
            all_depts = [d.id for d in await models.Department.all()]
            agent = await organisation.create_agent(
                None,
                email=email,
                last_name="Bench",
                role=Role.ADMINISTRATOR if actor == "admin" else Role.AGENT,
                department_ids=all_depts,
            )
        _, token = await auth.issue_token(agent_id=agent.id, kind=TokenKind.API, name="peer")
        return token
    finally:
        await db.close_db()


# Sameness ----------------------------------------------------------------------------------------


def _instant(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


def _name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def normalise_deskql(document: dict[str, Any]) -> list[dict[str, Any]]:
    """DeskQL's page as comparable rows (row id, enum names, instants, names)."""
    from deskql.schema.ids import decode_id

    rows = []
    for edge in document["data"]["tickets"]["edges"]:
        n = edge["node"]
        assignee = n["assignee"]
        rows.append(
            {
                "id": decode_id(n["id"], "Ticket"),
                **{k: n[k] for k in ("number", "subject", "status", "priority", "channel")},
                "isSpam": n["isSpam"],
                "createdAt": _instant(n["createdAt"]),
                "updatedAt": _instant(n["updatedAt"]),
                "contact": n["contact"]["name"] if n["contact"] else None,
                "assignee": (assignee["__typename"], assignee["name"]) if assignee else None,
            }
        )
    return rows


def normalise_peer(document: dict[str, Any]) -> list[dict[str, Any]]:
    """PostGraphile's page mapped onto DeskQL's fields (priority numbers to enum names...)."""
    from deskql.models.enums import TicketPriority

    rows = []
    for edge in document["data"]["tickets"]["edges"]:
        n = edge["node"]
        agent, team, contact = n["assigneeAgent"], n["assigneeTeam"], n["contact"]
        rows.append(
            {
                "id": n["id"],
                **{k: n[k] for k in ("number", "subject", "status")},
                "priority": TicketPriority(n["priority"]).name,
                "channel": n["channel"],
                "isSpam": n["isSpam"],
                "createdAt": _instant(n["createdAt"]),
                "updatedAt": _instant(n["updatedAt"]),
                "contact": _name(contact["firstName"], contact["lastName"]) if contact else None,
                "assignee": ("Agent", _name(agent["firstName"], agent["lastName"]))
                if agent
                else ("Team", team["name"])
                if team
                else None,
            }
        )
    return rows


def check_same(ours: bytes, theirs: bytes, page: int) -> list[dict[str, Any]]:
    """Both pages as rows; stop with the first difference unless they are equal."""
    a, b = json.loads(ours), json.loads(theirs)
    for name, doc in (("DeskQL", a), ("PostGraphile", b)):
        if doc.get("errors") or not doc.get("data"):
            raise SystemExit(f"{name} answered with errors: {json.dumps(doc)[:1500]}")
    rows_a, rows_b = normalise_deskql(a), normalise_peer(b)
    if len(rows_a) != page or len(rows_b) != page:
        raise SystemExit(f"pages of {len(rows_a)} and {len(rows_b)} tickets, not {page}")
    for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=True)):
        if x != y:
            raise SystemExit(
                f"THE SERVERS DIFFER at row {i}:\n  DeskQL       {x}\n  PostGraphile {y}"
            )
    return rows_a
