"""DataLoaders: every nested field loads in one query per level, whatever the page size.

Loaders are built per request (and per subscription event) for one actor, so their caches
never outlive a request and to-many relations are filtered by what the actor may see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model
from tortoise.queryset import QuerySet

from deskql import models
from deskql.db import placeholders
from deskql.schema import types as t
from deskql.services import policies
from deskql.services.auth import Actor

M = TypeVar("M", bound=Model)
T = TypeVar("T")


# The agent columns t.Agent.from_row reads: never the password hash (issue 18).
AGENT_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "role",
    "is_active",
    "avatar_url",
    "about",
    "hobbies",
    "can_manage_macros",
    "hourly_rate_cents",
    "extension",
    "phone_number",
    "created_at",
)


def _by_id(
    model: type[M], convert: Callable[[M], T], only: Sequence[str] = ()
) -> DataLoader[int, T | None]:
    async def load(keys: Sequence[int]) -> list[T | None]:
        query = model.filter(id__in=list(set(keys)))
        if only:
            query = query.only(*only)
        rows = {row.pk: convert(row) for row in await query}
        return [rows.get(k) for k in keys]

    return DataLoader(load_fn=load)


class Grouped(DataLoader[int, list[T]]):
    """A loader of the rows of `query(keys)` grouped by their `key` column, each converted;
    the compiled read path reads the same query's rows itself (readpath/compiled)."""

    def __init__(
        self, query: Callable[[list[int]], QuerySet[Any]], key: str, convert: Callable[[Any], T]
    ) -> None:
        self.query = query
        self.key = key

        async def load(keys: Sequence[int]) -> list[list[T]]:
            groups: dict[int, list[T]] = defaultdict(list)
            for row in await query(list(set(keys))):
                groups[getattr(row, key)].append(convert(row))
            return [groups.get(k, []) for k in keys]

        super().__init__(load_fn=load)


def _grouped(
    query: Callable[[list[int]], QuerySet[M]],
    key: str,
    convert: Callable[[M], T],
) -> DataLoader[int, list[T]]:
    return Grouped(query, key, convert)


