"""Macros over the GraphQL HTTP API: macroCreate/Update/Delete with the permission pattern,
`macros(departmentId)`, agentUpdate(canManageMacros), macroApply with per-ticket results,
dry run, and Ticket.tasks (a connection)."""

from __future__ import annotations

from typing import Any

from deskql import models
from tests.conftest import GQLClient, World, gid

MACRO = """
  id name description department { name }
  actions { type status priority dueOffset tags body isPublic title agentId templateId }
"""
CREATE = f"""
mutation($input: MacroCreateInput!) {{
  macroCreate(input: $input) {{ errors {{ field message code }} macro {{ {MACRO} }} }}
}}
"""
UPDATE = f"""
mutation($input: MacroUpdateInput!) {{
  macroUpdate(input: $input) {{ errors {{ field message code }} macro {{ {MACRO} }} }}
}}
"""
DELETE = """
mutation($id: ID!) { macroDelete(input: {id: $id}) { errors { field code } macro { name } } }
"""
APPLY = """
mutation($input: MacroApplyInput!) {
  macroApply(input: $input) {
    errors { field message code }
    dryRun appliedCount failedCount runActivityId
    macro { name }
    results {
      ticketId applied changes errors { field message code }
      ticket { id status priority version tags comments { nodes { body isPublic } }
               tasks(sort: {field: CREATED_AT}) { nodes { subject dueAt owner { email } } } }
    }
  }
}
"""
LIST = """
query($dept: ID) { macros(departmentId: $dept) { nodes { name department { name } } } }
"""
GRANT = """
mutation($id: ID!, $on: Boolean!) {
  agentUpdate(input: {id: $id, canManageMacros: $on}) { errors { code } agent { canManageMacros } }
}
"""

ACTIONS = [
    {"type": "SET_STATUS", "status": "ON_HOLD"},
    {"type": "SET_PRIORITY", "priority": "URGENT"},
    {"type": "ADD_TAGS", "tags": ["Billing"]},
    {"type": "ADD_COMMENT", "body": "Dear {{contact.first_name}}, on it.", "isPublic": True},
]


def create_input(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "departmentId": gid("Department", world.support.id),
        "name": "Escalate billing",
        "description": "For invoices",
        "actions": ACTIONS,
        **extra,
    }


async def ticket_ids(world: World, n: int, dept: models.Department | None = None) -> list[str]:
    from deskql.services import auth, tickets

    admin = await auth.load_actor(world.admin.id)
    out = []
    for i in range(n):
        row = await tickets.create_ticket(
            admin,
            subject=f"Invoice {i}",
            department_id=(dept or world.support).id,
            contact_id=world.contact.id,
        )
        out.append(gid("Ticket", row.id))
    return out


async def test_agent_granted_by_admin_creates_and_applies(gql: GQLClient, world: World) -> None:
    # Without the grant: FORBIDDEN (a top-level permission error), nothing written.
    res = await gql.as_(world.alice_token)(CREATE, {"input": create_input(world)})
    assert res.error_codes() == ["FORBIDDEN"]
    assert await models.Macro.all().count() == 0
    # Only administrators grant it.
    res = await gql.as_(world.alice_token)(GRANT, {"id": gid("Agent", world.alice.id), "on": True})
    assert res.error_codes() == ["FORBIDDEN"]
    res = await gql.as_(world.admin_token)(GRANT, {"id": gid("Agent", world.alice.id), "on": True})
    assert res.data["agentUpdate"] == {"errors": [], "agent": {"canManageMacros": True}}

    res = await gql.as_(world.alice_token)(CREATE, {"input": create_input(world)})
    payload = res.data["macroCreate"]
    assert payload["errors"] == []
    created = payload["macro"]
    assert created["department"] == {"name": "Support"}
    assert [a["type"] for a in created["actions"]] == [
        "SET_STATUS",
        "SET_PRIORITY",
        "ADD_TAGS",
        "ADD_COMMENT",
    ]
    assert created["actions"][2]["tags"] == ["billing"]
    assert created["actions"][0]["tags"] is None

    ids = await ticket_ids(world, 2)
    other = await ticket_ids(world, 1, world.sales)
    res = await gql.as_(world.admin_token)(
        APPLY, {"input": {"macroId": created["id"], "ticketIds": [*ids, *other]}}
    )
    out = res.data["macroApply"]
    assert out["errors"] == [] and out["dryRun"] is False
    assert (out["appliedCount"], out["failedCount"]) == (2, 1)
    assert out["runActivityId"] is not None
    first, _, wrong = out["results"]
    assert first["applied"] is True
    assert first["changes"]["priority"] == {"old": "MEDIUM", "new": "URGENT"}
    assert first["ticket"]["status"] == "ON_HOLD" and first["ticket"]["version"] == 2
    assert first["ticket"]["tags"] == ["billing"]
    assert first["ticket"]["comments"]["nodes"] == [
        {"body": "Dear Melissa, on it.", "isPublic": True}
    ]
    assert wrong["applied"] is False and wrong["changes"] == {}
    assert [e["code"] for e in wrong["errors"]] == ["WRONG_DEPARTMENT"]
    assert wrong["errors"][0]["field"] == "ticketIds.2"
    assert wrong["ticket"]["version"] == 1 and wrong["ticket"]["status"] == "OPEN"


