"""Ticket views (SRC-5): standard views, saved views (private or shared), their counts,
tickets(viewId:) and the refusals of ticketViewCreate/Update/Delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deskql import models
from deskql.models.enums import Role, TicketPriority, TicketStatus
from deskql.services import auth
from deskql.services import views as svc
from deskql.services.tickets import TicketFilter
from tests.conftest import GQLClient, World, gid, make_agent
from tests.graphql.test_n_plus_one import count_sql

VIEWS = (
    "{ ticketViews { nodes { id name standard isShared ticketCount criteria owner { email } } } }"
)
TICKETS = """
query($view: ID, $filter: TicketFilter, $sort: TicketSort) {
  tickets(viewId: $view, filter: $filter, sort: $sort, first: 50) {
    totalCount nodes { number } } }
"""
CREATE = """
mutation($input: TicketViewCreateInput!) { ticketViewCreate(input: $input) {
  errors { field code message }
  view { id name standard isShared criteria sort { field direction } ticketCount
         owner { email } } } }
"""
UPDATE = """
mutation($input: TicketViewUpdateInput!) { ticketViewUpdate(input: $input) {
  errors { field code message } view { id name isShared criteria sort { field direction } } } }
"""
DELETE = """
mutation($id: ID!) { ticketViewDelete(input: {id: $id}) {
  errors { field code message } view { id name } } }
"""


@dataclass
class Desk:
    """Alice's Support department with one ticket for every standard view, plus Sales tickets
    she may not see."""

    numbers: dict[str, int]
    carol: models.Agent
    team: models.Team


async def _ticket(number: int, dept: models.Department, contact: models.Contact, **kw: Any) -> int:
    row = await models.Ticket.create(
        number=number, subject=f"Ticket {number}", department=dept, contact=contact, **kw
    )
    return row.number


async def desk(world: World) -> Desk:
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    team = await models.Team.create(name="Printers", department=world.support)
    await models.TeamMembership.create(team=team, agent=world.alice)
    other_team = await models.Team.create(name="Network", department=world.support)
    past = datetime.now(UTC) - timedelta(days=2)
    s, c = world.support, world.contact
    n = {
        "mine": await _ticket(1, s, c, assignee_agent=world.alice, priority=TicketPriority.HIGH),
        "team": await _ticket(2, s, c, assignee_team=team),
        "overdue_unassigned": await _ticket(3, s, c, due_at=past, priority=TicketPriority.HIGH),
        "on_hold": await _ticket(4, s, c, status=TicketStatus.ON_HOLD),
        "closed_mine": await _ticket(
            5, s, c, status=TicketStatus.CLOSED, assignee_agent=world.alice, due_at=past
        ),
        "spam": await _ticket(6, s, c, is_spam=True),
        "followed": await _ticket(
            7, s, c, status=TicketStatus.ESCALATED, assignee_agent=carol, due_at=None
        ),
        "other_team": await _ticket(8, s, c, assignee_team=other_team),
        "sales_followed": await _ticket(9, world.sales, c, priority=TicketPriority.HIGH),
        "sales_open": await _ticket(10, world.sales, c, assignee_agent=world.bob),
    }
    await models.Follow.create(agent=world.alice, ticket_id=await _pk(7))
    # A follow left over from when Alice could see Sales: the view must not show the ticket.
    await models.Follow.create(agent=world.alice, ticket_id=await _pk(9))
    await models.Follow.create(agent=carol, ticket_id=await _pk(1))
    return Desk(n, carol, team)


async def _pk(number: int) -> int:
    return (await models.Ticket.get(number=number)).id


# What Alice sees in each standard view, by ticket number.
ALICE = {
    "ALL_OPEN": [8, 7, 4, 3, 2, 1],
    "MINE": [1],
    "MY_TEAMS": [2],
    "UNASSIGNED": [4, 3],
    "OVERDUE": [3],
    "ON_HOLD": [4],
    "CLOSED": [5],
    "SPAM": [6],
    "FOLLOWED": [7],
}


async def test_standard_views_list_counts_and_tickets(gql: GQLClient, world: World) -> None:
    await desk(world)
    alice = gql.as_(world.alice_token)
    views = (await alice(VIEWS)).data["ticketViews"]["nodes"]
    assert [v["standard"] for v in views] == list(ALICE)
    assert all(v["id"] == f"standard:{v['standard']}" and v["owner"] is None for v in views)
    assert {v["standard"]: v["ticketCount"] for v in views} == {k: len(v) for k, v in ALICE.items()}
    for view in views:
        page = (await alice(TICKETS, {"view": view["id"]})).data["tickets"]
        assert [t["number"] for t in page["nodes"]] == ALICE[view["standard"]], view["id"]
        assert page["totalCount"] == view["ticketCount"]


async def test_standard_views_follow_who_asks(gql: GQLClient, world: World) -> None:
    """MINE and FOLLOWED are Carol's for Carol; the admin sees Sales too."""
    d = await desk(world)
    carol_token = await _token(d.carol.id)
    carol = gql.as_(carol_token)
    for view, numbers in (("MINE", [7]), ("FOLLOWED", [1]), ("MY_TEAMS", [])):
        page = (await carol(TICKETS, {"view": f"standard:{view}"})).data["tickets"]
        assert [t["number"] for t in page["nodes"]] == numbers, view
    admin = gql.as_(world.admin_token)
    page = (await admin(TICKETS, {"view": "standard:ALL_OPEN"})).data["tickets"]
    assert [t["number"] for t in page["nodes"]] == [10, 9, 8, 7, 4, 3, 2, 1]


