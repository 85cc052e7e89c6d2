from __future__ import annotations

from tests.conftest import GQLClient, World, gid

CREATE = """
mutation($input: TicketCreateInput!) {
  ticketCreate(input: $input) {
    errors { field message code }
    ticket { id number subject status priority version tags
      contact { name email account { name } } department { name } assignee { __typename } }
  }
}
"""


async def test_create_and_list(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    res = await alice(
        CREATE,
        {
            "input": {
                "subject": "Printer on fire",
                "departmentId": gid("Department", world.support.id),
                "contactEmail": "new.person@example.com",
                "contactName": "New Person",
                "tags": ["urgent", "Printer"],
            }
        },
    )
    payload = res.data["ticketCreate"]
    assert payload["errors"] == []
    t = payload["ticket"]
    assert t["number"] == 1
    assert t["tags"] == ["printer", "urgent"]
    assert t["contact"] == {
        "name": "New Person",
        "email": "new.person@example.com",
        "account": None,
    }
    res = await alice("{ tickets(first: 10) { totalCount edges { node { number subject } } } }")
    assert res.data["tickets"]["totalCount"] == 1
