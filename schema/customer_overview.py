"""The overview of a contact or an account (CUS-4)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from deskql.models.enums import TicketStatus


@strawberry.type(description="How many of the record's tickets have one status.")
class TicketStatusCount:
    status: TicketStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="Tickets with it.")


@strawberry.type(
    description="Ticket counts of a contact or an account (CUS-4), over the tickets you may "
    "see, spam left out."
)
class CustomerOverview:
    total_tickets: int = strawberry.field(description="Tickets received in all.")
    tickets_by_status: list[TicketStatusCount] = strawberry.field(
        description="Tickets per status (statuses without tickets are left out)."
    )
    open_tickets: int = strawberry.field(
        description="Tickets awaiting an agent's reply: not closed, not on hold, and the "
        "latest message came from the customer (or there is none yet)."
    )
    overdue_tickets: int = strawberry.field(description="Tickets not closed by their due date.")
    last_contacted_at: datetime | None = strawberry.field(
        description="The latest message either way in the record's tickets; null: none."
    )
    average_rating: float | None = strawberry.field(
        description="The mean of the customers' ratings of those tickets (TIC-5) on a 1-3 "
        "scale: BAD = 1, OKAY = 2, GOOD = 3, rounded to 2 decimals; null: no rating yet."
    )
    rating_count: int = strawberry.field(description="Rated tickets among them.")