async def _token(agent_id: int) -> str:
    from deskql.models.enums import TokenKind

    _, token = await auth.issue_token(agent_id=agent_id, kind=TokenKind.API, name="test")
    return token


async def test_view_narrowed_by_filter_and_resorted(gql: GQLClient, world: World) -> None:
    await desk(world)
    alice = gql.as_(world.alice_token)
    narrowed = await alice(TICKETS, {"view": "standard:ALL_OPEN", "filter": {"priority": "HIGH"}})
    assert [t["number"] for t in narrowed.data["tickets"]["nodes"]] == [3, 1]
    resorted = await alice(
        TICKETS, {"view": "standard:ALL_OPEN", "sort": {"field": "NUMBER", "direction": "ASC"}}
    )
    assert [t["number"] for t in resorted.data["tickets"]["nodes"]] == [1, 2, 3, 4, 7, 8]
    # The spam view keeps its spam although the narrowing filter's isSpam defaults to false.
    spam = await alice(TICKETS, {"view": "standard:SPAM", "filter": {"status": ["OPEN"]}})
    assert [t["number"] for t in spam.data["tickets"]["nodes"]] == [6]


async def test_custom_view_saved_listed_and_applied(gql: GQLClient, world: World) -> None:
    await desk(world)
    alice = gql.as_(world.alice_token)
    res = await alice(
        CREATE,
        {
            "input": {
                "name": "  Hot support  ",
                "criteria": {
                    "priority": ["HIGH", "URGENT"],
                    "departmentIds": [gid("Department", world.support.id)],
                    "assigneeIds": [gid("Agent", world.alice.id)],
                },
                "sort": {"field": "NUMBER", "direction": "ASC"},
            }
        },
    )
    payload = res.data["ticketViewCreate"]
    assert payload["errors"] == []
    view = payload["view"]
    row = await models.TicketView.get()
    assert view["id"] == gid("TicketView", row.id)
    assert view["name"] == "Hot support" and view["isShared"] is False
    assert view["standard"] is None and view["owner"] == {"email": "alice@zylker.com"}
    assert view["sort"] == {"field": "NUMBER", "direction": "ASC"}
    assert view["ticketCount"] == 1
    assert view["criteria"]["priority"] == ["HIGH", "URGENT"]
    assert view["criteria"]["departmentIds"] == [gid("Department", world.support.id)]
    # Stored with database ids and enums by name.
    assert row.owner_id == world.alice.id  # type: ignore[attr-defined]
    assert row.criteria["department_ids"] == [world.support.id]
    assert row.criteria["assignee_agent_ids"] == [world.alice.id]
    assert row.criteria["priorities"] == ["HIGH", "URGENT"]
    assert (row.sort_field, row.sort_direction) == ("NUMBER", "ASC")
    created = await models.Activity.get(kind="ticket_view.created")
    assert (created.subject_type, created.subject_id, created.actor_id) == (  # type: ignore[attr-defined]
        "TicketView",
        row.id,
        world.alice.id,
    )

    page = (await alice(TICKETS, {"view": view["id"]})).data["tickets"]
    assert [t["number"] for t in page["nodes"]] == [1]
    listed = (await alice(VIEWS)).data["ticketViews"]["nodes"]
    assert listed[-1]["id"] == view["id"] and listed[-1]["ticketCount"] == 1
    assert len(listed) == len(svc.StandardView) + 1

    # The view's criteria can be fed back as a filter and give the same tickets.
    criteria = {k: v for k, v in view["criteria"].items() if v is not None}
    again = (await alice(TICKETS, {"filter": criteria})).data["tickets"]
    assert [t["number"] for t in again["nodes"]] == [1]


