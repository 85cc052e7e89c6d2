"""What every mutation resolver does the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from deskql.schema.connections import Connection, paginate
from deskql.schema.errors import errors_of
from deskql.schema.page_request import PageRequest
from deskql.services.errors import ValidationFailed

P = TypeVar("P")


async def mutate(payload: Callable[..., P], run: Callable[[], Awaitable[dict[str, Any]]]) -> P:
    """Run a service call; expected failures become `errors` in the payload."""
    try:
        fields = await run()
    except ValidationFailed as exc:
        return payload(errors=errors_of(exc))
    return payload(errors=[], **fields)


def given(input_obj: Any, names: dict[str, str]) -> dict[str, Any]:
    """The input fields the client set (not UNSET), renamed {graphql_attr: service_kwarg}."""
    out: dict[str, Any] = {}
    for attr, kwarg in names.items():
        value = getattr(input_obj, attr)
        if value is not strawberry.UNSET:
            out[kwarg] = value
    return out


async def page(
    info: strawberry.Info,
    query: Any,
    *,
    first: int | None,
    after: str | None,
    convert: Callable[[Any], Any],
) -> Connection[Any]:
    """One page of a sorted query as a connection (keyset cursors; `last`/`before` read from
    the request), capped by the `max_page_size` setting."""
    return await paginate(query, PageRequest.of(info, first, after), convert=convert)
