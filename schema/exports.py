"""CSV exports of views (CUS-7): a signed, expiring download URL."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from deskql.resolvers import exports as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated


@strawberry.enum(description="What a CSV export lists.")
class ExportKind(Enum):
    CONTACT = "CONTACT"
    ACCOUNT = "ACCOUNT"
    TICKET = "TICKET"


@strawberry.input(description="A view to export as CSV.")
class ExportCreateInput:
    kind: ExportKind = strawberry.field(description="Contacts, accounts or tickets.")
    view_id: strawberry.ID = strawberry.field(
        description="The view: a contact/account view id (`standard:CONTACT:ALL`, a saved "
        "CustomerView id) or a ticket view id (`standard:ALL_OPEN`, a saved TicketView id)."
    )


@strawberry.type(description="Result of exportCreate.")
class ExportPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    url: str | None = strawberry.field(
        default=None,
        description="Where a browser downloads the CSV (UTF-8 with BOM, formula cells "
        "neutralised): signed, usable once, until `expiresAt`; no token in it outlives it.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the URL stops working."
    )


@strawberry.type
class ExportMutations:
    @strawberry.mutation(
        description="Export a contact, account or ticket view as CSV: returns a signed, "
        "expiring, single-use download URL. The view is checked again at download time.",
        permission_classes=[IsAuthenticated],
    )
    async def export_create(self, info: strawberry.Info, input: ExportCreateInput) -> ExportPayload:
        return await r.export_create(info, input)