async def test_private_view_is_not_found_for_others(gql: GQLClient, world: World) -> None:
    await desk(world)
    carol_token = await _token((await models.Agent.get(email="carol@zylker.com")).id)
    alice = gql.as_(world.alice_token)
    view_id = (await alice(CREATE, {"input": {"name": "Mine only"}})).data["ticketViewCreate"][
        "view"
    ]["id"]
    carol = gql.as_(carol_token)
    listed = (await carol(VIEWS)).data["ticketViews"]["nodes"]
    assert view_id not in [v["id"] for v in listed]
    res = await carol(TICKETS, {"view": view_id})
    assert res.error_codes() == ["NOT_FOUND"]
    assert res.body["data"] is None  # not its tickets
    res = await carol("query($id: ID!) { ticketView(id: $id) { id } }", {"id": view_id})
    assert res.data["ticketView"] is None
    # Even an administrator does not see another agent's private view.
    res = await gql.as_(world.admin_token)(TICKETS, {"view": view_id})
    assert res.error_codes() == ["NOT_FOUND"]


async def test_shared_view_respects_department_visibility(gql: GQLClient, world: World) -> None:
    await desk(world)
    admin = gql.as_(world.admin_token)
    res = await admin(
        CREATE,
        {
            "input": {
                "name": "Sales high",
                "isShared": True,
                "criteria": {"departmentIds": [gid("Department", world.sales.id)]},
            }
        },
    )
    view = res.data["ticketViewCreate"]["view"]
    assert view["isShared"] is True and view["ticketCount"] == 2
    # Alice (Support only) is offered the shared view, but it never shows her Sales tickets.
    alice = gql.as_(world.alice_token)
    listed = {v["id"]: v for v in (await alice(VIEWS)).data["ticketViews"]["nodes"]}
    assert listed[view["id"]]["ticketCount"] == 0
    page = (await alice(TICKETS, {"view": view["id"]})).data["tickets"]
    assert page == {"totalCount": 0, "nodes": []}
    # Bob (Sales) sees them.
    bob = gql.as_(world.bob_token)
    page = (await bob(TICKETS, {"view": view["id"]})).data["tickets"]
    assert [t["number"] for t in page["nodes"]] == [10, 9]


