"""ticketCreate prefilled from a ticket template (TIC-10): given values win, the template fills
the rest; a template of another department or one the agent may not see is refused."""

from __future__ import annotations

import models
from services import auth, templates
from tests.conftest import GQLClient, World, gid

CREATE = """
mutation($input: TicketCreateInput!) {
  ticketCreate(input: $input) {
    errors { field message code }
    ticket { subject description priority }
  }
}
"""


async def _template(world: World, department: models.Department) -> models.TicketTemplate:
    admin = await auth.load_actor(world.admin.id)
    return await templates.create_ticket_template(
        admin,
        department_id=department.id,
        name="RMA",
        subject="Return request",
        description="Serial number:\nReason:",
        priority=3,
    )


async def test_template_prefills_what_is_left_out(gql: GQLClient, world: World):
    tpl = await _template(world, world.support)
    base = {
        "departmentId": gid("Department", world.support.id),
        "contactId": gid("Contact", world.contact.id),
        "ticketTemplateId": gid("TicketTemplate", tpl.id),
    }
    res = await gql.as_(world.alice_token)(CREATE, {"input": base})
    payload = res.data["ticketCreate"]
    assert payload["errors"] == []
    assert payload["ticket"] == {
        "subject": "Return request",
        "description": "Serial number:\nReason:",
        "priority": "HIGH",
    }
    res = await gql.as_(world.alice_token)(
        CREATE, {"input": base | {"subject": "Broken screen", "priority": "LOW"}}
    )
    assert res.data["ticketCreate"]["ticket"] == {
        "subject": "Broken screen",
        "description": "Serial number:\nReason:",
        "priority": "LOW",
    }
    created = await models.Activity.filter(kind="ticket.created").order_by("id").first()
    assert created is not None and created.changes["ticketTemplate"] == "RMA"


async def test_without_template_subject_is_required_and_priority_medium(
    gql: GQLClient, world: World
):
    base = {
        "departmentId": gid("Department", world.support.id),
        "contactId": gid("Contact", world.contact.id),
    }
    res = await gql.as_(world.alice_token)(CREATE, {"input": base})
    assert res.data["ticketCreate"]["errors"] == [
        {
            "field": "subject",
            "message": res.data["ticketCreate"]["errors"][0]["message"],
            "code": "REQUIRED",
        }
    ]
    res = await gql.as_(world.alice_token)(CREATE, {"input": base | {"subject": "Hi"}})
    assert res.data["ticketCreate"]["ticket"]["priority"] == "MEDIUM"
    assert await models.Ticket.all().count() == 1


async def test_template_of_another_department_or_unseen_is_refused(gql: GQLClient, world: World):
    sales_tpl = await _template(world, world.sales)
    support_tpl = await _template(world, world.support)
    # Alice (Support) cannot see a Sales template: it does not exist for her.
    res = await gql.as_(world.alice_token)(
        CREATE,
        {
            "input": {
                "subject": "Return",
                "departmentId": gid("Department", world.support.id),
                "contactId": gid("Contact", world.contact.id),
                "ticketTemplateId": gid("TicketTemplate", sales_tpl.id),
            }
        },
    )
    assert [(e["field"], e["code"]) for e in res.data["ticketCreate"]["errors"]] == [
        ("ticketTemplateId", "NOT_FOUND")
    ]
    # The administrator sees both, but a Support template cannot prefill a Sales ticket.
    res = await gql.as_(world.admin_token)(
        CREATE,
        {
            "input": {
                "subject": "Return",
                "departmentId": gid("Department", world.sales.id),
                "contactId": gid("Contact", world.contact.id),
                "ticketTemplateId": gid("TicketTemplate", support_tpl.id),
            }
        },
    )
    assert [(e["field"], e["code"]) for e in res.data["ticketCreate"]["errors"]] == [
        ("ticketTemplateId", "INVALID")
    ]
    # A malformed id is refused too.
    res = await gql.as_(world.admin_token)(
        CREATE,
        {
            "input": {
                "subject": "Return",
                "departmentId": gid("Department", world.sales.id),
                "contactId": gid("Contact", world.contact.id),
                "ticketTemplateId": gid("Contact", 1),
            }
        },
    )
    assert [e["code"] for e in res.data["ticketCreate"]["errors"]] == ["INVALID"]
    assert await models.Ticket.all().count() == 0
