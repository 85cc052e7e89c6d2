"""Customer view resolvers (CUS-7): decode ids and criteria, call services.customer_views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql import models
from deskql.resolvers.common import mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import InvalidId, decode_id, input_id, public_changes
from deskql.services import customer_views as svc
from deskql.services.errors import ErrorCode, ValidationFailed

if TYPE_CHECKING:
    from deskql.schema.customer_views import (
        CustomerView,
        CustomerViewCreateInput,
        CustomerViewDeleteInput,
        CustomerViewUpdateInput,
    )

STANDARD_PREFIX = "standard:"


def standard_id(kind: str, which: svc.StandardCustomerView) -> str:
    """The id of a standard view."""
    return f"{STANDARD_PREFIX}{kind}:{which.value}"


def to_object(view: svc.CustomerView) -> CustomerView:
    """The GraphQL object of a view."""
    from deskql.schema.customer_views import CustomerView, CustomerViewKind, CustomerViewSort
    from deskql.schema.ids import to_global_id
    from deskql.schema.tickets import SortDirection

    row = view.row
    return CustomerView(
        id=strawberry.ID(
            to_global_id("CustomerView", row.id)
            if row is not None
            else standard_id(view.kind, view.standard)  # type: ignore[arg-type]
        ),
        kind=CustomerViewKind(view.kind),
        name=view.name,
        standard=view.standard,
        is_shared=row.is_shared if row is not None else True,
        criteria=public_changes(view.criteria.to_json()),
        sort=CustomerViewSort(
            field=view.sort, direction=SortDirection.DESC if view.desc else SortDirection.ASC
        ),
        owner_pk=row.owner_id if row is not None else None,  # type: ignore[attr-defined]
    )


def from_row(row: models.CustomerView) -> CustomerView:
    """The GraphQL object of a saved view row."""
    return to_object(svc.saved_view(row))


def standard_views(info: strawberry.Info, *, kind: str) -> list[CustomerView]:
    """`standardCustomerViews`."""
    actor_of(info)
    return [to_object(svc.standard_view(kind, which)) for which in svc.StandardCustomerView]


async def saved_views(
    info: strawberry.Info, *, kind: str, first: int | None, after: str | None
) -> Connection[CustomerView]:
    """`customerViews`."""
    query = svc.visible_views(actor_of(info), kind)
    return await page(info, query, first=first, after=after, convert=from_row)


def parse_view_id(view_id: str, kind: str) -> svc.StandardCustomerView | int:
    """A view id: a standard view of this kind, or a saved view's pk; InvalidId otherwise."""
    if view_id.startswith(STANDARD_PREFIX):
        _, view_kind, name = (view_id.split(":", 2) + ["", ""])[:3]
        if view_kind != kind or name not in svc.StandardCustomerView.__members__:
            raise InvalidId(f"no standard {kind.lower()} view {view_id!r}")
        return svc.StandardCustomerView(name)
    return decode_id(view_id, "CustomerView")


def _db_id(global_id: Any, type_name: str, field: str) -> int | None:
    return None if global_id is None else input_id(global_id, type_name, field)


def criteria(value: Any, kind: str) -> svc.Criteria:
    """Service criteria from a ContactViewCriteria / AccountViewCriteria input."""
    if value is None:
        return svc.Criteria()
    return svc.Criteria(
        text=value.text,
        email=getattr(value, "email", None),
        account_id=_db_id(getattr(value, "account_id", None), "Account", "criteria.accountId"),
        owner_id=_db_id(value.owner_id, "Agent", "criteria.ownerId"),
        created_after=value.created_after,
        created_before=value.created_before,
        mapped_to_crm=value.mapped_to_crm,
        has_open_tickets=value.has_open_tickets,
    )


def _kind_criteria(input: Any, kind: str) -> svc.Criteria | None:
    given = input.contact_criteria if kind == "CONTACT" else input.account_criteria
    other = input.account_criteria if kind == "CONTACT" else input.contact_criteria
    if other is not None:
        raise ValidationFailed.one(
            "contactCriteria" if kind == "ACCOUNT" else "accountCriteria",
            f"a {kind} view takes {kind.lower()}Criteria",
            ErrorCode.INVALID,
        )
    return criteria(given, kind) if given is not None else None


async def create(info: strawberry.Info, input: CustomerViewCreateInput) -> Any:
    """`customerViewCreate`."""
    from deskql.schema.customer_views import CustomerViewPayload

    async def run() -> dict[str, Any]:
        kind = input.kind.value
        row = await svc.create_view(
            actor_of(info),
            kind=kind,
            name=input.name,
            criteria=_kind_criteria(input, kind) or svc.Criteria(),
            sort=input.sort_field,
            desc=input.sort_direction.value == "DESC",
            shared=input.is_shared,
        )
        return {"view": from_row(row)}

    return await mutate(CustomerViewPayload, run)


async def update(info: strawberry.Info, input: CustomerViewUpdateInput) -> Any:
    """`customerViewUpdate`."""
    from deskql.schema.customer_views import CustomerViewPayload

    async def run() -> dict[str, Any]:
        actor = actor_of(info)
        pk = input_id(input.id, "CustomerView", "id")
        current = await svc.visible_views(actor).filter(id=pk).first()
        if current is None:
            raise ValidationFailed.one("id", "no such view", ErrorCode.NOT_FOUND)
        row = await svc.update_view(
            actor,
            view_id=pk,
            name=input.name,
            criteria=_kind_criteria(input, current.kind),
            shared=input.is_shared,
        )
        return {"view": from_row(row)}

    return await mutate(CustomerViewPayload, run)


async def delete(info: strawberry.Info, input: CustomerViewDeleteInput) -> Any:
    """`customerViewDelete`."""
    from deskql.schema.customer_views import CustomerViewPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_view(
            actor_of(info), view_id=input_id(input.id, "CustomerView", "id")
        )
        return {"view": from_row(row)}

    return await mutate(CustomerViewPayload, run)


async def resolve_view(info: strawberry.Info, *, view_id: str, kind: str) -> svc.CustomerView:
    """The view behind `contacts(viewId:)` / `accounts(viewId:)`: a top-level NOT_FOUND error
    when it does not exist or the actor may not use it."""
    from deskql.services.views import ViewNotFound

    try:
        which = parse_view_id(view_id, kind)
        return await svc.get_view(actor_of(info), kind=kind, view=which)
    except (svc.CustomerViewNotFound, InvalidId) as exc:
        raise ViewNotFound(str(exc)) from None


async def view_query(
    info: strawberry.Info, *, kind: str, view_id: str, filter: Any, sort: Any
) -> Any:
    """The query of `contacts(viewId:)` / `accounts(viewId:)`, narrowed by `filter`."""
    view = await resolve_view(info, view_id=view_id, kind=kind)
    narrow = None
    if filter is not None:
        account = getattr(filter, "account_id", None)
        narrow = svc.Criteria(
            text=filter.text,
            email=getattr(filter, "email", None),
            account_id=decode_id(account, "Account") if account else None,
            created_after=getattr(filter, "created_after", None),
            created_before=getattr(filter, "created_before", None),
        )
    return svc.query(
        actor_of(info),
        kind=kind,
        view=view,
        criteria=narrow,
        sort=sort.field.value if sort else None,
        desc=(sort.direction.value == "DESC") if sort else None,
    )
