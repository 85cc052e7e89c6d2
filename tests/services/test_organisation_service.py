"""Service tests for the organisation family (ORG-1..ORG-5, PRO-1), without GraphQL."""

from __future__ import annotations

from typing import Any

import pytest

from deskql import models
from deskql.models.enums import Edition, Role
from deskql.services import auth, organisation, tickets
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, NotAuthenticated, PermissionDenied, ValidationFailed
from tests.conftest import World, make_agent


async def actor(agent: models.Agent) -> Actor:
    return await auth.load_actor(agent.id)


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


def codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str | None, ErrorCode]]:
    return [(e.field, e.code) for e in exc.value.errors]


async def ticket_for(world: World, dept: models.Department, **kwargs: Any) -> models.Ticket:
    return await tickets.create_ticket(
        await actor(world.admin),
        subject="Printer on fire",
        department_id=dept.id,
        contact_id=world.contact.id,
        **kwargs,
    )


# --- departments -------------------------------------------------------------------------


async def test_departments_are_scoped_to_the_agents_own(world: World) -> None:
    alice = await actor(world.alice)
    admin = await actor(world.admin)
    assert [d.name for d in await organisation.list_departments(alice)] == ["Support"]
    assert [d.name for d in await organisation.list_departments(admin)] == ["Sales", "Support"]
    assert await organisation.get_department(alice, department_id=world.sales.id) is None
    got = await organisation.get_department(alice, department_id=world.support.id)
    assert got is not None and got.id == world.support.id


async def test_department_list_filters_and_sorts(world: World) -> None:
    admin = await actor(world.admin)
    await organisation.create_department(admin, name="after sales")
    by_name = await organisation.list_departments(admin)
    assert [d.name for d in by_name] == ["after sales", "Sales", "Support"]
    desc = await organisation.list_departments(admin, desc=True)
    assert [d.name for d in desc] == ["Support", "Sales", "after sales"]
    created = await organisation.list_departments(admin, sort="CREATED_AT")
    assert [d.name for d in created] == ["Sales", "Support", "after sales"]
    assert [d.name for d in await organisation.list_departments(admin, text="SALES")] == [
        "after sales",
        "Sales",
    ]
    assert await organisation.list_departments(admin, text="nothing").count() == 0


async def test_non_admin_cannot_create_department_and_nothing_is_written(world: World) -> None:
    before = await snapshot()
    with pytest.raises(PermissionDenied):
        await organisation.create_department(await actor(world.alice), name="Billing")
    assert await snapshot() == before


async def test_create_department_records_activity(world: World) -> None:
    admin = await actor(world.admin)
    dept = await organisation.create_department(admin, name="  Billing ", description="Money")
    assert (dept.name, dept.description) == ("Billing", "Money")
    row = await models.Activity.get(kind="department.created", subject_id=dept.id)
    assert row.actor_id == world.admin.id and row.department_id == dept.id  # type: ignore[attr-defined]


async def test_department_names_are_unique_ignoring_case(world: World) -> None:
    admin = await actor(world.admin)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.create_department(admin, name="sales")
    assert codes(exc) == [("name", ErrorCode.DUPLICATE)]
    with pytest.raises(ValidationFailed) as exc:
        await organisation.update_department(admin, department_id=world.support.id, name="SALES")
    assert codes(exc) == [("name", ErrorCode.DUPLICATE)]
    assert await snapshot() == before


async def test_update_department_diffs_old_and_new(world: World) -> None:
    admin = await actor(world.admin)
    dept = await organisation.update_department(
        admin, department_id=world.sales.id, name="Sales EMEA", description="Europe"
    )
    assert (dept.name, dept.description) == ("Sales EMEA", "Europe")
    row = await models.Activity.get(kind="department.updated")
    assert row.changes == {
        "name": {"old": "Sales", "new": "Sales EMEA"},
        "description": {"old": "", "new": "Europe"},
    }
    # Same values again: nothing changes, no second row.
    await organisation.update_department(admin, department_id=world.sales.id, name="Sales EMEA")
    assert await models.Activity.filter(kind="department.updated").count() == 1


