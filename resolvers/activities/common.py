"""Shared by the activity resolvers: rows to types, optional inputs, changes, filter ids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql import models
from deskql.resolvers.common import given
from deskql.schema.ids import decode_id, optional_input_id
from deskql.services.activities.common import UNCHANGED

if TYPE_CHECKING:
    from deskql.schema.activities.types import Call, Event, Task


def _task(row: models.Task) -> Task:
    from deskql.schema.activities.types import Task

    return Task.from_row(row)


def _event(row: models.Event) -> Event:
    from deskql.schema.activities.types import Event

    return Event.from_row(row)


def _call(row: models.Call) -> Call:
    from deskql.schema.activities.types import Call

    return Call.from_row(row)


def _opt(value: Any, type_name: str, field: str) -> Any:
    """An optional id input that may be UNSET (unchanged), null (clear) or an id."""
    if value is strawberry.UNSET:
        return UNCHANGED
    return optional_input_id(value, type_name, field)


def _changes(input_obj: Any, names: dict[str, str]) -> dict[str, Any]:
    return given(input_obj, names)


def _filter_id(value: str | None, type_name: str) -> int | None:
    return None if value is None else decode_id(value, type_name)
