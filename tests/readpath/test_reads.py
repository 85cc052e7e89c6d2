"""readpath.compiled.reads: the fast conversions give exactly what the fields' own
to_python_value gives (values, types, time zones, errors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from deskql import models
from deskql.readpath.compiled.reads import faster


def _same(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert a == b
    if isinstance(a, datetime):
        assert a.utcoffset() == b.utcoffset()
        assert a.isoformat() == b.isoformat()


@pytest.mark.parametrize(
    ("model", "column", "values"),
    [
        (models.Ticket, "status", ["OPEN", "CLOSED", None]),
        (models.Ticket, "channel", ["EMAIL", "FORUM", None]),
        (models.Ticket, "priority", [None]),
        (models.Ticket, "created_at", []),
        (models.Ticket, "due_at", [None]),
    ],
)
def test_faster_conversions_equal_the_fields_own(
    model: Any, column: str, values: list[Any]
) -> None:
    field = model._meta.fields_map[column]
    enum_type = getattr(field, "enum_type", None)
    if enum_type is not None:
        values = [*values, *(m.value for m in enum_type), *list(enum_type)]
    else:
        values = [
            *values,
            datetime(2026, 12, 6, 10, 30, 1, 5, tzinfo=UTC),
            datetime(2026, 12, 6, 10, 30, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 12, 6, 10, 30),  # naive: made aware
            "2026-12-06 10:30:00.123456+00:00",  # SQLite's text
            "2026-12-06T10:30:00",
        ]
    convert = field.to_python_value
    fast = faster(convert)
    assert fast is not convert  # the field's type has a fast path
    for value in values:
        _same(fast(value), convert(value))


def test_faster_refuses_what_the_field_refuses() -> None:
    field = models.Ticket._meta.fields_map["status"]
    fast = faster(field.to_python_value)
    with pytest.raises(ValueError):
        field.to_python_value("NOT A STATUS")
    with pytest.raises(ValueError):
        fast("NOT A STATUS")
    with pytest.raises(ValueError):
        fast(["unhashable"])


def test_other_fields_keep_their_conversion() -> None:
    convert = models.Ticket._meta.fields_map["subject"].to_python_value
    assert faster(convert) is convert