def _grouped_values(
    query: Callable[[list[int]], Awaitable[list[dict[str, Any]]]], key: str, value: str
) -> DataLoader[int, list[Any]]:
    async def load(keys: Sequence[int]) -> list[list[Any]]:
        groups: dict[int, list[Any]] = defaultdict(list)
        for row in await query(list(set(keys))):
            groups[row[key]].append(row[value])
        return [groups.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


# Where tickets' tag names come from and their order: the tags loader's statement, and the
# compiled read path's, which writes one ticket's into its JSON (readpath/compiled/sqljson.py)
TAG_NAMES_FROM = 'FROM "ticket_tag" LEFT OUTER JOIN "tag" ON "tag"."id"="ticket_tag"."tag_id"'
TAG_NAME = '"tag"."name"'


async def _tag_names(ids: list[int]) -> list[Any]:
    """The tickets' tag names, by name: one statement written here (Tortoise builds a list
    of ids slower than the statement runs)."""
    client = models.TicketTag._meta.db
    marks = placeholders(client, len(ids))
    _, rows = await client.execute_query(
        f'SELECT "ticket_tag"."ticket_id" "ticket_id",{TAG_NAME} "name" {TAG_NAMES_FROM} '
        f'WHERE "ticket_tag"."ticket_id" IN ({marks}) ORDER BY {TAG_NAME}',
        ids,
    )
    return list(rows)


def _task(row: models.Task) -> Any:
    from deskql.schema.activities.types import Task  # it imports schema.types, which imports us

    return Task.from_row(row)


class Loaders:
    """The loaders of one request."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.department = _by_id(models.Department, t.Department.from_row)
        self.agent = _by_id(models.Agent, t.Agent.from_row, AGENT_COLUMNS)
        self.team = _by_id(models.Team, t.Team.from_row)
        self.contact = _by_id(models.Contact, t.Contact.from_row)
        self.account = _by_id(models.Account, t.Account.from_row)
        self.product = _by_id(models.Product, t.Product.from_row)
        self.ticket = _by_id(models.Ticket, t.Ticket.from_row)

        visible = policies.visible_tickets(actor)
        self.tags_by_ticket = _grouped_values(_tag_names, "ticket_id", "name")
        self.comments_by_ticket = _grouped(
            lambda ids: models.Comment.filter(ticket_id__in=ids).order_by("id"),
            "ticket_id",
            t.Comment.from_row,
        )
        self.threads_by_ticket = _grouped(
            lambda ids: models.Thread.filter(ticket_id__in=ids).order_by("id"),
            "ticket_id",
            t.Thread.from_row,
        )
        self.attachments_by_ticket = _grouped(
            lambda ids: models.Attachment.filter(ticket_id__in=ids).order_by("id"),
            "ticket_id",
            t.Attachment.from_row,
        )
        self.activities_by_ticket = _grouped(
            lambda ids: models.Activity.filter(ticket_id__in=ids).order_by("id"),
            "ticket_id",
            t.Activity.from_row,
        )
        self.tickets_by_contact = _grouped(
            lambda ids: visible.filter(contact_id__in=ids).order_by("-id"),
            "contact_id",
            t.Ticket.from_row,
        )
        # Merge and split links (TIC-5, TIC-9), oldest first.
        self.merged_by_ticket = _grouped(
            lambda ids: visible.filter(merged_into_id__in=ids).order_by("id"),
            "merged_into_id",
            t.Ticket.from_row,
        )
        self.split_by_ticket = _grouped(
            lambda ids: visible.filter(split_from_id__in=ids).order_by("id"),
            "split_from_id",
            t.Ticket.from_row,
        )
        self.tickets_by_account = _grouped(
            lambda ids: visible.filter(account_id__in=ids).order_by("-id"),
            "account_id",
            t.Ticket.from_row,
        )
        self.contacts_by_account = _grouped(
            lambda ids: models.Contact.filter(account_id__in=ids).order_by("id"),
            "account_id",
            t.Contact.from_row,
        )
        self.teams_by_department = _grouped(
            lambda ids: models.Team.filter(department_id__in=ids).order_by("id"),
            "department_id",
            t.Team.from_row,
        )
        self.agent_ids_by_department = _grouped_values(
            lambda ids: (
                models.DepartmentMembership.filter(department_id__in=ids)
                .order_by("agent_id")
                .values("department_id", "agent_id")
            ),
            "department_id",
            "agent_id",
        )
        self.tasks_by_ticket = _grouped(
            lambda ids: models.Task.filter(ticket_id__in=ids).order_by("id"),
            "ticket_id",
            _task,
        )
        self.department_ids_by_agent = _grouped_values(
            lambda ids: (
                models.DepartmentMembership.filter(agent_id__in=ids)
                .order_by("department_id")
                .values("agent_id", "department_id")
            ),
            "agent_id",
            "department_id",
        )
        self.agent_ids_by_team = _grouped_values(
            lambda ids: (
                models.TeamMembership.filter(team_id__in=ids)
                .order_by("agent_id")
                .values("team_id", "agent_id")
            ),
            "team_id",
            "agent_id",
        )
        self.team_ids_by_agent = _grouped_values(
            lambda ids: (
                models.TeamMembership.filter(agent_id__in=ids)
                .order_by("team_id")
                .values("agent_id", "team_id")
            ),
            "agent_id",
            "team_id",
        )
        self.product_ids_by_contact = _grouped_values(
            lambda ids: (
                models.ContactProduct.filter(contact_id__in=ids)
                .order_by("product_id")
                .values("contact_id", "product_id")
            ),
            "contact_id",
            "product_id",
        )
        self.product_ids_by_account = _grouped_values(
            lambda ids: (
                models.AccountProduct.filter(account_id__in=ids)
                .order_by("product_id")
                .values("account_id", "product_id")
            ),
            "account_id",
            "product_id",
        )
