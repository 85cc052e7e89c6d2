"""services.customers without GraphQL: contacts, accounts, products, their Activity rows, and
the write paths that must stay all-or-nothing (CUS-1, CUS-2, CUS-9)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from deskql import models
from deskql.services import customers, tickets
from deskql.services.auth import Actor, load_actor
from deskql.services.customers import accounts as customer_accounts
from deskql.services.customers import common as customer_common
from deskql.services.customers import contacts as customer_contacts
from deskql.services.errors import ErrorCode, ValidationFailed
from tests.conftest import World


async def _alice(world: World) -> Actor:
    return await load_actor(world.alice.id)


def _skip_calls(func: Callable[..., Awaitable[None]], n: int) -> Callable[..., Awaitable[None]]:
    """A check that passes its first `n` calls without looking, as if a concurrent request
    changed the database just after it ran; later calls (explaining the conflict) are real."""
    calls = 0

    async def check(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > n:
            await func(*args, **kwargs)

    return check


def _codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str | None, ErrorCode]]:
    return [(e.field, e.code) for e in exc.value.errors]


def test_split_name() -> None:
    assert customers.split_name("Melissa", "m@x.com") == ("", "Melissa")
    assert customers.split_name(' "Anna Maria Nowak" ', "a@x.com") == ("Anna Maria", "Nowak")
    assert customers.split_name(None, "jan.kowalski@x.com") == ("Jan", "Kowalski")
    assert customers.split_name(None, "melissa@x.com") == ("", "Melissa")
    assert customers.split_name(None, "j.k2+tag@x.com") == ("", "j.k2+tag")
    assert customers.split_name("", "x" * 150 + "@x.com") == ("", "X" + "x" * 99)


async def test_find_or_create_contact_is_unchanged(world: World) -> None:
    first = await customers.find_or_create_contact(None, email="New@Example.com", name="Ann Lee")
    assert (first.first_name, first.last_name, first.email) == ("Ann", "Lee", "new@example.com")
    again = await customers.find_or_create_contact(None, email="new@example.COM")
    assert again.id == first.id
    assert await models.Activity.filter(kind="contact.created").count() == 1
    with pytest.raises(ValidationFailed) as exc:
        await customers.find_or_create_contact(None, email="not-an-email")
    assert _codes(exc) == [("email", ErrorCode.INVALID_EMAIL)]


async def test_create_contact_writes_row_links_and_activity(world: World) -> None:
    alice = await _alice(world)
    account = await models.Account.create(name="Zylker")
    product = await models.Product.create(name="Desk")
    contact = await customers.create_contact(
        alice,
        first_name="Jan",
        last_name="Kowalski",
        email="JAN@Example.com",
        account_id=account.id,
        owner_id=world.alice.id,
        product_ids=[product.id, product.id],
    )
    assert contact.email == "jan@example.com"
    assert await models.ContactProduct.filter(contact_id=contact.id).count() == 1
    act = await models.Activity.get(kind="contact.created", subject_id=contact.id)
    assert (act.contact_id, act.account_id) == (contact.id, account.id)
    assert act.changes == {
        "first_name": "Jan",
        "last_name": "Kowalski",
        "email": "jan@example.com",
        "account_id": account.id,
        "owner_id": world.alice.id,
        "product_ids": [product.id],
    }


async def test_duplicate_email_caught_by_the_database_writes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If another request takes the email between the check and the insert, the unique index
    refuses it: the caller gets DUPLICATE and no Activity row survives."""

    monkeypatch.setattr(  # create/update_contact look it up in contacts, the conflict in common
        customer_contacts,
        "_check_contact_email",
        _skip_calls(customer_common._check_contact_email, 1),
    )
    alice = await _alice(world)
    before = await models.Activity.all().count()
    with pytest.raises(ValidationFailed) as exc:
        await customers.create_contact(alice, last_name="Twin", email="melissa@example.com")
    assert _codes(exc) == [("email", ErrorCode.DUPLICATE)]
    assert await models.Contact.all().count() == 1
    assert await models.Activity.all().count() == before

    other = await customers.create_contact(alice, last_name="Other", email="other@example.com")
    monkeypatch.setattr(  # create/update_contact look it up in contacts, the conflict in common
        customer_contacts,
        "_check_contact_email",
        _skip_calls(customer_common._check_contact_email, 1),
    )
    with pytest.raises(ValidationFailed) as exc:
        await customers.update_contact(
            alice, contact_id=other.id, changes={"email": "melissa@example.com"}
        )
    assert _codes(exc) == [("email", ErrorCode.DUPLICATE)]
    assert (await models.Contact.get(id=other.id)).email == "other@example.com"
    assert await models.Activity.filter(kind="contact.updated").count() == 0