async def test_counts_take_one_statement_whatever_the_number_of_views(
    gql: GQLClient, world: World
) -> None:
    await desk(world)
    alice = gql.as_(world.alice_token)
    # The token's Actor cached first (services/auth_cache.py): both counts are of the data
    # statements alone (otherwise the first would include authentication, the second not).
    assert (await alice("{ __typename }")).data == {"__typename": "Query"}

    async def statements() -> list[str]:
        with count_sql() as stmts:
            res = await alice("{ ticketViews { nodes { id name ticketCount } } }")
            assert res.data
        return stmts.sql

    few = await statements()
    for i in range(6):
        res = await alice(
            CREATE, {"input": {"name": f"View {i}", "criteria": {"text": f"Ticket {i}"}}}
        )
        assert res.data["ticketViewCreate"]["errors"] == []
    many = await statements()
    counts = [s for s in many if "COUNT(" in s.upper()]
    assert len(counts) == 1, "\n".join(many)
    assert len(many) == len(few), "\n".join(many)
    listed = (await alice(VIEWS)).data["ticketViews"]["nodes"]
    # "Ticket 1" also matches "Ticket 10", which Alice may not see.
    assert [v["ticketCount"] for v in listed[-6:]] == [0, 1, 1, 1, 1, 1]


async def test_owner_updates_and_deletes_a_view(gql: GQLClient, world: World) -> None:
    await desk(world)
    alice = gql.as_(world.alice_token)
    view_id = (await alice(CREATE, {"input": {"name": "Old"}})).data["ticketViewCreate"]["view"][
        "id"
    ]
    res = await alice(
        UPDATE,
        {
            "input": {
                "id": view_id,
                "name": "On hold",
                "criteria": {"status": ["ON_HOLD"]},
                "sort": {"field": "DUE_AT", "direction": "ASC"},
            }
        },
    )
    payload = res.data["ticketViewUpdate"]
    assert payload["errors"] == []
    assert payload["view"]["name"] == "On hold"
    assert payload["view"]["sort"] == {"field": "DUE_AT", "direction": "ASC"}
    page = (await alice(TICKETS, {"view": view_id})).data["tickets"]
    assert [t["number"] for t in page["nodes"]] == [4]
    updated = await models.Activity.get(kind="ticket_view.updated")
    assert updated.changes["name"] == {"old": "Old", "new": "On hold"}
    assert updated.changes["sort_field"] == {"old": "CREATED_AT", "new": "DUE_AT"}

    res = await alice(DELETE, {"id": view_id})
    deleted = res.data["ticketViewDelete"]
    assert deleted == {"errors": [], "view": {"id": view_id, "name": "On hold"}}
    assert await models.TicketView.all().count() == 0
    assert await models.Activity.filter(kind="ticket_view.deleted").count() == 1
    res = await alice(TICKETS, {"view": view_id})
    assert res.error_codes() == ["NOT_FOUND"]


async def test_admin_manages_shared_views_of_others(gql: GQLClient, world: World) -> None:
    other_admin, other_token = await make_agent("root@zylker.com", "Root", Role.ADMINISTRATOR)
    shared = await svc.create_view(
        await auth.load_actor(other_admin.id), name="Everyone", flt=TicketFilter(), is_shared=True
    )
    admin = gql.as_(world.admin_token)
    res = await admin(UPDATE, {"input": {"id": gid("TicketView", shared.id), "isShared": False}})
    assert res.data["ticketViewUpdate"]["errors"] == []
    assert (await models.TicketView.get(id=shared.id)).is_shared is False
    # Now private to its owner: gone for everyone else, the other administrator included.
    res = await admin(DELETE, {"id": gid("TicketView", shared.id)})
    assert [e["code"] for e in res.data["ticketViewDelete"]["errors"]] == ["NOT_FOUND"]
    res = await gql.as_(other_token)(DELETE, {"id": gid("TicketView", shared.id)})
    assert res.data["ticketViewDelete"]["errors"] == []


# --- bad input: each refused with its code, nothing written -------------------------------


async def _nothing_written(before_views: int = 0, before_activities: int = 0) -> None:
    assert await models.TicketView.all().count() == before_views
    assert await models.Activity.filter(subject_type="TicketView").count() == before_activities


