"""Ticket list views (SRC-5) and the detail views of a ticket and a contact (TIC-4, TIC-5).

A list view is criteria plus a sort. Standard views are built in (one per `StandardView`);
custom views are `models.TicketView` rows saved by an agent, private to their owner unless an
administrator shares them with everyone. Their criteria are a `services.tickets.TicketFilter`
stored as JSON (database ids, enums by name) and applied by the one filter implementation,
`services.tickets.filter_tickets`, on top of the actor's visible tickets: a view never shows
tickets of a department the actor is not in, whatever its stored criteria name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import (
    ClientError,
    ErrorCode,
    Errors,
    PermissionDenied,
    ValidationFailed,
)
from deskql.services.policies import (
    can_see_department,
    require_admin,
    visible_agents,
    visible_teams,
    visible_tickets,
)
from deskql.services.tickets import SORT_FIELDS, TicketFilter, filter_tickets

NAME_MAX = 120
OPEN_STATUSES = [s for s in TicketStatus if s is not TicketStatus.CLOSED]


class StandardView(StrEnum):
    """The built-in ticket views every agent has."""

    ALL_OPEN = "ALL_OPEN"
    MINE = "MINE"
    MY_TEAMS = "MY_TEAMS"
    UNASSIGNED = "UNASSIGNED"
    OVERDUE = "OVERDUE"
    ON_HOLD = "ON_HOLD"
    CLOSED = "CLOSED"
    SPAM = "SPAM"
    FOLLOWED = "FOLLOWED"


class ViewNotFound(ClientError):
    """A view that does not exist or that the actor may not see (a query's top-level error)."""

    code = "NOT_FOUND"


Narrowing = Callable[[Actor, QuerySet[models.Ticket]], QuerySet[models.Ticket]]


def _mine(actor: Actor, qs: QuerySet[models.Ticket]) -> QuerySet[models.Ticket]:
    return qs.filter(assignee_agent_id=actor.agent_id)


def _my_teams(actor: Actor, qs: QuerySet[models.Ticket]) -> QuerySet[models.Ticket]:
    teams = models.TeamMembership.filter(agent_id=actor.agent_id).values("team_id")
    return qs.filter(assignee_team_id__in=Subquery(teams))


def _followed(actor: Actor, qs: QuerySet[models.Ticket]) -> QuerySet[models.Ticket]:
    follows = models.Follow.filter(agent_id=actor.agent_id, ticket_id__isnull=False)
    return qs.filter(id__in=Subquery(follows.values("ticket_id")))


@dataclass(frozen=True)
class _Standard:
    name: str
    flt: TicketFilter
    sort: str = "CREATED_AT"
    desc: bool = True
    # Criteria that depend on who asks (memberships, follows): subqueries, so still one query.
    narrow: Narrowing | None = None


# Spam is left out of every view but SPAM (TicketFilter.is_spam defaults to False).
STANDARD: dict[StandardView, _Standard] = {
    StandardView.ALL_OPEN: _Standard("All open tickets", TicketFilter(statuses=OPEN_STATUSES)),
    StandardView.MINE: _Standard(
        "My open tickets", TicketFilter(statuses=OPEN_STATUSES), narrow=_mine
    ),
    StandardView.MY_TEAMS: _Standard(
        "My teams' open tickets", TicketFilter(statuses=OPEN_STATUSES), narrow=_my_teams
    ),
    StandardView.UNASSIGNED: _Standard(
        "Unassigned open tickets", TicketFilter(statuses=OPEN_STATUSES, unassigned=True)
    ),
    StandardView.OVERDUE: _Standard(
        "Overdue tickets", TicketFilter(overdue=True), sort="DUE_AT", desc=False
    ),
    StandardView.ON_HOLD: _Standard("On hold", TicketFilter(statuses=[TicketStatus.ON_HOLD])),
    StandardView.CLOSED: _Standard("Closed tickets", TicketFilter(statuses=[TicketStatus.CLOSED])),
    StandardView.SPAM: _Standard("Spam", TicketFilter(is_spam=True)),
    StandardView.FOLLOWED: _Standard("Tickets I follow", TicketFilter(), narrow=_followed),
}


@dataclass
class View:
    """A view as applied: a standard one, or a saved row with its criteria decoded."""

    name: str
    flt: TicketFilter
    sort: str
    desc: bool
    standard: StandardView | None = None
    row: models.TicketView | None = None
    narrow: Narrowing | None = None

    @property
    def key(self) -> str:
        """Unique among the views of one request."""
        return f"standard:{self.standard.value}" if self.standard else f"custom:{self.row_id}"

    @property
    def row_id(self) -> int | None:
        """The saved view's pk (None for a standard view)."""
        return self.row.id if self.row is not None else None


def standard_view(view: StandardView) -> View:
    """The built-in view."""
    spec = STANDARD[view]
    return View(
        name=spec.name,
        flt=spec.flt,
        sort=spec.sort,
        desc=spec.desc,
        standard=view,
        narrow=spec.narrow,
    )


def saved_view(row: models.TicketView) -> View:
    """A saved view with its criteria decoded."""
    return View(
        name=row.name,
        flt=criteria_filter(row.criteria or {}),
        sort=row.sort_field if row.sort_field in SORT_FIELDS else "CREATED_AT",
        desc=row.sort_direction != "ASC",
        row=row,
    )


def visible_views(actor: Actor) -> QuerySet[models.TicketView]:
    """The saved views the actor may use: their own and the shared ones, oldest first."""
    return models.TicketView.filter(Q(owner_id=actor.agent_id) | Q(is_shared=True)).order_by("id")


async def list_views(actor: Actor) -> list[View]:
    """The standard views, then the saved views the actor may use."""
    rows = await visible_views(actor)
    return [standard_view(v) for v in StandardView] + [saved_view(row) for row in rows]


async def get_view(actor: Actor, *, view: StandardView | int) -> View:
    """A standard view, or a saved one the actor may use; ViewNotFound otherwise."""
    if isinstance(view, StandardView):
        return standard_view(view)
    row = await visible_views(actor).filter(id=view).first()
    if row is None:
        raise ViewNotFound("no such ticket view")
    return saved_view(row)


def view_tickets(
    actor: Actor,
    *,
    view: View,
    narrow: TicketFilter | None = None,
    sort: str | None = None,
    desc: bool | None = None,
) -> QuerySet[models.Ticket]:
    """The actor's visible tickets in a view, narrowed by a further filter, in the view's sort
    unless another is given. Whether spam shows is the view's choice, not the narrowing's."""
    qs = filter_tickets(visible_tickets(actor), view.flt)
    if view.narrow is not None:
        qs = view.narrow(actor, qs)
    if narrow is not None:
        qs = filter_tickets(qs, replace(narrow, is_spam=None))
    column = SORT_FIELDS[sort or view.sort]
    prefix = "-" if (view.desc if desc is None else desc) else ""
    return qs.order_by(f"{prefix}{column}", f"{prefix}id")


async def count_views(actor: Actor, views: list[View]) -> dict[str, int]:
    """How many tickets each view shows the actor, all counted in one SQL statement."""
    if not views:
        return {}
    terms = []
    query_cls: Any = None
    db: Any = None
    for index, view in enumerate(views):
        # Each view's COUNT becomes a scalar subquery of one SELECT. Tortoise has no public API
        # to combine counts, so this builds the CountQuery's pypika query the way awaiting it
        # would, and lets pypika number the parameters of the whole statement.
        counter = view_tickets(actor, view=view).count()
        counter._choose_db_if_not_chosen()
        counter._make_query()
        db = counter._db
        query_cls = counter.query.QUERY_CLS
        terms.append(counter.query.as_(f"c{index}"))
    sql, params = query_cls.select(*terms).get_parameterized_sql()
    _, rows = await db.execute_query(sql, params)
    values = list(dict(rows[0]).values())
    return {view.key: int(values[i]) for i, view in enumerate(views)}


# --- criteria as stored JSON --------------------------------------------------------------

_ENUM_LISTS: dict[str, type] = {
    "statuses": TicketStatus,
    "priorities": TicketPriority,
    "channels": Channel,
}
_ID_LISTS = ("department_ids", "assignee_agent_ids", "assignee_team_ids")
_IDS = ("contact_id", "account_id", "product_id")
_FLAGS = ("unassigned", "overdue", "is_spam")
_TIMES = ("created_after", "created_before")
_TEXTS = ("tag", "text")


def criteria_json(flt: TicketFilter) -> dict[str, Any]:
    """A filter as JSON for TicketView.criteria: only the criteria given, enums by name."""
    out: dict[str, Any] = {}
    for key in _ENUM_LISTS:
        if getattr(flt, key):
            out[key] = [v.name for v in getattr(flt, key)]
    for key in _ID_LISTS:
        if getattr(flt, key):
            out[key] = sorted(set(getattr(flt, key)))
    for key in (*_IDS, *_TEXTS):
        if getattr(flt, key) is not None:
            out[key] = getattr(flt, key)
    for key in _TIMES:
        if getattr(flt, key) is not None:
            out[key] = getattr(flt, key).isoformat()
    for key in _FLAGS:
        out[key] = getattr(flt, key)  # None means "either", which differs from the default
    return out


def criteria_filter(criteria: dict[str, Any]) -> TicketFilter:
    """The filter stored criteria describe (unknown keys are ignored)."""
    values: dict[str, Any] = {}
    for key, enum in _ENUM_LISTS.items():
        if key in criteria:
            values[key] = [enum[name] for name in criteria[key]]
    for key in (*_ID_LISTS, *_IDS, *_FLAGS, *_TEXTS):
        if key in criteria:
            values[key] = criteria[key]
    for key in _TIMES:
        if criteria.get(key) is not None:
            values[key] = datetime.fromisoformat(criteria[key])
    return TicketFilter(**values)


async def _check_criteria(actor: Actor, errors: Errors, flt: TicketFilter) -> None:
    """Every record the criteria name exists and is one the actor may see."""
    wanted = set(flt.department_ids)
    known = set(await models.Department.filter(id__in=list(wanted)).values_list("id", flat=True))
    if any(d not in known or not can_see_department(actor, d) for d in wanted):
        errors.add("criteria.departmentIds", "no such department", ErrorCode.NOT_FOUND)
    for ids, query, label in (
        (flt.assignee_agent_ids, visible_agents(actor), "agent"),
        (flt.assignee_team_ids, visible_teams(actor), "team"),
    ):
        if ids and await query.filter(id__in=list(set(ids))).count() != len(set(ids)):
            errors.add("criteria.assigneeIds", f"no such {label}", ErrorCode.NOT_FOUND)
    for pk, model, label in (
        (flt.contact_id, models.Contact, "contactId"),
        (flt.account_id, models.Account, "accountId"),
        (flt.product_id, models.Product, "productId"),
    ):
        if pk is not None and not await model.exists(id=pk):
            errors.add(f"criteria.{label}", f"no such {label[:-2]}", ErrorCode.NOT_FOUND)
    if flt.tag is not None and not flt.tag.strip():
        errors.add("criteria.tag", "the tag must not be empty", ErrorCode.INVALID)
    if flt.text is not None:
        validation.text(errors, "criteria.text", flt.text, max_length=255)


def _check_sort(errors: Errors, sort: str) -> None:
    if sort not in SORT_FIELDS:
        errors.add("sort", f"cannot sort by {sort!r}", ErrorCode.INVALID)


# --- saving views -------------------------------------------------------------------------


async def create_view(
    actor: Actor,
    *,
    name: str,
    flt: TicketFilter,
    sort: str = "CREATED_AT",
    desc: bool = True,
    is_shared: bool = False,
) -> models.TicketView:
    """Save a custom view owned by the actor; only administrators may share one with everyone."""
    if is_shared:
        require_admin(actor, "share a ticket view with everyone")
    errors = Errors()
    clean_name = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    _check_sort(errors, sort)
    await _check_criteria(actor, errors, flt)
    errors.raise_if_any()
    async with uow.transaction():
        row = await models.TicketView.create(
            name=clean_name,
            owner_id=actor.agent_id,
            is_shared=is_shared,
            criteria=criteria_json(flt),
            sort_field=sort,
            sort_direction="DESC" if desc else "ASC",
        )
        await _record(actor, "ticket_view.created", row, {"name": row.name, "isShared": is_shared})
    return row


async def _editable(actor: Actor, view: StandardView | int) -> models.TicketView:
    """The saved view if the actor may change it: the owner, or an administrator for a shared
    one. Another agent's private view is NOT_FOUND (its existence is not revealed)."""
    if isinstance(view, StandardView):
        raise ValidationFailed.one(
            "id", "standard views are built in and cannot be changed", ErrorCode.INVALID
        )
    row = await visible_views(actor).filter(id=view).first()
    if row is None:
        raise ValidationFailed.one("id", "no such ticket view", ErrorCode.NOT_FOUND)
    if row.owner_id != actor.agent_id and not actor.is_admin:  # type: ignore[attr-defined]
        raise PermissionDenied("only its owner or an administrator may change a shared view")
    return row


async def update_view(
    actor: Actor, *, view: StandardView | int, changes: dict[str, Any]
) -> models.TicketView:
    """Change a saved view's name, criteria (`flt`), sort (`sort`, `desc`) or sharing."""
    unknown = set(changes) - {"name", "flt", "sort", "desc", "is_shared"}
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    row = await _editable(actor, view)
    if "is_shared" in changes and changes["is_shared"] != row.is_shared:
        require_admin(actor, "share or unshare a ticket view")
    errors = Errors()
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = validation.text(
            errors, "name", changes["name"], max_length=NAME_MAX, required=True
        )
    if changes.get("sort") is not None:
        _check_sort(errors, changes["sort"])
        values["sort_field"] = changes["sort"]
    if changes.get("desc") is not None:
        values["sort_direction"] = "DESC" if changes["desc"] else "ASC"
    if changes.get("is_shared") is not None:
        values["is_shared"] = changes["is_shared"]
    if changes.get("flt") is not None:
        await _check_criteria(actor, errors, changes["flt"])
        values["criteria"] = criteria_json(changes["flt"])
    errors.raise_if_any()
    if not values:
        return row
    before = {key: getattr(row, key) for key in values}
    async with uow.transaction():
        await models.TicketView.filter(id=row.id).update(**values)
        fresh = await models.TicketView.get(id=row.id)
        changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
        if changed:
            await _record(actor, "ticket_view.updated", fresh, changed)
    return fresh


async def delete_view(actor: Actor, *, view: StandardView | int) -> models.TicketView:
    """Delete a saved view (its owner, or an administrator for a shared one)."""
    row = await _editable(actor, view)
    async with uow.transaction():
        await _record(actor, "ticket_view.deleted", row, {"name": row.name})
        await row.delete()
    return row


async def _record(actor: Actor, kind: str, row: models.TicketView, changes: dict[str, Any]) -> None:
    await activity.record(
        actor=actor, kind=kind, subject_type="TicketView", subject_id=row.id, changes=changes
    )


# --- detail views -------------------------------------------------------------------------

ConversationItem = models.Thread | models.Comment


async def conversation(
    actor: Actor, *, ticket_id: int, offset: int, limit: int
) -> tuple[list[ConversationItem], int]:
    """A page of a ticket's threads and comments interleaved oldest first (TIC-4), and how
    many there are. Private items are included (agents see them); each keeps its is_public.

    Four statements whatever the page size: the (id, time) keys of both kinds, then the rows
    of the page. Ties in time put messages before comments, then follow ids."""
    if not await visible_tickets(actor).filter(id=ticket_id).exists():
        return [], 0
    threads = await models.Thread.filter(ticket_id=ticket_id).values_list("id", "created_at")
    comments = await models.Comment.filter(ticket_id=ticket_id).values_list("id", "created_at")
    keys = sorted(
        [(at, 0, pk) for pk, at in threads] + [(at, 1, pk) for pk, at in comments],
    )
    page = keys[offset : offset + limit]
    thread_ids = [pk for _, kind, pk in page if kind == 0]
    comment_ids = [pk for _, kind, pk in page if kind == 1]
    rows: dict[tuple[int, int], ConversationItem] = {}
    if thread_ids:
        rows |= {(0, t.id): t for t in await models.Thread.filter(id__in=thread_ids)}
    if comment_ids:
        rows |= {(1, c.id): c for c in await models.Comment.filter(id__in=comment_ids)}
    return [rows[(kind, pk)] for _, kind, pk in page if (kind, pk) in rows], len(keys)


def contact_timeline(actor: Actor, *, contact_id: int) -> QuerySet[models.Ticket]:
    """The contact's tickets the actor may see, newest first (TIC-5)."""
    return visible_tickets(actor).filter(contact_id=contact_id).order_by("-created_at", "-id")
