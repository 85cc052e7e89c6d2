"""Contact and account list views (CUS-7): standard views and saved criteria.

A view is criteria plus a sort. Standard views are built in (ALL, ADDED_TODAY, MAPPED_TO_CRM,
MINE, WITH_OPEN_TICKETS); custom views are models.CustomerView rows an agent saves, private to
them unless an administrator shares them (as ticket views, services.views). Criteria are the
advanced filters of `Criteria`, stored as JSON (database ids, times as ISO 8601).
"WITH_OPEN_TICKETS" and `has_open_tickets` count only tickets the asking agent may see.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.services import activity, customers, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, PermissionDenied, ValidationFailed
from deskql.services.policies import visible_agents, visible_tickets

NAME_MAX = 120
KINDS = ("CONTACT", "ACCOUNT")
SORTS = {"CONTACT": set(customers.CONTACT_SORTS), "ACCOUNT": set(customers.ACCOUNT_SORTS)}


class StandardCustomerView(StrEnum):
    """The built-in contact and account views."""

    ALL = "ALL"
    ADDED_TODAY = "ADDED_TODAY"
    MAPPED_TO_CRM = "MAPPED_TO_CRM"
    MINE = "MINE"
    WITH_OPEN_TICKETS = "WITH_OPEN_TICKETS"


STANDARD_NAMES = {
    StandardCustomerView.ALL: "All {}s",
    StandardCustomerView.ADDED_TODAY: "{}s added today",
    StandardCustomerView.MAPPED_TO_CRM: "{}s mapped to the CRM",
    StandardCustomerView.MINE: "My {}s",
    StandardCustomerView.WITH_OPEN_TICKETS: "{}s with open tickets",
}


class CustomerViewNotFound(Exception):
    """A view that does not exist or that the actor may not see."""


@dataclass
class Criteria:
    """Advanced filters of contacts and accounts; every one given must hold."""

    text: str | None = None
    email: str | None = None  # contacts only
    account_id: int | None = None  # contacts only
    owner_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    mapped_to_crm: bool | None = None
    has_open_tickets: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The criteria given, JSON-safe."""
        return {
            f.name: activity.jsonable(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) is not None
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Criteria:
        """Criteria from stored JSON (unknown keys ignored)."""
        values = {f.name: data.get(f.name) for f in fields(cls)}
        for key in ("created_after", "created_before"):
            if values[key]:
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


@dataclass
class CustomerView:
    """A view as applied."""

    kind: str
    name: str
    criteria: Criteria
    sort: str
    desc: bool
    standard: StandardCustomerView | None = None
    row: models.CustomerView | None = None


def standard_view(kind: str, which: StandardCustomerView) -> CustomerView:
    """A built-in view of contacts or accounts."""
    noun = "contact" if kind == "CONTACT" else "account"
    name = STANDARD_NAMES[which].format(noun)
    return CustomerView(kind, name[0].upper() + name[1:], Criteria(), "NAME", False, which)


def saved_view(row: models.CustomerView) -> CustomerView:
    """A saved view with its criteria decoded."""
    return CustomerView(
        row.kind,
        row.name,
        Criteria.from_json(row.criteria or {}),
        row.sort_field if row.sort_field in SORTS[row.kind] else "NAME",
        row.sort_direction == "DESC",
        row=row,
    )


def visible_views(actor: Actor, kind: str | None = None) -> QuerySet[models.CustomerView]:
    """The saved views the actor may use: their own and the shared ones, oldest first."""
    qs = models.CustomerView.filter(Q(owner_id=actor.agent_id) | Q(is_shared=True))
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.order_by("id")


async def get_view(actor: Actor, *, kind: str, view: StandardCustomerView | int) -> CustomerView:
    """A standard view, or a saved one of this kind the actor may use."""
    if isinstance(view, StandardCustomerView):
        return standard_view(kind, view)
    row = await visible_views(actor, kind).filter(id=view).first()
    if row is None:
        raise CustomerViewNotFound(f"no such {kind.lower()} view")
    return saved_view(row)


def _with_open_tickets(actor: Actor, key: str) -> Any:
    tickets = (
        visible_tickets(actor)
        .filter(is_spam=False, **{f"{key}__isnull": False})
        .exclude(status=TicketStatus.CLOSED)
    )
    return Subquery(tickets.values(key))


def _apply(actor: Actor, kind: str, qs: QuerySet[Any], c: Criteria) -> QuerySet[Any]:
    key = "contact_id" if kind == "CONTACT" else "account_id"
    for word in (c.text or "").split():
        qs = qs.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
            if kind == "CONTACT"
            else Q(name__icontains=word)
        )
    if kind == "CONTACT" and c.email is not None:
        qs = qs.filter(email=c.email.strip().lower())
    if kind == "CONTACT" and c.account_id is not None:
        qs = qs.filter(account_id=c.account_id)
    for bound, op in ((c.created_after, "gte"), (c.created_before, "lt")):
        if bound is not None:
            qs = qs.filter(**{f"created_at__{op}": customers._utc(bound)})
    if c.owner_id is not None:
        qs = qs.filter(owner_id=c.owner_id)
    if c.mapped_to_crm is not None:
        linked = Subquery(models.CrmLink.filter(**{f"{key}__isnull": False}).values(key))
        qs = qs.filter(id__in=linked) if c.mapped_to_crm else qs.exclude(id__in=linked)
    if c.has_open_tickets is not None:
        sub = _with_open_tickets(actor, key)
        qs = qs.filter(id__in=sub) if c.has_open_tickets else qs.exclude(id__in=sub)
    return qs


