"""Input scalars with documented ranges (issue 17, point 4): a DateTime outside
1900-01-01T00:00:00Z .. 2999-12-31T23:59:59Z is refused with BAD_USER_INPUT at the edge,
instead of overflowing later (9999-12-31T23:59:59-05:00 is past datetime.max in UTC)."""

from __future__ import annotations

import datetime as dt

import dateutil.parser
from strawberry.schema.types.base_scalars import isoformat, wrap_parser
from strawberry.types.scalar import ScalarDefinition

MIN_DATETIME = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
MAX_DATETIME = dt.datetime(2999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
RANGE = "between 1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z"


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date-time within the documented range (ValueError otherwise)."""
    value = dateutil.parser.isoparse(text)
    # Naive values are taken as UTC for the range check (and kept naive, as before).
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    try:
        in_range = MIN_DATETIME <= aware <= MAX_DATETIME
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError(f"a date-time must be {RANGE}")
    return value


DateTime = ScalarDefinition(
    name="DateTime",
    description=f"Date with time, ISO 8601 with a UTC offset, e.g. 2026-12-04T16:30:00+00:00. "
    f"Inputs must be {RANGE}; others are refused with BAD_USER_INPUT.",
    specified_by_url=None,
    serialize=isoformat,
    parse_value=wrap_parser(parse_datetime, "DateTime", exceptions=(ValueError, OverflowError)),
    parse_literal=None,
    origin=dt.datetime,
)