async def test_bad_actions_come_back_with_paths(gql: GQLClient, world: World) -> None:
    bad = [
        {"type": "SET_STATUS", "status": "OPEN"},
        {"type": "SET_DUE_DATE", "dueOffset": "2 days"},
        {"type": "SEND_EMAIL", "templateId": gid("EmailTemplate", 77)},
        {"type": "ASSIGN_AGENT", "agentId": gid("Agent", 999)},
        {"type": "CREATE_TASK"},
    ]
    res = await gql.as_(world.admin_token)(CREATE, {"input": create_input(world, actions=bad)})
    errors = res.data["macroCreate"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("actions.1.dueOffset", "INVALID"),
        ("actions.2.templateId", "NOT_FOUND"),
        ("actions.3.agentId", "NOT_FOUND"),
        ("actions.4.title", "REQUIRED"),
    ]
    # An id of the wrong type is a field error too.
    wrong = [{"type": "ASSIGN_AGENT", "agentId": gid("Team", 1)}]
    res = await gql.as_(world.admin_token)(CREATE, {"input": create_input(world, actions=wrong)})
    assert [(e["field"], e["code"]) for e in res.data["macroCreate"]["errors"]] == [
        ("actions.0.agentId", "INVALID")
    ]
    assert await models.Macro.all().count() == 0
    assert await models.Activity.filter(subject_type="Macro").count() == 0


async def test_update_delete_and_list(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.admin_token)(CREATE, {"input": create_input(world)})
    macro_id = res.data["macroCreate"]["macro"]["id"]
    res = await gql.as_(world.admin_token)(
        UPDATE,
        {"input": {"id": macro_id, "name": "Renamed", "actions": [{"type": "UNASSIGN"}]}},
    )
    updated = res.data["macroUpdate"]
    assert updated["errors"] == [] and updated["macro"]["name"] == "Renamed"
    assert [a["type"] for a in updated["macro"]["actions"]] == ["UNASSIGN"]
    res = await gql.as_(world.alice_token)(LIST, {})
    assert res.data["macros"]["nodes"] == [{"name": "Renamed", "department": {"name": "Support"}}]
    res = await gql.as_(world.bob_token)(LIST, {})
    assert res.data["macros"]["nodes"] == []
    # Bob cannot see it, so for him it does not exist.
    res = await gql.as_(world.bob_token)(DELETE, {"id": macro_id})
    assert res.data["macroDelete"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    # Alice sees it but has no grant: FORBIDDEN.
    res = await gql.as_(world.alice_token)(DELETE, {"id": macro_id})
    assert res.error_codes() == ["FORBIDDEN"]
    res = await gql.as_(world.admin_token)(DELETE, {"id": macro_id})
    assert res.data["macroDelete"] == {"errors": [], "macro": {"name": "Renamed"}}
    assert await models.Macro.all().count() == 0


async def test_dry_run_and_tasks_over_http(gql: GQLClient, world: World) -> None:
    actions = [
        *ACTIONS,
        {
            "type": "CREATE_TASK",
            "title": "Check invoice",
            "dueOffset": "+1d",
            "agentId": gid("Agent", world.alice.id),
        },
    ]
    res = await gql.as_(world.admin_token)(CREATE, {"input": create_input(world, actions=actions)})
    macro_id = res.data["macroCreate"]["macro"]["id"]
    ids = await ticket_ids(world, 2)
    activities = await models.Activity.all().count()
    res = await gql.as_(world.alice_token)(
        APPLY, {"input": {"macroId": macro_id, "ticketIds": ids, "dryRun": True}}
    )
    out = res.data["macroApply"]
    assert out["dryRun"] is True and out["appliedCount"] == 2 and out["runActivityId"] is None
    assert out["results"][0]["changes"]["status"] == {"old": "OPEN", "new": "ON_HOLD"}
    assert out["results"][0]["ticket"]["status"] == "OPEN"
    assert out["results"][0]["ticket"]["tasks"]["nodes"] == []
    assert await models.Activity.all().count() == activities
    assert await models.Task.all().count() == 0
    assert await models.Comment.all().count() == 0

    res = await gql.as_(world.alice_token)(
        APPLY, {"input": {"macroId": macro_id, "ticketIds": ids}}
    )
    tasks = res.data["macroApply"]["results"][1]["ticket"]["tasks"]["nodes"]
    assert [(t["subject"], t["owner"]) for t in tasks] == [
        ("Check invoice", {"email": "alice@zylker.com"})
    ]
    assert tasks[0]["dueAt"] is not None


async def test_apply_refusals_over_http(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.admin_token)(CREATE, {"input": create_input(world)})
    macro_id = res.data["macroCreate"]["macro"]["id"]
    ids = await ticket_ids(world, 1)
    res = await gql.as_(world.bob_token)(APPLY, {"input": {"macroId": macro_id, "ticketIds": ids}})
    out = res.data["macroApply"]
    assert [(e["field"], e["code"]) for e in out["errors"]] == [("macroId", "NOT_FOUND")]
    assert out["results"] == []
    res = await gql.as_(world.alice_token)(APPLY, {"input": {"macroId": macro_id, "ticketIds": []}})
    assert [e["code"] for e in res.data["macroApply"]["errors"]] == ["REQUIRED"]
    assert await models.Activity.filter(kind="ticket.macro_applied").count() == 0