async def test_delete_department_refused_while_it_has_tickets_or_teams(world: World) -> None:
    admin = await actor(world.admin)
    ticket = await ticket_for(world, world.sales)
    team = await organisation.create_team(admin, department_id=world.sales.id, name="Tier 1")
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.delete_department(admin, department_id=world.sales.id)
    assert codes(exc) == [("id", ErrorCode.IN_USE), ("id", ErrorCode.IN_USE)]
    assert await snapshot() == before

    await tickets.delete_ticket(admin, ticket_id=ticket.id)
    await organisation.delete_team(admin, team_id=team.id)
    await organisation.delete_department(admin, department_id=world.sales.id)
    assert not await models.Department.exists(id=world.sales.id)
    # Bob's membership went with it; Bob stays.
    assert await models.DepartmentMembership.filter(agent_id=world.bob.id).count() == 0
    assert await models.Agent.exists(id=world.bob.id)
    assert await models.Activity.exists(kind="department.deleted", subject_id=world.sales.id)


async def test_delete_unknown_department_is_not_found(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc:
        await organisation.delete_department(await actor(world.admin), department_id=999)
    assert codes(exc) == [("id", ErrorCode.NOT_FOUND)]


# --- teams -------------------------------------------------------------------------------


async def test_team_members_must_be_agents_of_the_department(world: World) -> None:
    admin = await actor(world.admin)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.create_team(
            admin, department_id=world.support.id, name="Tier 1", member_ids=[world.bob.id]
        )
    assert codes(exc) == [("memberIds", ErrorCode.INVALID)]
    with pytest.raises(ValidationFailed) as exc:
        await organisation.create_team(
            admin, department_id=world.support.id, name="Tier 1", member_ids=[4242]
        )
    assert codes(exc) == [("memberIds", ErrorCode.NOT_FOUND)]
    with pytest.raises(ValidationFailed) as exc:
        await organisation.create_team(admin, department_id=4242, name="Tier 1")
    assert codes(exc) == [("departmentId", ErrorCode.NOT_FOUND)]
    assert await snapshot() == before


async def test_team_names_are_unique_per_department(world: World) -> None:
    admin = await actor(world.admin)
    await organisation.create_team(admin, department_id=world.support.id, name="Tier 1")
    # The same name in another department is fine.
    await organisation.create_team(admin, department_id=world.sales.id, name="Tier 1")
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.create_team(admin, department_id=world.support.id, name="tier 1")
    assert codes(exc) == [("name", ErrorCode.DUPLICATE)]
    assert await snapshot() == before


async def test_set_team_members_replaces_and_records(world: World) -> None:
    admin = await actor(world.admin)
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    team = await organisation.create_team(
        admin, department_id=world.support.id, name="Tier 1", member_ids=[world.alice.id]
    )
    await organisation.set_team_members(admin, team_id=team.id, member_ids=[carol.id])
    members = await models.TeamMembership.filter(team_id=team.id).values_list("agent_id", flat=True)
    assert list(members) == [carol.id]
    row = await models.Activity.get(kind="team.updated", subject_id=team.id)
    assert row.changes == {"member_ids": {"old": [world.alice.id], "new": [carol.id]}}
    assert row.department_id == world.support.id


async def test_teams_are_scoped_to_the_agents_departments(world: World) -> None:
    admin = await actor(world.admin)
    alice = await actor(world.alice)
    mine = await organisation.create_team(admin, department_id=world.support.id, name="Tier 1")
    other = await organisation.create_team(admin, department_id=world.sales.id, name="Closers")
    assert [t.id for t in await organisation.list_teams(alice)] == [mine.id]
    assert await organisation.get_team(alice, team_id=other.id) is None
    assert [t.id for t in await organisation.list_teams(admin)] == [other.id, mine.id]
    listed = await organisation.list_teams(admin, department_id=world.sales.id)
    assert [t.id for t in listed] == [other.id]


async def test_delete_team_unassigns_its_tickets(world: World) -> None:
    admin = await actor(world.admin)
    team = await organisation.create_team(admin, department_id=world.support.id, name="Tier 1")
    ticket = await ticket_for(world, world.support, assignee_team_id=team.id)
    await organisation.delete_team(admin, team_id=team.id)
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.assignee_team_id is None  # type: ignore[attr-defined]
    assert fresh.version == ticket.version + 1
    row = await models.Activity.get(kind="ticket.updated", ticket_id=ticket.id)
    assert row.changes == {"assignee_team_id": {"old": team.id, "new": None}}
    assert await models.Activity.exists(kind="team.deleted", subject_id=team.id)


# --- agents ------------------------------------------------------------------------------


async def test_agents_are_scoped_to_shared_departments(world: World) -> None:
    alice = await actor(world.alice)
    admin = await actor(world.admin)
    # Alice shares no department with the admin (who has none) nor with Bob.
    assert [a.id for a in await organisation.list_agents(alice)] == [world.alice.id]
    assert await organisation.get_agent(alice, agent_id=world.bob.id) is None
    everyone = [a.id for a in await organisation.list_agents(admin)]
    assert sorted(everyone) == sorted([world.admin.id, world.alice.id, world.bob.id])
    # Filtering by a department Alice is not in reveals nothing about it, not even that
    # Carol, whom Alice sees through Support, also works in Sales.
    carol, _ = await make_agent(
        "carol@zylker.com", "Carol", depts=[world.sales.id, world.support.id]
    )
    assert carol.id in [a.id for a in await organisation.list_agents(alice)]
    assert await organisation.list_agents(alice, department_id=world.sales.id).count() == 0
    in_support = organisation.list_agents(alice, department_id=world.support.id)
    assert [a.id for a in await in_support] == [world.alice.id, carol.id]


async def test_agent_list_filters(world: World) -> None:
    admin = await actor(world.admin)
    await organisation.update_agent(admin, agent_id=world.bob.id, is_active=False)
    admins = await organisation.list_agents(admin, role=Role.ADMINISTRATOR)
    assert [a.id for a in admins] == [world.admin.id]
    inactive = await organisation.list_agents(admin, is_active=False)
    assert [a.id for a in inactive] == [world.bob.id]
    in_sales = await organisation.list_agents(admin, department_id=world.sales.id)
    assert [a.id for a in in_sales] == [world.bob.id]
    by_text = await organisation.list_agents(admin, text="ALICE zylker")
    assert [a.id for a in by_text] == [world.alice.id]
    names = [a.last_name for a in await organisation.list_agents(admin, desc=True)]
    assert names == ["Bob", "Alice", "Admin"]


async def test_create_agent_validates_everything_before_writing(world: World) -> None:
    admin = await actor(world.admin)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.create_agent(
            admin,
            email="not-an-email",
            last_name=" ",
            first_name="x" * 101,
            password="short",
            avatar_url="ftp://example.com/me.png",
            department_ids=[999],
        )
    assert sorted(codes(exc)) == sorted(
        [
            ("email", ErrorCode.INVALID_EMAIL),
            ("lastName", ErrorCode.REQUIRED),
            ("firstName", ErrorCode.TOO_LONG),
            ("avatarUrl", ErrorCode.INVALID),
            ("password", ErrorCode.INVALID),
            ("departmentIds", ErrorCode.NOT_FOUND),
        ]
    )
    with pytest.raises(ValidationFailed) as exc:
        await organisation.create_agent(admin, email="ALICE@zylker.com", last_name="Other")
    assert codes(exc) == [("email", ErrorCode.DUPLICATE)]
    with pytest.raises(PermissionDenied):
        await organisation.create_agent(
            await actor(world.alice), email="x@zylker.com", last_name="X"
        )
    assert await snapshot() == before


async def test_update_agent_changes_departments_and_leaves_teams_outside(world: World) -> None:
    admin = await actor(world.admin)
    team = await organisation.create_team(
        admin, department_id=world.support.id, name="Tier 1", member_ids=[world.alice.id]
    )
    agent = await organisation.update_agent(
        admin,
        agent_id=world.alice.id,
        department_ids=[world.sales.id],
        first_name="Alicia",
        role=Role.ADMINISTRATOR,
    )
    assert (agent.first_name, agent.role) == ("Alicia", Role.ADMINISTRATOR)
    depts = await models.DepartmentMembership.filter(agent_id=world.alice.id).values_list(
        "department_id", flat=True
    )
    assert list(depts) == [world.sales.id]
    assert not await models.TeamMembership.exists(team_id=team.id, agent_id=world.alice.id)
    row = await models.Activity.get(kind="agent.updated", subject_id=world.alice.id)
    assert row.changes == {
        "first_name": {"old": "A", "new": "Alicia"},
        "role": {"old": "AGENT", "new": "ADMINISTRATOR"},
        "department_ids": {"old": [world.support.id], "new": [world.sales.id]},
    }


async def test_update_agent_keeps_teams_inside_the_new_departments(world: World) -> None:
    admin = await actor(world.admin)
    team = await organisation.create_team(
        admin, department_id=world.support.id, name="Tier 1", member_ids=[world.alice.id]
    )
    await organisation.update_agent(
        admin, agent_id=world.alice.id, department_ids=[world.support.id, world.sales.id]
    )
    assert await models.TeamMembership.exists(team_id=team.id, agent_id=world.alice.id)


async def test_password_change_is_hidden_in_history(world: World) -> None:
    admin = await actor(world.admin)
    await organisation.update_agent(admin, agent_id=world.bob.id, password="a new secret")
    row = await models.Activity.get(kind="agent.updated", subject_id=world.bob.id)
    assert row.changes == {"password": {"old": "[hidden]", "new": "[hidden]"}}
    agent, _ = await auth.login(email="bob@zylker.com", password="a new secret", session_days=1)
    assert agent.id == world.bob.id


async def test_last_active_admin_cannot_demote_or_deactivate_themself(world: World) -> None:
    admin = await actor(world.admin)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.update_agent(admin, agent_id=world.admin.id, role=Role.AGENT)
    assert codes(exc) == [("role", ErrorCode.INVALID)]
    with pytest.raises(ValidationFailed) as exc:
        await organisation.update_agent(admin, agent_id=world.admin.id, is_active=False)
    assert codes(exc) == [("isActive", ErrorCode.INVALID)]
    assert await snapshot() == before
    # With a second active administrator, demoting yourself is allowed.
    await organisation.update_agent(admin, agent_id=world.bob.id, role=Role.ADMINISTRATOR)
    await organisation.update_agent(admin, agent_id=world.admin.id, role=Role.AGENT)
    assert (await models.Agent.get(id=world.admin.id)).role is Role.AGENT


async def test_deactivated_agent_tokens_stop_working(world: World) -> None:
    assert (await auth.authenticate(world.bob_token)).agent_id == world.bob.id
    await organisation.update_agent(
        await actor(world.admin), agent_id=world.bob.id, is_active=False
    )
    with pytest.raises(NotAuthenticated):
        await auth.authenticate(world.bob_token)
    # History stays: the agent row and its memberships are kept.
    assert await models.DepartmentMembership.exists(agent_id=world.bob.id)


async def test_delete_agent_unassigns_tickets_with_history(world: World) -> None:
    admin = await actor(world.admin)
    first = await ticket_for(world, world.sales, assignee_agent_id=world.bob.id)
    second = await ticket_for(world, world.sales, assignee_agent_id=world.bob.id)
    other = await ticket_for(world, world.support, assignee_agent_id=world.alice.id)
    await organisation.delete_agent(admin, agent_id=world.bob.id)
    assert not await models.Agent.exists(id=world.bob.id)
    for ticket in (first, second):
        fresh = await models.Ticket.get(id=ticket.id)
        assert fresh.assignee_agent_id is None  # type: ignore[attr-defined]
        row = await models.Activity.get(kind="ticket.updated", ticket_id=ticket.id)
        assert row.changes == {"assignee_agent_id": {"old": world.bob.id, "new": None}}
        assert row.actor_id == world.admin.id  # type: ignore[attr-defined]
    still = await models.Ticket.get(id=other.id)
    assert still.assignee_agent_id == world.alice.id  # type: ignore[attr-defined]
    gone = await models.Activity.get(kind="agent.deleted", subject_id=world.bob.id)
    assert gone.changes["email"] == "bob@zylker.com"


async def test_cannot_delete_yourself(world: World) -> None:
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.delete_agent(await actor(world.admin), agent_id=world.admin.id)
    assert codes(exc) == [("id", ErrorCode.INVALID)]
    with pytest.raises(PermissionDenied):
        await organisation.delete_agent(await actor(world.alice), agent_id=world.bob.id)
    assert await snapshot() == before


# --- own profile and organisation ------------------------------------------------------


async def test_profile_update_for_any_agent(world: World) -> None:
    alice = await actor(world.alice)
    agent = await organisation.update_profile(
        alice,
        first_name="Alice",
        about="Ten years in support",
        hobbies="climbing",
        avatar_url="https://cdn.example.com/alice.png",
    )
    assert (agent.first_name, agent.hobbies) == ("Alice", "climbing")
    row = await models.Activity.get(kind="profile.updated", subject_id=world.alice.id)
    assert row.actor_id == world.alice.id  # type: ignore[attr-defined]
    assert row.changes["hobbies"] == {"old": "", "new": "climbing"}


async def test_profile_password_needs_the_current_one(world: World) -> None:
    alice = await actor(world.alice)
    before = await snapshot()
    with pytest.raises(ValidationFailed) as exc:
        await organisation.update_profile(alice, password="brand new secret")
    assert codes(exc) == [("currentPassword", ErrorCode.INVALID_CREDENTIALS)]
    with pytest.raises(ValidationFailed) as exc:
        await organisation.update_profile(
            alice, password="brand new secret", current_password="wrong horse"
        )
    assert codes(exc) == [("currentPassword", ErrorCode.INVALID_CREDENTIALS)]
    with pytest.raises(ValidationFailed) as exc:
        await organisation.update_profile(alice, password="short", current_password="correct horse")
    assert codes(exc) == [("password", ErrorCode.INVALID)]
    assert await snapshot() == before
    await organisation.update_profile(
        alice, password="brand new secret", current_password="correct horse"
    )
    agent, _ = await auth.login(
        email="alice@zylker.com", password="brand new secret", session_days=1
    )
    assert agent.id == world.alice.id


async def test_update_organisation(world: World) -> None:
    admin = await actor(world.admin)
    org = await organisation.update_organisation(admin, name="Zylker Inc", edition=Edition.FREE)
    assert (org.name, org.edition) == ("Zylker Inc", Edition.FREE)
    row = await models.Activity.get(kind="organisation.updated")
    assert row.changes == {
        "name": {"old": "Zylker", "new": "Zylker Inc"},
        "edition": {"old": "ENTERPRISE", "new": "FREE"},
    }
    before = await snapshot()
    with pytest.raises(PermissionDenied):
        await organisation.update_organisation(await actor(world.alice), name="Mine")
    with pytest.raises(ValidationFailed) as exc:
        await organisation.update_organisation(admin, name="x" * 121)
    assert codes(exc) == [("name", ErrorCode.TOO_LONG)]
    assert await snapshot() == before
