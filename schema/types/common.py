"""Shared by the object types: lazy types of other modules, paging, enums, Node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from deskql.models.enums import (
    Channel,
    Edition,
    Role,
    ThreadDirection,
    TicketPriority,
    TicketStatus,
    TokenKind,
)
from deskql.schema.connections import COMPILING, Connection
from deskql.schema.loaded_pages import list_page, with_nodes
from deskql.schema.page_request import PageRequest

if TYPE_CHECKING:
    from deskql.schema.activities.types import Call, Event, PlannedActivity, Task
    from deskql.schema.crm import CrmRecord
    from deskql.schema.customer_overview import CustomerOverview
    from deskql.schema.helpcenter import HelpCenterAccess, TicketRating
    from deskql.schema.realtime import Following, Notification
    from deskql.schema.time_tracking import TimeEntry, Timer, TimeSummary


# Realtime fields (issue 3): types defined in schema/realtime.py, resolved by resolvers/realtime.py.
_Notification = Annotated["Notification", strawberry.lazy("deskql.schema.realtime")]


_Following = Annotated["Following", strawberry.lazy("deskql.schema.realtime")]


# Time tracking (issue 5): types in schema/time_tracking.py, resolved by resolvers/time_tracking.py.
_Timer = Annotated["Timer", strawberry.lazy("deskql.schema.time_tracking")]


_TimeEntry = Annotated["TimeEntry", strawberry.lazy("deskql.schema.time_tracking")]


_TimeSummary = Annotated["TimeSummary", strawberry.lazy("deskql.schema.time_tracking")]


# Activities (issue 16): types in schema/activities/, resolved by resolvers/activities.py.
_Task = Annotated["Task", strawberry.lazy("deskql.schema.activities.types")]


_Event = Annotated["Event", strawberry.lazy("deskql.schema.activities.types")]


_Call = Annotated["Call", strawberry.lazy("deskql.schema.activities.types")]


_Planned = Annotated["PlannedActivity", strawberry.lazy("deskql.schema.activities.types")]


# Customers (issue 15): types in schema/customer_overview.py and schema/crm.py.
_CustomerOverview = Annotated[
    "CustomerOverview", strawberry.lazy("deskql.schema.customer_overview")
]


_CrmRecord = Annotated["CrmRecord", strawberry.lazy("deskql.schema.crm")]


# The help center (issue 13): types in schema/helpcenter.py, resolved by resolvers/helpcenter_admin.
_TicketRating = Annotated["TicketRating", strawberry.lazy("deskql.schema.helpcenter")]


_HelpCenterAccess = Annotated["HelpCenterAccess", strawberry.lazy("deskql.schema.helpcenter")]


_First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]


_After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


async def loaded(info: strawberry.Info, loader: Any, key: int) -> list[Any]:
    """What a request's loader gives for `key`, or, when the compiled read path reads that list
    itself (COMPILING), its rows of the selected columns."""
    compiled = COMPILING.get()
    if compiled is not None:
        rows = await compiled.children(loader, key)
        if rows is not None:
            return rows
    return await loader.load(key)


def _page(info: strawberry.Info, items: list[Any], first: int | None, after: str | None) -> Any:
    """A page of a loaded list sorted by id, by keyset (schema/loaded_pages.py)."""
    return list_page(items, PageRequest.of(info, first, after))


@dataclass
class _IdPage:
    """A page chosen among ids before their objects are loaded (only the page's are)."""

    items: list[int]
    whole: Connection[Any]

    def page(self, objects: list[Any]) -> Any:
        """The connection with these objects (one per id, None: gone) as its nodes."""
        return with_nodes(self.whole, objects)


def _slice_ids(
    info: strawberry.Info, ids: list[int], first: int | None, after: str | None
) -> _IdPage:
    whole = _page(info, ids, first, after)
    return _IdPage([e.node for e in whole.edges], whole)


strawberry.enum(Edition, description="Organisation edition; it sets limits (EM-3, EM-8).")


strawberry.enum(Role, description="An agent's role: administrators see and manage everything.")


strawberry.enum(TicketStatus, description="Lifecycle state of a ticket.")


strawberry.enum(TicketPriority, description="Ticket priority, from LOW to URGENT.")


strawberry.enum(Channel, description="How a ticket reached the help desk.")


strawberry.enum(ThreadDirection, description="Whether a message came in or went out.")


strawberry.enum(TokenKind, description="SESSION tokens come from login; API tokens are issued.")


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global, opaque id of the object.")