def _codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_malformed_view_ids_are_refused(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    for bad in ("garbage!", "standard:NOPE", "standard:", gid("Ticket", 1), gid("TicketView", 0)):
        res = await alice(TICKETS, {"view": bad})
        assert res.error_codes() == ["INVALID_ID"], bad
        assert res.body["data"] is None
    # A well-formed id of a view that does not exist.
    res = await alice(TICKETS, {"view": gid("TicketView", 999)})
    assert res.error_codes() == ["NOT_FOUND"]
    for bad in ("garbage!", "standard:NOPE", gid("Ticket", 1)):
        res = await alice(DELETE, {"id": bad})
        assert _codes(res.data["ticketViewDelete"]) == [("id", "INVALID")], bad
        res = await alice(UPDATE, {"input": {"id": bad, "name": "x"}})
        assert _codes(res.data["ticketViewUpdate"]) == [("id", "INVALID")], bad


async def test_criteria_naming_unknown_or_hidden_records(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    team = await models.Team.create(name="Sales team", department=world.sales)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"departmentIds": [gid("Department", 999)]}, "criteria.departmentIds", "NOT_FOUND"),
        # Sales exists, but Alice is not in it.
        (
            {"departmentIds": [gid("Department", world.sales.id)]},
            "criteria.departmentIds",
            "NOT_FOUND",
        ),
        ({"assigneeIds": [gid("Agent", 999)]}, "criteria.assigneeIds", "NOT_FOUND"),
        ({"assigneeIds": [gid("Agent", world.bob.id)]}, "criteria.assigneeIds", "NOT_FOUND"),
        ({"assigneeIds": [gid("Team", team.id)]}, "criteria.assigneeIds", "NOT_FOUND"),
        ({"contactId": gid("Contact", 999)}, "criteria.contactId", "NOT_FOUND"),
        ({"productId": gid("Product", 999)}, "criteria.productId", "NOT_FOUND"),
        ({"departmentIds": ["garbage!"]}, "criteria", "INVALID"),
        ({"assigneeIds": [gid("Contact", world.contact.id)]}, "criteria", "INVALID"),
    ]
    for criteria, field, code in cases:
        res = await alice(CREATE, {"input": {"name": "Bad", "criteria": criteria}})
        payload = res.data["ticketViewCreate"]
        assert _codes(payload) == [(field, code)], criteria
        assert payload["view"] is None
    await _nothing_written()
    # The same criteria in an update leave the view as it was.
    view = await svc.create_view(
        await auth.load_actor(world.alice.id), name="Fine", flt=TicketFilter()
    )
    for criteria, field, code in cases:
        res = await alice(
            UPDATE, {"input": {"id": gid("TicketView", view.id), "criteria": criteria}}
        )
        assert _codes(res.data["ticketViewUpdate"]) == [(field, code)], criteria
    row = await models.TicketView.get(id=view.id)
    assert row.criteria == svc.criteria_json(TicketFilter())
    await _nothing_written(1, 1)


