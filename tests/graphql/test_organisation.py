"""GraphQL tests for departments, teams, agents, the own profile and the organisation
(ORG-1..ORG-5, PRO-1): given a world, when a query or mutation runs, then values, error codes
and the rows written (or not written)."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.models.enums import Role
from deskql.services import auth, organisation, tickets
from tests.conftest import GQLClient, World, gid, make_agent

DEPARTMENT = "department { id name description agents { nodes { email } } teams { name } }"
TEAM = "team { id name description department { name } members { nodes { email } } }"
AGENT = (
    "agent { id email firstName lastName name role isActive avatarUrl about hobbies "
    "departments { name } teams { name } }"
)


def mutation(name: str, input_type: str, selection: str) -> str:
    return f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{ errors {{ field message code }} {selection} }}
}}
"""


DEPARTMENT_CREATE = mutation("departmentCreate", "DepartmentCreateInput", DEPARTMENT)
DEPARTMENT_UPDATE = mutation("departmentUpdate", "DepartmentUpdateInput", DEPARTMENT)
DEPARTMENT_DELETE = mutation("departmentDelete", "DepartmentDeleteInput", DEPARTMENT)
TEAM_CREATE = mutation("teamCreate", "TeamCreateInput", TEAM)
TEAM_UPDATE = mutation("teamUpdate", "TeamUpdateInput", TEAM)
TEAM_MEMBERS_SET = mutation("teamMembersSet", "TeamMembersSetInput", TEAM)
TEAM_DELETE = mutation("teamDelete", "TeamDeleteInput", TEAM)
AGENT_CREATE = mutation("agentCreate", "AgentCreateInput", AGENT)
AGENT_UPDATE = mutation("agentUpdate", "AgentUpdateInput", AGENT)
AGENT_DELETE = mutation("agentDelete", "AgentDeleteInput", AGENT)
PROFILE_UPDATE = mutation("profileUpdate", "ProfileUpdateInput", AGENT)
ORGANISATION_UPDATE = mutation(
    "organisationUpdate", "OrganisationUpdateInput", "organisation { name edition slug }"
)


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables this family writes, to prove a refusal wrote nothing."""
    out = {}
    for model in (
        models.Organisation,
        models.Department,
        models.Team,
        models.TeamMembership,
        models.Agent,
        models.DepartmentMembership,
        models.Ticket,
        models.Activity,
    ):
        out[model.__name__] = await model.all().order_by("id").values()
    return out


def errors_of(res: Any, name: str) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in res.data[name]["errors"]]


async def make_team(world: World, dept: models.Department, name: str, members: list[int]) -> Any:
    admin = await auth.load_actor(world.admin.id)
    return await organisation.create_team(
        admin, department_id=dept.id, name=name, member_ids=members
    )


# --- queries -----------------------------------------------------------------------------


DEPARTMENTS = """
query($filter: DepartmentFilter, $sort: DepartmentSort, $first: Int, $after: String) {
  departments(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { name }
  }
}
"""


async def test_departments_query_is_scoped(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    res = await alice(DEPARTMENTS)
    assert res.data["departments"]["totalCount"] == 1
    assert res.data["departments"]["nodes"] == [{"name": "Support"}]

    admin = gql.as_(world.admin_token)
    res = await admin(DEPARTMENTS, {"first": 1})
    page = res.data["departments"]
    assert page["totalCount"] == 2 and page["nodes"] == [{"name": "Sales"}]
    assert page["pageInfo"]["hasNextPage"] is True
    res = await admin(DEPARTMENTS, {"first": 1, "after": page["pageInfo"]["endCursor"]})
    assert res.data["departments"]["nodes"] == [{"name": "Support"}]

    res = await admin(DEPARTMENTS, {"sort": {"field": "NAME", "direction": "DESC"}})
    assert res.data["departments"]["nodes"] == [{"name": "Support"}, {"name": "Sales"}]
    res = await admin(DEPARTMENTS, {"filter": {"text": "sup"}})
    assert res.data["departments"]["nodes"] == [{"name": "Support"}]


async def test_department_by_id_is_null_outside_your_departments(
    gql: GQLClient, world: World
) -> None:
    query = "query($id: ID!) { department(id: $id) { name agents { nodes { email } } } }"
    alice = gql.as_(world.alice_token)
    res = await alice(query, {"id": gid("Department", world.sales.id)})
    assert res.data["department"] is None
    res = await alice(query, {"id": gid("Department", world.support.id)})
    assert res.data["department"] == {
        "name": "Support",
        "agents": {"nodes": [{"email": "alice@zylker.com"}]},
    }
    res = await gql.as_(world.admin_token)(query, {"id": gid("Department", world.sales.id)})
    assert res.data["department"]["name"] == "Sales"
    # A malformed id or one of another type is a top-level error in a query.
    res = await alice(query, {"id": "???"})
    assert res.error_codes() == ["INVALID_ID"]
    res = await alice(query, {"id": gid("Agent", world.alice.id)})
    assert res.error_codes() == ["INVALID_ID"]


AGENTS = """
query($filter: AgentFilter, $sort: AgentSort) {
  agents(filter: $filter, sort: $sort) { totalCount nodes { email } }
}
"""


async def test_agents_query_is_scoped(gql: GQLClient, world: World) -> None:
    carol, _ = await make_agent(
        "carol@zylker.com", "Carol", depts=[world.support.id, world.sales.id]
    )
    alice = gql.as_(world.alice_token)
    res = await alice(AGENTS)
    assert res.data["agents"]["nodes"] == [
        {"email": "alice@zylker.com"},
        {"email": "carol@zylker.com"},
    ]
    query = "query($id: ID!) { agent(id: $id) { email departments { name } } }"
    res = await alice(query, {"id": gid("Agent", world.bob.id)})
    assert res.data["agent"] is None
    res = await alice(query, {"id": gid("Agent", carol.id)})
    # Carol's Sales membership is not Alice's business: neither listed nor filterable.
    assert res.data["agent"] == {"email": "carol@zylker.com", "departments": [{"name": "Support"}]}
    res = await alice(AGENTS, {"filter": {"departmentId": gid("Department", world.sales.id)}})
    assert res.data["agents"]["totalCount"] == 0
    assert res.data["agents"]["nodes"] == []

    admin = gql.as_(world.admin_token)
    res = await admin(AGENTS)
    assert res.data["agents"]["totalCount"] == 4
    res = await admin(AGENTS, {"filter": {"departmentId": gid("Department", world.sales.id)}})
    assert res.data["agents"]["nodes"] == [
        {"email": "bob@zylker.com"},
        {"email": "carol@zylker.com"},
    ]
    res = await admin(AGENTS, {"filter": {"role": "ADMINISTRATOR"}})
    assert res.data["agents"]["nodes"] == [{"email": "admin@zylker.com"}]
    res = await admin(AGENTS, {"filter": {"text": "car"}, "sort": {"field": "CREATED_AT"}})
    assert res.data["agents"]["nodes"] == [{"email": "carol@zylker.com"}]
    res = await admin(AGENTS, {"filter": {"isActive": False}})
    assert res.data["agents"]["totalCount"] == 0


TEAMS = """
query($filter: TeamFilter) { teams(filter: $filter) { totalCount nodes { name } } }
"""


async def test_teams_query_is_scoped(gql: GQLClient, world: World) -> None:
    support = await make_team(world, world.support, "Tier 1", [world.alice.id])
    sales = await make_team(world, world.sales, "Closers", [world.bob.id])
    alice = gql.as_(world.alice_token)
    res = await alice(TEAMS)
    assert res.data["teams"]["nodes"] == [{"name": "Tier 1"}]
    query = (
        "query($id: ID!) { team(id: $id) { name members { nodes { email } } department { name } } }"
    )
    res = await alice(query, {"id": gid("Team", sales.id)})
    assert res.data["team"] is None
    res = await alice(query, {"id": gid("Team", support.id)})
    assert res.data["team"] == {
        "name": "Tier 1",
        "members": {"nodes": [{"email": "alice@zylker.com"}]},
        "department": {"name": "Support"},
    }
    admin = gql.as_(world.admin_token)
    res = await admin(TEAMS)
    assert res.data["teams"]["nodes"] == [{"name": "Closers"}, {"name": "Tier 1"}]
    res = await admin(
        TEAMS, {"filter": {"departmentId": gid("Department", world.sales.id), "text": "clo"}}
    )
    assert res.data["teams"]["nodes"] == [{"name": "Closers"}]


# --- departments -------------------------------------------------------------------------


async def test_department_create_update_delete(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    res = await admin(DEPARTMENT_CREATE, {"input": {"name": "Billing", "description": "Money"}})
    payload = res.data["departmentCreate"]
    assert payload["errors"] == []
    assert payload["department"]["name"] == "Billing"
    dept_id = payload["department"]["id"]
    assert await models.Activity.filter(kind="department.created").count() == 3

    res = await admin(
        DEPARTMENT_UPDATE, {"input": {"id": dept_id, "name": "Billing EU", "description": None}}
    )
    payload = res.data["departmentUpdate"]
    assert payload["errors"] == []
    assert payload["department"]["name"] == "Billing EU"
    assert payload["department"]["description"] == ""
    row = await models.Activity.get(kind="department.updated")
    assert row.changes == {
        "name": {"old": "Billing", "new": "Billing EU"},
        "description": {"old": "Money", "new": ""},
    }

    res = await admin(DEPARTMENT_DELETE, {"input": {"id": dept_id}})
    assert res.data["departmentDelete"]["errors"] == []
    assert res.data["departmentDelete"]["department"]["name"] == "Billing EU"
    assert not await models.Department.exists(name="Billing EU")
    assert await models.Activity.exists(kind="department.deleted")


async def test_non_admin_department_create_is_forbidden(gql: GQLClient, world: World) -> None:
    before = await snapshot()
    res = await gql.as_(world.alice_token)(DEPARTMENT_CREATE, {"input": {"name": "Billing"}})
    assert res.error_codes() == ["FORBIDDEN"]
    assert res.body["data"] is None
    assert await snapshot() == before


async def test_department_delete_in_use(gql: GQLClient, world: World) -> None:
    await tickets.create_ticket(
        await auth.load_actor(world.admin.id),
        subject="Quote please",
        department_id=world.sales.id,
        contact_id=world.contact.id,
    )
    before = await snapshot()
    res = await gql.as_(world.admin_token)(
        DEPARTMENT_DELETE, {"input": {"id": gid("Department", world.sales.id)}}
    )
    assert errors_of(res, "departmentDelete") == [("id", "IN_USE")]
    assert res.data["departmentDelete"]["department"] is None
    assert await snapshot() == before


async def test_department_bad_input_writes_nothing(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    before = await snapshot()
    cases = [
        (DEPARTMENT_CREATE, "departmentCreate", {"name": "   "}, [("name", "REQUIRED")]),
        (DEPARTMENT_CREATE, "departmentCreate", {"name": "x" * 121}, [("name", "TOO_LONG")]),
        (DEPARTMENT_CREATE, "departmentCreate", {"name": "SUPPORT"}, [("name", "DUPLICATE")]),
        (
            DEPARTMENT_UPDATE,
            "departmentUpdate",
            {"id": gid("Department", world.sales.id), "name": "support"},
            [("name", "DUPLICATE")],
        ),
        (
            DEPARTMENT_UPDATE,
            "departmentUpdate",
            {"id": gid("Department", world.sales.id), "name": None},
            [("name", "REQUIRED")],
        ),
        (DEPARTMENT_UPDATE, "departmentUpdate", {"id": "!!", "name": "X"}, [("id", "INVALID")]),
        (
            DEPARTMENT_UPDATE,
            "departmentUpdate",
            {"id": gid("Team", world.sales.id), "name": "X"},
            [("id", "INVALID")],
        ),
        (
            DEPARTMENT_DELETE,
            "departmentDelete",
            {"id": gid("Department", 999)},
            [("id", "NOT_FOUND")],
        ),
    ]
    for query, name, input_, expected in cases:
        res = await admin(query, {"input": input_})
        assert errors_of(res, name) == expected, input_
    assert await snapshot() == before


# --- teams -------------------------------------------------------------------------------


async def test_team_create_update_members_delete(gql: GQLClient, world: World) -> None:
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    admin = gql.as_(world.admin_token)
    res = await admin(
        TEAM_CREATE,
        {
            "input": {
                "departmentId": gid("Department", world.support.id),
                "name": "Tier 1",
                "memberIds": [gid("Agent", world.alice.id)],
            }
        },
    )
    payload = res.data["teamCreate"]
    assert payload["errors"] == []
    team = payload["team"]
    assert team["department"] == {"name": "Support"}
    assert team["members"]["nodes"] == [{"email": "alice@zylker.com"}]
    assert await models.Activity.exists(kind="team.created")

    res = await admin(
        TEAM_UPDATE,
        {"input": {"id": team["id"], "name": "Tier 2", "memberIds": [gid("Agent", carol.id)]}},
    )
    payload = res.data["teamUpdate"]
    assert payload["errors"] == []
    assert payload["team"]["name"] == "Tier 2"
    assert payload["team"]["members"]["nodes"] == [{"email": "carol@zylker.com"}]

    res = await admin(
        TEAM_MEMBERS_SET,
        {
            "input": {
                "teamId": team["id"],
                "memberIds": [gid("Agent", carol.id), gid("Agent", world.alice.id)],
            }
        },
    )
    assert res.data["teamMembersSet"]["errors"] == []
    assert res.data["teamMembersSet"]["team"]["members"]["nodes"] == [
        {"email": "alice@zylker.com"},
        {"email": "carol@zylker.com"},
    ]
    assert await models.Activity.filter(kind="team.updated").count() == 2

    res = await admin(TEAM_DELETE, {"input": {"id": team["id"]}})
    assert res.data["teamDelete"]["errors"] == []
    assert await models.Team.all().count() == 0
    assert await models.TeamMembership.all().count() == 0
    assert await models.Activity.exists(kind="team.deleted")


async def test_team_bad_input_writes_nothing(gql: GQLClient, world: World) -> None:
    team = await make_team(world, world.support, "Tier 1", [world.alice.id])
    admin = gql.as_(world.admin_token)
    support = gid("Department", world.support.id)
    before = await snapshot()
    cases = [
        (TEAM_CREATE, "teamCreate", {"departmentId": support, "name": ""}, [("name", "REQUIRED")]),
        (
            TEAM_CREATE,
            "teamCreate",
            {"departmentId": support, "name": "TIER 1"},
            [("name", "DUPLICATE")],
        ),
        (
            TEAM_CREATE,
            "teamCreate",
            {"departmentId": support, "name": "Tier 2", "memberIds": [gid("Agent", world.bob.id)]},
            [("memberIds", "INVALID")],
        ),
        (
            TEAM_CREATE,
            "teamCreate",
            {"departmentId": gid("Agent", world.bob.id), "name": "Tier 2"},
            [("departmentId", "INVALID")],
        ),
        (
            TEAM_CREATE,
            "teamCreate",
            {"departmentId": support, "name": "Tier 2", "memberIds": ["bad id"]},
            [("memberIds", "INVALID")],
        ),
        (
            TEAM_UPDATE,
            "teamUpdate",
            {"id": gid("Team", team.id), "memberIds": [gid("Agent", world.bob.id)]},
            [("memberIds", "INVALID")],
        ),
        (
            TEAM_MEMBERS_SET,
            "teamMembersSet",
            {"teamId": gid("Department", team.id), "memberIds": []},
            [("teamId", "INVALID")],
        ),
        (TEAM_DELETE, "teamDelete", {"id": gid("Team", 999)}, [("id", "NOT_FOUND")]),
    ]
    for query, name, input_, expected in cases:
        res = await admin(query, {"input": input_})
        assert errors_of(res, name) == expected, input_
    assert await snapshot() == before


# --- agents ------------------------------------------------------------------------------


async def test_agent_create_update_delete(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    res = await admin(
        AGENT_CREATE,
        {
            "input": {
                "email": "Dana@Zylker.com",
                "firstName": "Dana",
                "lastName": "Scully",
                "departmentIds": [gid("Department", world.support.id)],
                "password": "trust no one",
                "about": "Sceptic",
                "hobbies": "astronomy",
                "avatarUrl": "https://cdn.example.com/dana.png",
            }
        },
    )
    payload = res.data["agentCreate"]
    assert payload["errors"] == []
    agent = payload["agent"]
    assert agent["email"] == "dana@zylker.com"
    assert agent["name"] == "Dana Scully"
    assert agent["role"] == "AGENT" and agent["isActive"] is True
    assert agent["departments"] == [{"name": "Support"}]
    assert await models.Activity.exists(kind="agent.created", subject_type="Agent")
    login = await gql(
        'mutation { login(input: {email: "dana@zylker.com", password: "trust no one"}) '
        "{ errors { code } token } }"
    )
    assert login.data["login"]["errors"] == []

    res = await admin(
        AGENT_UPDATE,
        {
            "input": {
                "id": agent["id"],
                "role": "ADMINISTRATOR",
                "departmentIds": [gid("Department", world.sales.id)],
                "hobbies": None,
            }
        },
    )
    payload = res.data["agentUpdate"]
    assert payload["errors"] == []
    assert payload["agent"]["role"] == "ADMINISTRATOR"
    assert payload["agent"]["departments"] == [{"name": "Sales"}]
    assert payload["agent"]["hobbies"] == ""
    row = await models.Activity.get(kind="agent.updated")
    assert set(row.changes) == {"role", "department_ids", "hobbies"}

    res = await admin(AGENT_DELETE, {"input": {"id": agent["id"]}})
    assert res.data["agentDelete"]["errors"] == []
    assert res.data["agentDelete"]["agent"]["email"] == "dana@zylker.com"
    assert not await models.Agent.exists(email="dana@zylker.com")
    assert await models.Activity.exists(kind="agent.deleted")


async def test_agent_delete_unassigns_tickets(gql: GQLClient, world: World) -> None:
    ticket = await tickets.create_ticket(
        await auth.load_actor(world.admin.id),
        subject="Quote please",
        department_id=world.sales.id,
        contact_id=world.contact.id,
        assignee_agent_id=world.bob.id,
    )
    res = await gql.as_(world.admin_token)(
        AGENT_DELETE, {"input": {"id": gid("Agent", world.bob.id)}}
    )
    assert res.data["agentDelete"]["errors"] == []
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.assignee_agent_id is None  # type: ignore[attr-defined]
    row = await models.Activity.get(kind="ticket.updated", ticket_id=ticket.id)
    assert row.changes == {"assignee_agent_id": {"old": world.bob.id, "new": None}}


async def test_agent_bad_input_writes_nothing(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    me = gid("Agent", world.admin.id)
    bob = gid("Agent", world.bob.id)
    before = await snapshot()
    cases = [
        (
            AGENT_CREATE,
            "agentCreate",
            {"email": "nope", "lastName": "X"},
            [("email", "INVALID_EMAIL")],
        ),
        (
            AGENT_CREATE,
            "agentCreate",
            {"email": "BOB@zylker.com", "lastName": "X"},
            [("email", "DUPLICATE")],
        ),
        (
            AGENT_CREATE,
            "agentCreate",
            {"email": "x@zylker.com", "lastName": " "},
            [("lastName", "REQUIRED")],
        ),
        (
            AGENT_CREATE,
            "agentCreate",
            {"email": "x@zylker.com", "lastName": "x" * 101},
            [("lastName", "TOO_LONG")],
        ),
        (
            AGENT_CREATE,
            "agentCreate",
            {"email": "x@zylker.com", "lastName": "X", "password": "short"},
            [("password", "INVALID")],
        ),
        (
            AGENT_CREATE,
            "agentCreate",
            {"email": "x@zylker.com", "lastName": "X", "departmentIds": [bob]},
            [("departmentIds", "INVALID")],
        ),
        (
            AGENT_CREATE,
            "agentCreate",
            {"email": "x@zylker.com", "lastName": "X", "avatarUrl": "javascript:alert(1)"},
            [("avatarUrl", "INVALID")],
        ),
        (AGENT_UPDATE, "agentUpdate", {"id": me, "role": "AGENT"}, [("role", "INVALID")]),
        (AGENT_UPDATE, "agentUpdate", {"id": me, "isActive": False}, [("isActive", "INVALID")]),
        (
            AGENT_UPDATE,
            "agentUpdate",
            {"id": bob, "email": "alice@zylker.com"},
            [("email", "DUPLICATE")],
        ),
        (
            AGENT_UPDATE,
            "agentUpdate",
            {"id": bob, "password": "1234567"},
            [("password", "INVALID")],
        ),
        (AGENT_UPDATE, "agentUpdate", {"id": bob, "lastName": None}, [("lastName", "REQUIRED")]),
        (AGENT_UPDATE, "agentUpdate", {"id": "QWdlbnQ6eA", "about": "x"}, [("id", "INVALID")]),
        (AGENT_DELETE, "agentDelete", {"id": me}, [("id", "INVALID")]),
        (AGENT_DELETE, "agentDelete", {"id": gid("Agent", 999)}, [("id", "NOT_FOUND")]),
    ]
    for query, name, input_, expected in cases:
        res = await admin(query, {"input": input_})
        assert errors_of(res, name) == expected, input_
    assert await snapshot() == before


async def test_unknown_role_is_a_graphql_validation_error(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    before = await snapshot()
    res = await admin(
        'mutation { agentCreate(input: {email: "x@zylker.com", lastName: "X", role: OWNER}) '
        "{ errors { code } } }"
    )
    assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"]
    assert "OWNER" in res.errors[0]["message"]
    # The same through a variable is refused before execution too.
    res = await admin(
        AGENT_CREATE, {"input": {"email": "x@zylker.com", "lastName": "X", "role": "OWNER"}}
    )
    assert res.body["data"] is None
    assert "does not exist in 'Role' enum" in res.errors[0]["message"]
    assert res.error_codes() == ["BAD_USER_INPUT"]
    assert await snapshot() == before


async def test_non_admin_agent_mutations_are_forbidden(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    before = await snapshot()
    res = await alice(
        AGENT_UPDATE, {"input": {"id": gid("Agent", world.alice.id), "role": "ADMINISTRATOR"}}
    )
    assert res.error_codes() == ["FORBIDDEN"]
    res = await alice(AGENT_DELETE, {"input": {"id": gid("Agent", world.bob.id)}})
    assert res.error_codes() == ["FORBIDDEN"]
    res = await alice(ORGANISATION_UPDATE, {"input": {"name": "Mine"}})
    assert res.error_codes() == ["FORBIDDEN"]
    assert await snapshot() == before


async def test_deactivated_agent_token_is_refused(gql: GQLClient, world: World) -> None:
    bob = gql.as_(world.bob_token)
    assert (await bob("{ me { email } }")).data["me"]["email"] == "bob@zylker.com"
    res = await gql.as_(world.admin_token)(
        AGENT_UPDATE, {"input": {"id": gid("Agent", world.bob.id), "isActive": False}}
    )
    assert res.data["agentUpdate"]["errors"] == []
    assert res.data["agentUpdate"]["agent"]["isActive"] is False
    res = await bob("{ me { email } }")
    assert res.error_codes() == ["UNAUTHENTICATED"]
    # Reactivated, the same token works again: deactivation keeps everything.
    await organisation.update_agent(
        await auth.load_actor(world.admin.id), agent_id=world.bob.id, is_active=True
    )
    assert (await bob("{ me { email } }")).data["me"]["email"] == "bob@zylker.com"


async def test_second_admin_lets_the_first_step_down(gql: GQLClient, world: World) -> None:
    other, _ = await make_agent("root@zylker.com", "Root", Role.ADMINISTRATOR)
    res = await gql.as_(world.admin_token)(
        AGENT_UPDATE, {"input": {"id": gid("Agent", world.admin.id), "role": "AGENT"}}
    )
    assert res.data["agentUpdate"]["errors"] == []
    assert (await models.Agent.get(id=world.admin.id)).role is Role.AGENT
    assert (await models.Agent.get(id=other.id)).role is Role.ADMINISTRATOR


# --- own profile and organisation ------------------------------------------------------


async def test_profile_update(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    res = await alice(
        PROFILE_UPDATE,
        {
            "input": {
                "firstName": "Alice",
                "lastName": "Liddell",
                "about": "Down the rabbit hole",
                "hobbies": "croquet",
                "avatarUrl": "http://example.com/alice.png",
            }
        },
    )
    payload = res.data["profileUpdate"]
    assert payload["errors"] == []
    assert payload["agent"]["name"] == "Alice Liddell"
    assert payload["agent"]["hobbies"] == "croquet"
    row = await models.Activity.get(kind="profile.updated")
    assert row.actor_id == world.alice.id  # type: ignore[attr-defined]
    assert row.changes["last_name"] == {"old": "Alice", "new": "Liddell"}

    res = await alice(
        PROFILE_UPDATE,
        {"input": {"password": "wonderland!", "currentPassword": "correct horse"}},
    )
    assert res.data["profileUpdate"]["errors"] == []
    login = await gql(
        'mutation { login(input: {email: "alice@zylker.com", password: "wonderland!"}) '
        "{ errors { code } } }"
    )
    assert login.data["login"]["errors"] == []


async def test_profile_update_bad_input_writes_nothing(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    before = await snapshot()
    cases = [
        ({"password": "wonderland!"}, [("currentPassword", "INVALID_CREDENTIALS")]),
        (
            {"password": "wonderland!", "currentPassword": "wrong horse"},
            [("currentPassword", "INVALID_CREDENTIALS")],
        ),
        ({"password": "short", "currentPassword": "correct horse"}, [("password", "INVALID")]),
        ({"avatarUrl": "ftp://example.com/a.png"}, [("avatarUrl", "INVALID")]),
        ({"lastName": ""}, [("lastName", "REQUIRED")]),
        ({"hobbies": "x" * 501}, [("hobbies", "TOO_LONG")]),
    ]
    for input_, expected in cases:
        res = await alice(PROFILE_UPDATE, {"input": input_})
        assert errors_of(res, "profileUpdate") == expected, input_
    assert await snapshot() == before


async def test_organisation_update(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    res = await admin(ORGANISATION_UPDATE, {"input": {"name": "Zylker Inc", "edition": "FREE"}})
    payload = res.data["organisationUpdate"]
    assert payload["errors"] == []
    assert payload["organisation"] == {"name": "Zylker Inc", "edition": "FREE", "slug": "zylker"}
    assert await models.Activity.exists(kind="organisation.updated")
    before = await snapshot()
    res = await admin(ORGANISATION_UPDATE, {"input": {"name": " "}})
    assert errors_of(res, "organisationUpdate") == [("name", "REQUIRED")]
    res = await admin("mutation { organisationUpdate(input: {edition: GOLD}) { errors { code } } }")
    assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"]
    assert await snapshot() == before
