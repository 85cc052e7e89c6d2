"""ticketCreate prefilled from a ticket template (TIC-10): given values win, the template fills
the rest; a template of another department or one the agent may not see is refused."""

from __future__ import annotations

from deskql import models
from deskql.services import auth, templates
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


async def _refused(gql: GQLClient, token: str, department_id: int, template_gid: str) -> list:
    res = await gql.as_(token)(
        CREATE,
        {
            "input": {
                "subject": "Return",
                "departmentId": gid("Department", department_id),
                "contactId": gid("Contact", 1),
                "ticketTemplateId": template_gid,
            }
        },
    )
    return [(e["field"], e["code"]) for e in res.data["ticketCreate"]["errors"]]


async def test_template_of_another_department_or_unseen_is_refused(gql: GQLClient, world: World):
    sales_tpl = await _template(world, world.sales)
    support_tpl = await _template(world, world.support)
    # Alice (Support) cannot see a Sales template: it does not exist for her.
    assert await _refused(
        gql, world.alice_token, world.support.id, gid("TicketTemplate", sales_tpl.id)
    ) == [("ticketTemplateId", "NOT_FOUND")]
    # The administrator sees both, but a Support template cannot prefill a Sales ticket.
    assert await _refused(
        gql, world.admin_token, world.sales.id, gid("TicketTemplate", support_tpl.id)
    ) == [("ticketTemplateId", "INVALID")]
    # An id of another type is refused too.
    assert await _refused(gql, world.admin_token, world.sales.id, gid("Contact", 1)) == [
        ("ticketTemplateId", "INVALID")
    ]
    assert await models.Ticket.all().count() == 0
