"""Macros at the service layer (AUT-1): CRUD and its permission, action validation with field
paths, applying (per-ticket all-or-nothing, one Activity per ticket, dry run), the department
rule, the 10-tag limit, tasks, comment placeholders and batched notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deskql import models
from deskql.models.enums import TicketPriority, TicketStatus
from deskql.services import auth, follows, macros, tickets
from deskql.services.errors import ErrorCode, PermissionDenied, ValidationFailed
from deskql.settings import Settings
from tests.conftest import World, make_agent

FOUR = [
    {"type": "SET_STATUS", "status": "ON_HOLD"},
    {"type": "SET_PRIORITY", "priority": "HIGH"},
    {"type": "ADD_TAGS", "tags": ["billing"]},
    {"type": "ADD_COMMENT", "body": "Waiting for {{contact.first_name}}", "is_public": False},
]


async def written() -> dict[str, int]:
    """Rows a macro run writes, to compare before and after."""
    return {
        "macros": await models.Macro.all().count(),
        "activities": await models.Activity.all().count(),
        "comments": await models.Comment.all().count(),
        "tags": await models.TicketTag.all().count(),
        "tasks": await models.Task.all().count(),
        "notifications": await models.Notification.all().count(),
        "versions": sum(await models.Ticket.all().values_list("version", flat=True)),
    }


async def new_ticket(world: World, dept: models.Department | None = None, **kw: Any):
    admin = await auth.load_actor(world.admin.id)
    return await tickets.create_ticket(
        admin,
        subject=kw.pop("subject", "Printer jam"),
        department_id=(dept or world.support).id,
        contact_id=world.contact.id,
        **kw,
    )


async def macro(world: World, actions: list[dict[str, Any]], name: str = "Hold for billing"):
    admin = await auth.load_actor(world.admin.id)
    return await macros.create_macro(
        admin, department_id=world.support.id, name=name, actions=actions
    )


def codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str | None, str]]:
    return [(e.field, e.code.value) for e in exc.value.errors]


# -- create / update / delete --------------------------------------------------------------


async def test_admin_creates_macro_with_every_action_type(world: World) -> None:
    product = await models.Product.create(name="Printer")
    team = await models.Team.create(name="Tier 2", department_id=world.support.id)
    tpl = await models.EmailTemplate.create(
        name="Ack", department_id=world.support.id, subject="Hi", body_text="Hello"
    )
    actions = [
        {"type": "SET_STATUS", "status": "ESCALATED"},
        {"type": "SET_PRIORITY", "priority": "URGENT"},
        {"type": "SET_DUE_DATE", "due_offset": "+4h"},
        {"type": "SET_PRODUCT", "product_id": product.id},
        {"type": "ASSIGN_TEAM", "team_id": team.id},
        {"type": "UNASSIGN"},
        {"type": "ASSIGN_AGENT", "agent_id": world.alice.id},
        {"type": "ADD_TAGS", "tags": ["VIP", "printer"]},
        {"type": "REMOVE_TAGS", "tags": ["old"]},
        {"type": "ADD_COMMENT", "body": "Hi {{contact.name}}", "is_public": True},
        {
            "type": "CREATE_TASK",
            "title": "Call back",
            "due_offset": "+1w",
            "agent_id": world.alice.id,
        },
        {"type": "SEND_EMAIL", "template_id": tpl.id},
        {"type": "SET_DEPARTMENT", "department_id": world.support.id},
    ]
    row = await macro(world, actions)
    stored = (await models.Macro.get(id=row.id)).actions
    assert [a["type"] for a in stored] == [a["type"] for a in actions]
    assert stored[7]["tags"] == ["vip", "printer"]
    assert stored[10] == {
        "type": "CREATE_TASK",
        "title": "Call back",
        "due_offset": "+1w",
        "agent_id": world.alice.id,
    }
    assert await models.Activity.filter(kind="macro.created", subject_id=row.id).count() == 1


async def test_agent_without_permission_is_forbidden(world: World) -> None:
    alice = await auth.load_actor(world.alice.id)
    before = await written()
    with pytest.raises(PermissionDenied):
        await macros.create_macro(alice, department_id=world.support.id, name="X", actions=FOUR)
    assert await written() == before


async def test_granted_agent_manages_own_department_only(world: World) -> None:
    await models.Agent.filter(id=world.alice.id).update(can_manage_macros=True)
    alice = await auth.load_actor(world.alice.id)
    row = await macros.create_macro(alice, department_id=world.support.id, name="A", actions=FOUR)
    assert row.created_by_id == world.alice.id  # type: ignore[attr-defined]
    before = await written()
    # A macro of another department: not hers to see, so not found.
    with pytest.raises(ValidationFailed) as exc:
        await macros.create_macro(alice, department_id=world.sales.id, name="B", actions=FOUR)
    assert codes(exc) == [("departmentId", "NOT_FOUND")]
    assert await written() == before
    updated = await macros.update_macro(alice, macro_id=row.id, name="A2")
    assert updated.name == "A2"
    await macros.delete_macro(alice, macro_id=row.id)
    assert not await models.Macro.exists(id=row.id)
    kinds = await models.Activity.filter(subject_type="Macro").values_list("kind", flat=True)
    assert kinds == ["macro.created", "macro.updated", "macro.deleted"]


@pytest.mark.parametrize(
    ("action", "field", "code"),
    [
        ({"type": "SET_DUE_DATE", "due_offset": "2 days"}, "actions.1.dueOffset", "INVALID"),
        ({"type": "SET_DUE_DATE", "due_offset": "+2y"}, "actions.1.dueOffset", "INVALID"),
        (
            {"type": "CREATE_TASK", "title": "x", "due_offset": "-1d"},
            "actions.1.dueOffset",
            "INVALID",
        ),
        ({"type": "SEND_EMAIL", "template_id": 999}, "actions.1.templateId", "NOT_FOUND"),
        ({"type": "ASSIGN_AGENT", "agent_id": 999}, "actions.1.agentId", "NOT_FOUND"),
        ({"type": "ASSIGN_AGENT"}, "actions.1.agentId", "REQUIRED"),
        ({"type": "SET_STATUS"}, "actions.1.status", "REQUIRED"),
        ({"type": "SET_STATUS", "status": "DONE"}, "actions.1.status", "INVALID"),
        ({"type": "SET_STATUS", "status": "OPEN", "tags": ["x"]}, "actions.1.tags", "INVALID"),
        ({"type": "ADD_TAGS", "tags": ["no spaces"]}, "actions.1.tags", "INVALID"),
        ({"type": "ADD_TAGS", "tags": []}, "actions.1.tags", "REQUIRED"),
        ({"type": "ADD_COMMENT", "body": "Hi {{contact.password}}"}, "actions.1.body", "INVALID"),
        ({"type": "SET_PRODUCT", "product_id": 999}, "actions.1.productId", "NOT_FOUND"),
        ({"type": "SET_DEPARTMENT", "department_id": 999}, "actions.1.departmentId", "NOT_FOUND"),
        ({"type": "ASSIGN_TEAM", "team_id": 999}, "actions.1.teamId", "NOT_FOUND"),
        ({"type": "EXPLODE"}, "actions.1.type", "INVALID"),
    ],
)
async def test_bad_action_is_refused_with_its_path(
    world: World, action: dict[str, Any], field: str, code: str
) -> None:
    before = await written()
    with pytest.raises(ValidationFailed) as exc:
        await macro(world, [{"type": "UNASSIGN"}, action])
    assert codes(exc) == [(field, code)]
    assert await written() == before


async def test_assignee_of_another_department_follows_ticket_rules(world: World) -> None:
    # Bob works in Sales: the same rule ticketUpdate applies refuses him in Support.
    with pytest.raises(ValidationFailed) as exc:
        await macro(world, [{"type": "ASSIGN_AGENT", "agent_id": world.bob.id}])
    assert codes(exc) == [("actions.0.agentId", "INVALID")]
    assert "not a member" in exc.value.errors[0].message


async def test_duplicate_name_and_empty_actions(world: World) -> None:
    await macro(world, FOUR, name="Same")
    with pytest.raises(ValidationFailed) as exc:
        await macro(world, FOUR, name="Same")
    assert codes(exc) == [("name", "DUPLICATE")]
    with pytest.raises(ValidationFailed) as exc:
        await macro(world, [], name="Empty")
    assert codes(exc) == [("actions", "REQUIRED")]
    assert await models.Macro.all().count() == 1


async def test_macros_listed_per_department(world: World) -> None:
    admin = await auth.load_actor(world.admin.id)
    await macro(world, FOUR, name="Support one")
    await macros.create_macro(admin, department_id=world.sales.id, name="Sales one", actions=FOUR)
    alice = await auth.load_actor(world.alice.id)
    assert [m.name for m in await macros.list_macros(alice)] == ["Support one"]
    assert await macros.list_macros(alice, department_id=world.sales.id) == []
    assert len(await macros.list_macros(admin)) == 2


# -- apply ---------------------------------------------------------------------------------


async def test_apply_changes_each_ticket_with_one_activity(world: World, settings: Settings):
    row = await macro(world, FOUR)
    made = [await new_ticket(world) for _ in range(3)]
    alice = await auth.load_actor(world.alice.id)
    out = await macros.apply_macro(
        alice, settings=settings, macro_id=row.id, ticket_ids=[t.id for t in made]
    )
    assert [r.applied for r in out.results] == [True, True, True]
    for ticket in made:
        fresh = await models.Ticket.get(id=ticket.id)
        assert fresh.status is TicketStatus.ON_HOLD and fresh.priority is TicketPriority.HIGH
        assert fresh.version == 2
        assert await models.TicketTag.filter(ticket_id=ticket.id, tag__name="billing").exists()
        comment = await models.Comment.get(ticket_id=ticket.id)
        assert comment.body == "Waiting for Melissa" and comment.is_public is False
        assert comment.author_id == world.alice.id  # type: ignore[attr-defined]
        acts = await models.Activity.filter(ticket_id=ticket.id, kind="ticket.macro_applied")
        assert len(acts) == 1
        assert acts[0].changes == {
            "macroId": row.id,
            "macro": "Hold for billing",
            "status": {"old": "OPEN", "new": "ON_HOLD"},
            "priority": {"old": "MEDIUM", "new": "HIGH"},
            "tags": {"added": ["billing"], "removed": []},
            "comments": [{"isPublic": False}],
        }
    assert out.results[0].changes["status"] == {"old": "OPEN", "new": "ON_HOLD"}
    run = await models.Activity.get(kind="macro.applied")
    assert run.changes["ticketIds"] == [t.id for t in made] and run.subject_id == row.id
    assert out.run is not None and out.run.id == run.id


async def test_other_department_ticket_fails_alone(world: World, settings: Settings) -> None:
    row = await macro(world, FOUR)
    ours = await new_ticket(world)
    theirs = await new_ticket(world, world.sales)
    admin = await auth.load_actor(world.admin.id)
    out = await macros.apply_macro(
        admin, settings=settings, macro_id=row.id, ticket_ids=[theirs.id, ours.id]
    )
    bad, good = out.results
    assert [(e.field, e.code) for e in bad.errors] == [("ticketIds.0", ErrorCode.WRONG_DEPARTMENT)]
    assert good.applied
    fresh = await models.Ticket.get(id=theirs.id)
    assert fresh.version == 1 and fresh.status is TicketStatus.OPEN
    assert not await models.Comment.filter(ticket_id=theirs.id).exists()
    assert not await models.Activity.filter(
        ticket_id=theirs.id, kind="ticket.macro_applied"
    ).exists()


async def test_macro_of_another_department_is_not_found_for_agent(world, settings) -> None:
    admin = await auth.load_actor(world.admin.id)
    sales_macro = await macros.create_macro(
        admin, department_id=world.sales.id, name="Sales", actions=FOUR
    )
    ticket = await new_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    before = await written()
    with pytest.raises(ValidationFailed) as exc:
        await macros.apply_macro(
            alice, settings=settings, macro_id=sales_macro.id, ticket_ids=[ticket.id]
        )
    assert codes(exc) == [("macroId", "NOT_FOUND")]
    assert await written() == before


async def test_tag_limit_fails_that_ticket_only(world: World, settings: Settings) -> None:
    row = await macro(
        world, [*FOUR[:2], {"type": "ADD_TAGS", "tags": ["billing", "refund"]}, FOUR[3]]
    )
    full = await new_ticket(world, tags=[f"t{i}" for i in range(9)])
    fine = await new_ticket(world, tags=["billing"])
    admin = await auth.load_actor(world.admin.id)
    out = await macros.apply_macro(
        admin, settings=settings, macro_id=row.id, ticket_ids=[full.id, fine.id]
    )
    bad, good = out.results
    assert [(e.field, e.code) for e in bad.errors] == [("actions.2.tags", ErrorCode.LIMIT_EXCEEDED)]
    assert not bad.applied and good.applied
    unchanged = await models.Ticket.get(id=full.id)
    assert unchanged.version == 1 and unchanged.status is TicketStatus.OPEN
    assert await models.TicketTag.filter(ticket_id=full.id).count() == 9
    assert not await models.Comment.filter(ticket_id=full.id).exists()
    names = await models.TicketTag.filter(ticket_id=fine.id).values_list("tag__name", flat=True)
    assert sorted(names) == ["billing", "refund"]
    assert good.changes["tags"] == {"added": ["refund"], "removed": []}


async def test_dry_run_writes_nothing(world: World, settings: Settings) -> None:
    row = await macro(world, [*FOUR, {"type": "CREATE_TASK", "title": "Call"}])
    made = [await new_ticket(world) for _ in range(2)]
    await follows.follow_ticket(await auth.load_actor(world.admin.id), ticket_id=made[0].id)
    before = await written()
    alice = await auth.load_actor(world.alice.id)
    out = await macros.apply_macro(
        alice, settings=settings, macro_id=row.id, ticket_ids=[t.id for t in made], dry_run=True
    )
    assert out.dry_run and out.run is None
    assert all(r.applied for r in out.results)
    assert out.results[1].changes["status"] == {"old": "OPEN", "new": "ON_HOLD"}
    assert out.results[1].changes["tasks"] == ["Call"]
    assert await written() == before


async def test_tasks_due_dates_and_assignment(world: World, settings: Settings) -> None:
    row = await macro(
        world,
        [
            {"type": "SET_DUE_DATE", "due_offset": "+2d"},
            {"type": "ASSIGN_AGENT", "agent_id": world.alice.id},
            {
                "type": "CREATE_TASK",
                "title": "Call back",
                "due_offset": "+30m",
                "agent_id": world.alice.id,
            },
        ],
    )
    ticket = await new_ticket(world)
    admin = await auth.load_actor(world.admin.id)
    start = datetime.now(UTC)
    await macros.apply_macro(admin, settings=settings, macro_id=row.id, ticket_ids=[ticket.id])
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.assignee_agent_id == world.alice.id  # type: ignore[attr-defined]
    assert fresh.due_at is not None
    assert timedelta(days=2) <= fresh.due_at - start < timedelta(days=2, minutes=1)
    task = await models.Task.get(ticket_id=ticket.id)
    assert task.title == "Call back" and task.assignee_id == world.alice.id  # type: ignore[attr-defined]
    assert task.department_id == world.support.id  # type: ignore[attr-defined]
    assert task.due_at is not None
    assert timedelta(minutes=30) <= task.due_at - start < timedelta(minutes=31)
    # The assignee follows the ticket and is told (once) that it was assigned.
    assert await models.Follow.filter(agent_id=world.alice.id, ticket_id=ticket.id).exists()
    notes = await models.Notification.filter(agent_id=world.alice.id)
    assert [n.reason.value for n in notes] == ["ASSIGNED"]


async def test_stale_macro_is_refused_whole(world: World, settings: Settings) -> None:
    row = await macro(world, [{"type": "ASSIGN_AGENT", "agent_id": world.alice.id}])
    await models.Agent.filter(id=world.alice.id).update(is_active=False)
    ticket = await new_ticket(world)
    admin = await auth.load_actor(world.admin.id)
    before = await written()
    with pytest.raises(ValidationFailed) as exc:
        await macros.apply_macro(admin, settings=settings, macro_id=row.id, ticket_ids=[ticket.id])
    assert codes(exc) == [("actions.0.agentId", "INVALID")]
    assert await written() == before


async def test_one_notification_per_agent_for_a_run(world: World, settings: Settings) -> None:
    watcher, _ = await make_agent("watcher@zylker.com", "Watcher", depts=[world.support.id])
    watcher_actor = await auth.load_actor(watcher.id)
    made = [await new_ticket(world, subject=f"T{i}") for i in range(20)]
    for ticket in made:
        await follows.follow_ticket(watcher_actor, ticket_id=ticket.id)
    # Alice follows one ticket; she also applies the macro, so she is never told of her own run.
    alice = await auth.load_actor(world.alice.id)
    await follows.follow_ticket(alice, ticket_id=made[0].id)
    await models.Notification.all().delete()
    row = await macro(world, FOUR)
    out = await macros.apply_macro(
        alice, settings=settings, macro_id=row.id, ticket_ids=[t.id for t in made]
    )
    assert all(r.applied for r in out.results)
    assert await models.Activity.filter(kind="ticket.macro_applied").count() == 20
    notes = await models.Notification.filter(agent_id=watcher.id)
    assert len(notes) == 1
    assert notes[0].activity_id == out.run.id  # type: ignore[union-attr,attr-defined]
    assert notes[0].reason.value == "FOLLOWING"
    assert not await models.Notification.filter(agent_id=world.alice.id).exists()
    # Bob (Sales) follows the contact but may not see Support tickets: not told.
    bob = await auth.load_actor(world.bob.id)
    await follows.follow_contact(bob, contact_id=world.contact.id)
    await macros.apply_macro(
        alice, settings=settings, macro_id=row.id, ticket_ids=[t.id for t in made[:5]]
    )
    assert not await models.Notification.filter(agent_id=world.bob.id).exists()
    assert await models.Notification.filter(agent_id=watcher.id).count() == 2


async def test_bad_ticket_lists(world: World, settings: Settings) -> None:
    row = await macro(world, FOUR)
    admin = await auth.load_actor(world.admin.id)
    with pytest.raises(ValidationFailed) as exc:
        await macros.apply_macro(admin, settings=settings, macro_id=row.id, ticket_ids=[])
    assert codes(exc) == [("ticketIds", "REQUIRED")]
    ticket = await new_ticket(world)
    out = await macros.apply_macro(
        admin, settings=settings, macro_id=row.id, ticket_ids=[ticket.id, 9999]
    )
    assert out.results[0].applied
    assert [(e.field, e.code) for e in out.results[1].errors] == [
        ("ticketIds.1", ErrorCode.NOT_FOUND)
    ]


async def test_department_move_clears_assignee_unless_assigning(world, settings) -> None:
    await models.DepartmentMembership.create(agent_id=world.alice.id, department_id=world.sales.id)
    row = await macro(world, [{"type": "SET_DEPARTMENT", "department_id": world.sales.id}])
    ticket = await new_ticket(world, assignee_agent_id=world.alice.id)
    admin = await auth.load_actor(world.admin.id)
    out = await macros.apply_macro(
        admin, settings=settings, macro_id=row.id, ticket_ids=[ticket.id]
    )
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.department_id == world.sales.id  # type: ignore[attr-defined]
    assert fresh.assignee_agent_id is None  # type: ignore[attr-defined]
    assert out.results[0].changes["assignee_agent_id"] == {"old": world.alice.id, "new": None}


async def test_mentions_in_macro_comments(world: World, settings: Settings) -> None:
    from deskql.schema.ids import to_global_id

    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    body = f"@[Carol]({to_global_id('Agent', carol.id)}) please check"
    row = await macro(world, [{"type": "ADD_COMMENT", "body": body}])
    made = [await new_ticket(world) for _ in range(3)]
    await models.Notification.all().delete()
    alice = await auth.load_actor(world.alice.id)
    await macros.apply_macro(
        alice, settings=settings, macro_id=row.id, ticket_ids=[t.id for t in made]
    )
    comments = await models.Comment.filter(ticket_id__in=[t.id for t in made])
    mentions = await models.Mention.all().values_list("comment_id", "agent_id")
    assert sorted(mentions) == sorted((c.id, carol.id) for c in comments)
    notes = await models.Notification.filter(agent_id=carol.id)
    assert [n.reason.value for n in notes] == ["MENTIONED"]


async def test_clearing_fields_and_team_assignment(world: World, settings: Settings) -> None:
    product = await models.Product.create(name="Printer")
    team = await models.Team.create(name="Tier 2", department_id=world.support.id)
    member, _ = await make_agent("dan@zylker.com", "Dan", depts=[world.support.id])
    await models.TeamMembership.create(team_id=team.id, agent_id=member.id)
    row = await macro(
        world,
        [
            {"type": "SET_DUE_DATE"},
            {"type": "SET_PRODUCT"},
            {"type": "ASSIGN_TEAM", "team_id": team.id},
            {"type": "REMOVE_TAGS", "tags": ["old"]},
        ],
    )
    ticket = await new_ticket(
        world,
        due_at=datetime.now(UTC) + timedelta(days=1),
        product_id=product.id,
        assignee_agent_id=world.alice.id,
        tags=["old", "keep"],
    )
    await models.Notification.all().delete()
    admin = await auth.load_actor(world.admin.id)
    out = await macros.apply_macro(
        admin, settings=settings, macro_id=row.id, ticket_ids=[ticket.id]
    )
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.due_at is None and fresh.product_id is None  # type: ignore[attr-defined]
    assert fresh.assignee_team_id == team.id and fresh.assignee_agent_id is None  # type: ignore[attr-defined]
    names = await models.TicketTag.filter(ticket_id=ticket.id).values_list("tag__name", flat=True)
    assert names == ["keep"]
    changes = out.results[0].changes
    assert changes["product_id"] == {"old": product.id, "new": None}
    assert changes["tags"] == {"added": [], "removed": ["old"]}
    assert [n.reason.value for n in await models.Notification.filter(agent_id=member.id)] == [
        "ASSIGNED"
    ]
