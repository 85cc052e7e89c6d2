"""Contact and account views (CUS-7): standard views, saved ones private or shared,
contacts(viewId:) / accounts(viewId:), node(id:)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.services import tickets
from tests.conftest import GQLClient, World, gid

CONTACTS = """
query($view: ID!, $filter: ContactFilter) {
  contacts(viewId: $view, filter: $filter, first: 50) { totalCount nodes { lastName } }
}
"""
CREATE = """
mutation($input: CustomerViewCreateInput!) {
  customerViewCreate(input: $input) {
    errors { field code } view { id name kind isShared criteria standard owner { id } }
  }
}
"""


async def _names(gql: GQLClient, token: str, view: str, flt: dict | None = None) -> list[str]:
    data = (await gql.as_(token)(CONTACTS, {"view": view, "filter": flt})).data
    return sorted(n["lastName"] for n in data["contacts"]["nodes"])


async def test_standard_contact_views(world: World, gql: GQLClient) -> None:
    old = await models.Contact.create(last_name="Old", owner=world.alice)
    await models.Contact.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(days=3))
    await models.Contact.filter(id=world.contact.id).update(
        created_at=datetime.now(UTC) - timedelta(days=3)
    )
    mapped = await models.Contact.create(last_name="Mapped")
    await models.CrmLink.create(contact=mapped, external_id="1")
    busy = await models.Contact.create(last_name="Busy")
    await tickets.create_ticket(
        None, subject="s", department_id=world.support.id, contact_id=busy.id
    )
    done = await models.Contact.create(last_name="Done")
    await tickets.create_ticket(
        None,
        subject="s",
        department_id=world.support.id,
        contact_id=done.id,
        status=TicketStatus.CLOSED,
    )
    sales = await models.Contact.create(last_name="SalesOnly")
    await tickets.create_ticket(
        None, subject="s", department_id=world.sales.id, contact_id=sales.id
    )
    tok = world.alice_token
    assert await _names(gql, tok, "standard:CONTACT:ALL") == [
        "Busy",
        "Doe",
        "Done",
        "Mapped",
        "Old",
        "SalesOnly",
    ]
    assert await _names(gql, tok, "standard:CONTACT:ADDED_TODAY") == [
        "Busy",
        "Done",
        "Mapped",
        "SalesOnly",
    ]
    assert await _names(gql, tok, "standard:CONTACT:MAPPED_TO_CRM") == ["Mapped"]
    assert await _names(gql, tok, "standard:CONTACT:MINE") == ["Old"]
    # Alice (Support) does not see the Sales ticket; Bob (Sales) does.
    assert await _names(gql, tok, "standard:CONTACT:WITH_OPEN_TICKETS") == ["Busy"]
    assert await _names(gql, world.bob_token, "standard:CONTACT:WITH_OPEN_TICKETS") == ["SalesOnly"]
    # A filter narrows a view.
    assert await _names(gql, tok, "standard:CONTACT:ADDED_TODAY", {"text": "o"}) == [
        "Done",
        "SalesOnly",
    ]
    listed = (await gql.as_(tok)("{ standardCustomerViews(kind: ACCOUNT) { id name } }")).data[
        "standardCustomerViews"
    ]
    assert [v["id"] for v in listed][0] == "standard:ACCOUNT:ALL"
    bad = await gql.as_(tok)(CONTACTS, {"view": "standard:ACCOUNT:ALL"})
    assert bad.error_codes() == ["NOT_FOUND"]


async def test_saved_views_private_shared_and_nodes(world: World, gql: GQLClient) -> None:
    acme = await models.Account.create(name="Acme")
    await models.Contact.create(last_name="InAcme", account=acme)
    await models.Contact.create(last_name="Vip", owner=world.alice)
    result = await gql.as_(world.alice_token)(
        CREATE,
        {
            "input": {
                "kind": "CONTACT",
                "name": "My VIP contacts",
                "contactCriteria": {"ownerId": gid("Agent", world.alice.id)},
            }
        },
    )
    view = result.data["customerViewCreate"]["view"]
    assert view["criteria"] == {"owner_id": gid("Agent", world.alice.id)}
    assert await _names(gql, world.alice_token, view["id"]) == ["Vip"]
    # Private: Bob gets NOT_FOUND, from contacts(viewId:) and from node(id:).
    assert (await gql.as_(world.bob_token)(CONTACTS, {"view": view["id"]})).error_codes() == [
        "NOT_FOUND"
    ]
    node = await gql.as_(world.bob_token)(
        "query($id: ID!) { node(id: $id) { id } }", {"id": view["id"]}
    )
    assert node.data["node"] is None
    mine = await gql.as_(world.alice_token)(
        "query($id: ID!) { node(id: $id) { ... on CustomerView { name } } }", {"id": view["id"]}
    )
    assert mine.data["node"] == {"name": "My VIP contacts"}
    # Only administrators share.
    denied = await gql.as_(world.alice_token)(
        CREATE, {"input": {"kind": "CONTACT", "name": "x", "isShared": True}}
    )
    assert denied.error_codes() == ["FORBIDDEN"]
    shared = (
        await gql.as_(world.admin_token)(
            CREATE,
            {
                "input": {
                    "kind": "ACCOUNT",
                    "name": "Acme-ish",
                    "accountCriteria": {"text": "acm"},
                    "isShared": True,
                }
            },
        )
    ).data["customerViewCreate"]["view"]
    accounts = await gql.as_(world.bob_token)(
        "query($v: ID!) { accounts(viewId: $v) { nodes { name } } }", {"v": shared["id"]}
    )
    assert accounts.data["accounts"]["nodes"] == [{"name": "Acme"}]
    listed = await gql.as_(world.bob_token)(
        "{ customerViews(kind: ACCOUNT) { totalCount nodes { name } } }"
    )
    assert listed.data["customerViews"]["totalCount"] == 1
    # Bad input: criteria of the other kind, an unknown sort, an empty name; nothing written.
    before = await models.CustomerView.all().count()
    for bad in (
        {"kind": "ACCOUNT", "name": "x", "contactCriteria": {"text": "a"}},
        {"kind": "ACCOUNT", "name": "x", "sortField": "EMAIL"},
        {"kind": "CONTACT", "name": " "},
        {"kind": "CONTACT", "name": "x", "contactCriteria": {"accountId": gid("Account", 999)}},
    ):
        errors = (await gql.as_(world.alice_token)(CREATE, {"input": bad})).data[
            "customerViewCreate"
        ]["errors"]
        assert errors, bad
    assert await models.CustomerView.all().count() == before
    # Bob may not delete Alice's view; Alice may.
    delete = "mutation($id: ID!) { customerViewDelete(input: {id: $id}) { errors { code } } }"
    assert (await gql.as_(world.bob_token)(delete, {"id": view["id"]})).data["customerViewDelete"][
        "errors"
    ] == [{"code": "NOT_FOUND"}]
    assert (await gql.as_(world.alice_token)(delete, {"id": view["id"]})).data[
        "customerViewDelete"
    ]["errors"] == []
    kinds = await models.Activity.filter(subject_type="CustomerView").values_list("kind", flat=True)
    assert sorted(kinds) == [
        "customer_view.created",
        "customer_view.created",
        "customer_view.deleted",
    ]
