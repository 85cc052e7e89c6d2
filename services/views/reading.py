"""List views, standard and saved: listed, read, and their tickets and counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.services.auth import Actor
from deskql.services.errors import (
    ClientError,
)
from deskql.services.policies import (
    visible_tickets,
)
from deskql.services.tickets import SORT_FIELDS, TicketFilter, filter_tickets
from deskql.services.views.criteria import criteria_filter

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
