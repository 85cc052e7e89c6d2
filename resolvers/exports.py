"""exportCreate and Ticket.printUrl: decode the view, call services.exports / ticket_print."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.resolvers.customer_views import parse_view_id as customer_view_id
from deskql.resolvers.views import parse_view_id as ticket_view_id
from deskql.schema.context import actor_of
from deskql.schema.ids import InvalidId
from deskql.services import exports as svc
from deskql.services import ticket_print
from deskql.services.errors import ErrorCode, ValidationFailed

if TYPE_CHECKING:
    from deskql.schema.exports import ExportCreateInput


def _ref(kind: str, view_id: str) -> svc.ViewRef:
    try:
        which: Any = (
            ticket_view_id(view_id) if kind == "TICKET" else customer_view_id(view_id, kind)
        )
    except InvalidId as exc:
        raise ValidationFailed.one("viewId", str(exc), ErrorCode.INVALID) from None
    if isinstance(which, int):
        return svc.ViewRef(kind, saved_id=which)
    return svc.ViewRef(kind, standard=which.value)


async def export_create(info: strawberry.Info, input: ExportCreateInput) -> Any:
    """`exportCreate`."""
    from deskql.schema.exports import ExportPayload

    async def run() -> dict[str, Any]:
        ref = _ref(input.kind.value, input.view_id)
        try:
            url, expires_at = await svc.create_export(
                actor_of(info), info.context.settings, ref=ref
            )
        except svc.ExportGone as exc:
            raise ValidationFailed.one("viewId", str(exc), ErrorCode.NOT_FOUND) from None
        return {"url": url, "expires_at": expires_at}

    return await mutate(ExportPayload, run)


def print_url(info: strawberry.Info, *, ticket_id: int) -> str:
    """`Ticket.printUrl`."""
    return ticket_print.print_url(actor_of(info), info.context.settings, ticket_id=ticket_id)
