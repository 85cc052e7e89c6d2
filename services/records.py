"""Record types that take comments and followers (COL-1, COL-2): one small registration each.

A comment belongs to one record: a ticket, an article, and whatever else registers here (a
contact, an account, a task, an event, a call). `services.comments` and `services.follows`
work on any registered type through its `RecordType`:

- `load(actor, pk, field)`: the record the actor may comment on, or a NOT_FOUND payload error
  naming `field` (ORG-5 is checked there: a record of another department is "not found");
- `visible(actor)`: the records the actor may see, as a query (scopes comments and follows);
- `record_activity(actor, kind, record, changes)`: writes the Activity row (with the record's
  ticket/contact/account/department links, so notifications and timelines find it);
- `owners(record)`: agents told of its comments besides its followers (an article's author);
- `comment_key(pk)` / `follow_key(pk)`: the columns of a Comment / Follow row that name the
  record. Tickets, contacts and accounts use their own foreign key columns (a ticket's
  comments move with it on merge and split); other types use the generic
  `subject_type`/`subject_id` columns.

Registering a type: build a `RecordType` in the module that owns the record and call
`register(...)` at import time, then add that module's name to `_MODULES` below so the
registry loads it on first use (services import each other lazily, never in a circle).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity
from deskql.services.auth import Actor

# (actor, kind, record, changes, owners) -> the Activity row written
RecordActivity = Callable[
    [Actor, str, Any, dict[str, Any], Iterable[int]], Awaitable[models.Activity]
]

# Modules that register record types when imported.
_MODULES = (
    "deskql.services.tickets",
    "deskql.services.activities.records",
    "deskql.services.kb.articles",
)
_REGISTRY: dict[str, RecordType] = {}
_loaded = False


def _generic_key(type_name: str) -> Callable[[int], dict[str, Any]]:
    def key(pk: int) -> dict[str, Any]:
        return {"subject_type": type_name, "subject_id": pk}

    return key


def _no_owners(record: Any) -> Iterable[int]:
    return ()


@dataclass(frozen=True)
class RecordType:
    """How one record type takes comments and followers (see the module doc)."""

    name: str  # the GraphQL type name, also Activity.subject_type ("Ticket", "Article")
    kind: str  # prefix of its activity kinds: "article" -> "article.comment_added"
    field: str  # the input field named in errors ("ticketId", "articleId")
    load: Callable[[Actor, int, str], Awaitable[Any]]
    visible: Callable[[Actor], QuerySet[Any]]
    record_activity: RecordActivity
    owners: Callable[[Any], Iterable[int]] = _no_owners
    # None: the generic subject_type/subject_id columns (set in __post_init__).
    comment_key: Callable[[int], dict[str, Any]] | None = None
    follow_key: Callable[[int], dict[str, Any]] | None = None
    # Whether its follows use the generic columns (notifications then read them).
    generic_follow: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        generic = _generic_key(self.name)
        object.__setattr__(self, "generic_follow", self.follow_key is None)
        if self.comment_key is None:
            object.__setattr__(self, "comment_key", generic)
        if self.follow_key is None:
            object.__setattr__(self, "follow_key", generic)

    def comment_columns(self, pk: int) -> dict[str, Any]:
        """The Comment columns naming the record `pk`."""
        assert self.comment_key is not None
        return self.comment_key(pk)

    def follow_columns(self, pk: int) -> dict[str, Any]:
        """The Follow columns naming the record `pk`."""
        assert self.follow_key is not None
        return self.follow_key(pk)


def register(record_type: RecordType) -> RecordType:
    """Make a record type commentable and followable (call at import time of its module)."""
    _REGISTRY[record_type.name] = record_type
    return record_type


def _load_modules() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in _MODULES:
            importlib.import_module(name)


def find(type_name: str) -> RecordType | None:
    """The registered record type of that name, or None."""
    _load_modules()
    return _REGISTRY.get(type_name)


def all_types() -> list[RecordType]:
    """Every registered record type."""
    _load_modules()
    return list(_REGISTRY.values())


def generic_activity(
    type_name: str, *, department_of: Callable[[Any], int | None] = lambda record: None
) -> RecordActivity:
    """A `record_activity` for a record type of its own (not linked to a ticket, contact or
    account): the Activity names the record and, for department-scoped records, its department
    (only agents who may see that department are then notified)."""

    async def record(
        actor: Actor, kind: str, record: Any, changes: dict[str, Any], owners: Iterable[int]
    ) -> models.Activity:
        return await activity.record(
            actor=actor,
            kind=kind,
            subject_type=type_name,
            subject_id=record.pk,
            department_id=department_of(record),
            changes=changes,
            owners=owners,
        )

    return record


async def forget_record(type_name: str, record_id: int) -> None:
    """Delete the comments and follows of a record being deleted that name it by the generic
    columns (a ticket's, contact's or account's go with it by their foreign keys)."""
    await models.Comment.filter(subject_type=type_name, subject_id=record_id).delete()
    await models.Follow.filter(subject_type=type_name, subject_id=record_id).delete()