async def test_only_administrators_share_views(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    res = await alice(CREATE, {"input": {"name": "For all", "isShared": True}})
    assert res.error_codes() == ["FORBIDDEN"]
    await _nothing_written()
    view = await svc.create_view(
        await auth.load_actor(world.alice.id), name="Mine", flt=TicketFilter()
    )
    res = await alice(UPDATE, {"input": {"id": gid("TicketView", view.id), "isShared": True}})
    assert res.error_codes() == ["FORBIDDEN"]
    assert (await models.TicketView.get(id=view.id)).is_shared is False
    await _nothing_written(1, 1)


async def test_empty_or_long_name_is_refused(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    for name, code in (("", "REQUIRED"), ("   ", "REQUIRED"), ("x" * 121, "TOO_LONG")):
        res = await alice(CREATE, {"input": {"name": name}})
        assert _codes(res.data["ticketViewCreate"]) == [("name", code)], name
    await _nothing_written()
    view = await svc.create_view(
        await auth.load_actor(world.alice.id), name="Named", flt=TicketFilter()
    )
    res = await alice(UPDATE, {"input": {"id": gid("TicketView", view.id), "name": " "}})
    assert _codes(res.data["ticketViewUpdate"]) == [("name", "REQUIRED")]
    assert (await models.TicketView.get(id=view.id)).name == "Named"
    await _nothing_written(1, 1)


async def test_standard_views_cannot_be_changed_or_deleted(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    res = await admin(DELETE, {"id": "standard:ALL_OPEN"})
    assert _codes(res.data["ticketViewDelete"]) == [("id", "INVALID")]
    res = await admin(UPDATE, {"input": {"id": "standard:MINE", "name": "Renamed"}})
    assert _codes(res.data["ticketViewUpdate"]) == [("id", "INVALID")]
    views = (await admin(VIEWS)).data["ticketViews"]["nodes"]
    assert [v["name"] for v in views] == [svc.STANDARD[s].name for s in svc.StandardView]
    await _nothing_written()


async def test_someone_elses_view_cannot_be_changed(gql: GQLClient, world: World) -> None:
    alice_actor = await auth.load_actor(world.alice.id)
    private = await svc.create_view(alice_actor, name="Alice's", flt=TicketFilter())
    shared = await svc.create_view(
        await auth.load_actor(world.admin.id), name="Shared", flt=TicketFilter(), is_shared=True
    )
    bob = gql.as_(world.bob_token)
    # Another agent's private view: NOT_FOUND, as if it did not exist.
    res = await bob(UPDATE, {"input": {"id": gid("TicketView", private.id), "name": "Bob's"}})
    assert _codes(res.data["ticketViewUpdate"]) == [("id", "NOT_FOUND")]
    res = await bob(DELETE, {"id": gid("TicketView", private.id)})
    assert _codes(res.data["ticketViewDelete"]) == [("id", "NOT_FOUND")]
    # A shared view Bob may use but not change: only its owner or an administrator may.
    res = await bob(UPDATE, {"input": {"id": gid("TicketView", shared.id), "name": "Bob's"}})
    assert res.error_codes() == ["FORBIDDEN"]
    res = await bob(DELETE, {"id": gid("TicketView", shared.id)})
    assert res.error_codes() == ["FORBIDDEN"]
    rows = await models.TicketView.all().order_by("id").values_list("name", "is_shared")
    assert rows == [("Alice's", False), ("Shared", True)]
    await _nothing_written(2, 2)


async def test_stored_criteria_round_trip() -> None:
    """Every TicketFilter criterion survives the JSON form a TicketView stores."""
    from deskql.models.enums import Channel

    flt = TicketFilter(
        statuses=[TicketStatus.OPEN, TicketStatus.ON_HOLD],
        priorities=[TicketPriority.URGENT],
        channels=[Channel.EMAIL],
        department_ids=[3, 1],
        assignee_agent_ids=[7],
        assignee_team_ids=[9],
        unassigned=False,
        contact_id=4,
        account_id=5,
        product_id=6,
        tag="vip",
        overdue=None,
        created_after=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        created_before=datetime(2026, 2, 1, tzinfo=UTC),
        text="printer",
        is_spam=None,
    )
    stored = svc.criteria_json(flt)
    import json

    back = svc.criteria_filter(json.loads(json.dumps(stored)))
    assert back == TicketFilter(**{**flt.__dict__, "department_ids": [1, 3]})


async def test_update_without_change_writes_no_history(gql: GQLClient, world: World) -> None:
    view = await svc.create_view(
        await auth.load_actor(world.alice.id), name="Same", flt=TicketFilter()
    )
    alice = gql.as_(world.alice_token)
    for change in ({}, {"name": "Same"}, {"criteria": {}}):
        res = await alice(UPDATE, {"input": {"id": gid("TicketView", view.id), **change}})
        payload = res.data["ticketViewUpdate"]
        assert payload["errors"] == [] and payload["view"]["name"] == "Same", change
    assert await models.Activity.filter(kind="ticket_view.updated").count() == 0
    # A deleted view's payload still answers ticketCount (the view as it was).
    res = await alice(
        "mutation($id: ID!) { ticketViewDelete(input: {id: $id}) { errors { code } "
        "view { name ticketCount } } }",
        {"id": gid("TicketView", view.id)},
    )
    assert res.data["ticketViewDelete"] == {
        "errors": [],
        "view": {"name": "Same", "ticketCount": 0},
    }