async def test_product_deleted_meanwhile_is_not_found(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A product deleted between the checks and the insert: the foreign key refuses the link,
    and the caller learns which field, with nothing written."""
    alice = await _alice(world)
    real = customer_common._check_refs
    for kind in ("contact", "account"):
        product = await models.Product.create(name=f"Doomed {kind}")
        calls = 0

        async def check_then_delete(*args: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            await real(*args, **kwargs)
            if calls == 1:
                await models.Product.filter(name__startswith="Doomed").delete()

        # looked up where each caller is: create_contact, create_account, the conflict's reading
        for where in (customer_contacts, customer_accounts, customer_common):
            monkeypatch.setattr(where, "_check_refs", check_then_delete)
        with pytest.raises(ValidationFailed) as exc:
            if kind == "contact":
                await customers.create_contact(alice, last_name="X", product_ids=[product.id])
            else:
                await customers.create_account(alice, name="X", product_ids=[product.id])
        assert _codes(exc) == [("productIds", ErrorCode.NOT_FOUND)]
        assert calls == 2
    assert await models.Contact.all().count() == 1
    assert await models.Account.all().count() == 0
    assert await models.ContactProduct.all().count() == 0
    assert await models.AccountProduct.all().count() == 0
    created = ["contact.created", "account.created"]
    assert await models.Activity.filter(kind__in=created).count() == 0


async def test_concurrent_creates_with_one_email_make_one_contact(world: World) -> None:
    alice = await _alice(world)

    async def create(i: int) -> bool:
        try:
            await customers.create_contact(alice, last_name=f"N{i}", email="same@example.com")
        except ValidationFailed as exc:
            assert [e.code for e in exc.errors] == [ErrorCode.DUPLICATE]
            return False
        return True

    results = await asyncio.gather(*(create(i) for i in range(6)))
    assert results.count(True) == 1
    assert await models.Contact.filter(email="same@example.com").count() == 1
    assert await models.Activity.filter(kind="contact.created").count() == 1


async def test_header_injection_is_an_invalid_email(world: World) -> None:
    alice = await _alice(world)
    for field in ("email", "secondary_email"):
        with pytest.raises(ValidationFailed) as exc:
            await customers.create_contact(
                alice, last_name="X", **{field: "a@b.com\r\nBcc: c@d.com"}
            )
        assert [e.code for e in exc.value.errors] == [ErrorCode.INVALID_EMAIL]
    with pytest.raises(ValidationFailed) as exc:
        await customers.create_account(alice, name="X", email="a@b.com\nBcc: c@d.com")
    assert _codes(exc) == [("email", ErrorCode.INVALID_EMAIL)]
    assert await models.Contact.all().count() == 1
    assert await models.Account.all().count() == 0


async def test_update_contact_rejects_unknown_fields(world: World) -> None:
    with pytest.raises(ValueError, match="not updatable"):
        await customers.update_contact(
            await _alice(world), contact_id=world.contact.id, changes={"created_at": None}
        )


async def test_update_contact_diff_and_account_link(world: World) -> None:
    alice = await _alice(world)
    old_account = await models.Account.create(name="Old")
    await models.Contact.filter(id=world.contact.id).update(account_id=old_account.id)
    updated = await customers.update_contact(
        alice,
        contact_id=world.contact.id,
        changes={"first_name": "Mel", "account_id": None, "mobile": "600 700 800"},
    )
    assert updated.first_name == "Mel" and updated.account_id is None  # type: ignore[attr-defined]
    act = await models.Activity.get(kind="contact.updated")
    # Moved out of an account: the row keeps the old account so its timeline still shows it.
    assert act.account_id == old_account.id and act.contact_id == world.contact.id
    assert act.changes == {
        "first_name": {"old": "Melissa", "new": "Mel"},
        "account_id": {"old": old_account.id, "new": None},
        "mobile": {"old": "", "new": "600 700 800"},
    }


async def test_delete_contact_in_use_counts_every_ticket(world: World) -> None:
    """Tickets in departments the actor cannot see still keep the contact."""
    admin = await load_actor(world.admin.id)
    await tickets.create_ticket(
        admin, subject="Sales question", department_id=world.sales.id, contact_id=world.contact.id
    )
    with pytest.raises(ValidationFailed) as exc:
        await customers.delete_contact(await _alice(world), contact_id=world.contact.id)
    assert _codes(exc) == [("id", ErrorCode.IN_USE)]
    assert "1 ticket;" in exc.value.errors[0].message
    assert await models.Contact.exists(id=world.contact.id)
    assert await models.Activity.filter(kind="contact.deleted").count() == 0


async def test_delete_contact_keeps_messages_it_wrote_on_other_tickets(world: World) -> None:
    admin = await load_actor(world.admin.id)
    cc = await models.Contact.create(last_name="Cc", email="cc@example.com")
    ticket = await tickets.create_ticket(
        admin, subject="Hi", department_id=world.support.id, contact_id=world.contact.id
    )
    thread = await models.Thread.create(
        ticket_id=ticket.id, direction="INCOMING", author_contact_id=cc.id, body_text="me too"
    )
    deleted = await customers.delete_contact(admin, contact_id=cc.id)
    assert deleted.email == "cc@example.com"
    fresh = await models.Thread.get(id=thread.id)
    assert fresh.author_contact_id is None and fresh.body_text == "me too"  # type: ignore[attr-defined]


async def test_account_and_product_history_rows(world: World) -> None:
    alice = await _alice(world)
    product = await customers.create_product(alice, name="Desk", code="D1")
    account = await customers.create_account(
        alice, name="Zylker", website="https://zylker.example", product_ids=[product.id]
    )
    same = await customers.update_account(
        alice, account_id=account.id, changes={"name": " Zylker ", "product_ids": [product.id]}
    )
    assert same.name == "Zylker"
    assert await models.Activity.filter(kind="account.updated").count() == 0
    await customers.update_account(alice, account_id=account.id, changes={"phone": "123"})
    await customers.update_product(alice, product_id=product.id, changes={"description": "New"})
    kinds = await models.Activity.filter(kind__startswith="account.").values_list(
        "kind", "account_id"
    )
    assert kinds == [("account.created", account.id), ("account.updated", account.id)]
    kinds = await models.Activity.filter(kind__startswith="product.").values_list(
        "kind", "subject_id"
    )
    assert kinds == [("product.created", product.id), ("product.updated", product.id)]


async def test_product_names_are_unique_regardless_of_case(world: World) -> None:
    alice = await _alice(world)
    desk = await customers.create_product(alice, name="Desk")
    with pytest.raises(ValidationFailed) as exc:
        await customers.create_product(alice, name="DESK")
    assert _codes(exc) == [("name", ErrorCode.DUPLICATE)]
    other = await customers.create_product(alice, name="CRM")
    with pytest.raises(ValidationFailed) as exc:
        await customers.update_product(alice, product_id=other.id, changes={"name": "desk"})
    assert _codes(exc) == [("name", ErrorCode.DUPLICATE)]
    renamed = await customers.update_product(alice, product_id=desk.id, changes={"name": "desk"})
    assert renamed.name == "desk"


async def test_lists_are_organisation_wide(world: World) -> None:
    """Contacts, accounts and products do not depend on the agent's departments."""
    await models.Account.create(name="Acme")
    await models.Product.create(name="Desk")
    for agent in (world.alice, world.bob, world.admin):
        actor = await load_actor(agent.id)
        assert await customers.list_contacts(actor).count() == 1
        assert await customers.list_accounts(actor).count() == 1
        assert await customers.list_products(actor).count() == 1