def _standard(actor: Actor, kind: str, which: StandardCustomerView | None) -> Criteria:
    if which is StandardCustomerView.ADDED_TODAY:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return Criteria(created_after=today)
    if which is StandardCustomerView.MAPPED_TO_CRM:
        return Criteria(mapped_to_crm=True)
    if which is StandardCustomerView.MINE:
        return Criteria(owner_id=actor.agent_id)
    if which is StandardCustomerView.WITH_OPEN_TICKETS:
        return Criteria(has_open_tickets=True)
    return Criteria()


def query(
    actor: Actor,
    *,
    kind: str,
    criteria: Criteria | None = None,
    view: CustomerView | None = None,
    sort: str | None = None,
    desc: bool | None = None,
) -> QuerySet[Any]:
    """Contacts or accounts of a view, narrowed by further criteria, sorted."""
    sort = sort or (view.sort if view else "NAME")
    desc = desc if desc is not None else (view.desc if view else False)
    parts = [c for c in (criteria,) if c is not None]
    if view is not None:
        parts.insert(0, view.criteria if view.row else _standard(actor, kind, view.standard))
    qs = (
        customers.list_contacts(actor, sort=sort, desc=desc)
        if kind == "CONTACT"
        else customers.list_accounts(actor, sort=sort, desc=desc)
    )
    for c in parts:
        qs = _apply(actor, kind, qs, c)
    return qs


# --- saving views ---------------------------------------------------------------------------


async def _check(
    actor: Actor, errors: Errors, kind: str, criteria: Criteria, sort: str, shared: bool
) -> None:
    if kind not in KINDS:
        errors.add("kind", "CONTACT or ACCOUNT", ErrorCode.INVALID)
        return
    if sort not in SORTS[kind]:
        errors.add("sort", f"cannot sort {kind.lower()}s by {sort}", ErrorCode.INVALID)
    if shared and not actor.is_admin:
        raise PermissionDenied("only administrators may share views")
    if (
        criteria.owner_id is not None
        and not await visible_agents(actor).filter(id=criteria.owner_id).exists()
    ):
        errors.add("criteria.ownerId", "no such agent", ErrorCode.NOT_FOUND)
    if criteria.account_id is not None and not await models.Account.exists(id=criteria.account_id):
        errors.add("criteria.accountId", "no such account", ErrorCode.NOT_FOUND)


async def create_view(
    actor: Actor,
    *,
    kind: str,
    name: str,
    criteria: Criteria,
    sort: str = "NAME",
    desc: bool = False,
    shared: bool = False,
) -> models.CustomerView:
    """Save a contact or account view; shared ones only by administrators (CUS-7)."""
    errors = Errors()
    clean = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    await _check(actor, errors, kind, criteria, sort, shared)
    errors.raise_if_any()
    async with uow.transaction():
        row = await models.CustomerView.create(
            kind=kind,
            name=clean,
            owner_id=actor.agent_id,
            is_shared=shared,
            criteria=criteria.to_json(),
            sort_field=sort,
            sort_direction="DESC" if desc else "ASC",
        )
        await _record(actor, "customer_view.created", row, {"name": clean, "kind": kind})
    return row


async def _editable(actor: Actor, view_id: int) -> models.CustomerView:
    row = await visible_views(actor).filter(id=view_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such view", ErrorCode.NOT_FOUND)
    if row.owner_id != actor.agent_id and not actor.is_admin:  # type: ignore[attr-defined]
        raise ValidationFailed.one(
            "id", "only its owner or an administrator may change a view", ErrorCode.NOT_OWNER
        )
    return row


async def update_view(
    actor: Actor,
    *,
    view_id: int,
    name: str | None = None,
    criteria: Criteria | None = None,
    shared: bool | None = None,
) -> models.CustomerView:
    """Rename a saved view, replace its criteria, or share/unshare it (administrators)."""
    row = await _editable(actor, view_id)
    errors = Errors()
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    if criteria is not None:
        values["criteria"] = criteria.to_json()
    if shared is not None:
        values["is_shared"] = shared
    await _check(
        actor,
        errors,
        row.kind,
        criteria or Criteria(),
        row.sort_field,
        bool(shared) and not row.is_shared,
    )
    if shared is False and not actor.is_admin and row.is_shared:
        raise PermissionDenied("only administrators may unshare views")
    errors.raise_if_any()
    async with uow.transaction():
        changed = activity.diff({k: getattr(row, k) for k in values}, values)
        if changed:
            await models.CustomerView.filter(id=row.id).update(**values)
            await _record(actor, "customer_view.updated", row, changed)
    return await models.CustomerView.get(id=row.id)


async def delete_view(actor: Actor, *, view_id: int) -> models.CustomerView:
    """Delete a saved view (its owner or an administrator)."""
    row = await _editable(actor, view_id)
    async with uow.transaction():
        await _record(actor, "customer_view.deleted", row, {"name": row.name})
        await row.delete()
    return row


async def _record(
    actor: Actor, kind: str, row: models.CustomerView, changes: dict[str, Any]
) -> None:
    await activity.record(
        actor=actor, kind=kind, subject_type="CustomerView", subject_id=row.id, changes=changes
    )
