"""Ticket queries and mutations: tickets, tags and comments (TIC-1, TIC-3, TIC-6)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.resolvers import tickets as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Comment, Ticket


@strawberry.enum(description="Fields tickets can be sorted by.")
class TicketSortField(Enum):
    NUMBER = "NUMBER"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    DUE_AT = "DUE_AT"
    PRIORITY = "PRIORITY"
    STATUS = "STATUS"
    SUBJECT = "SUBJECT"


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="How to sort tickets; ties are broken by id in the same direction.")
class TicketSort:
    field: TicketSortField = strawberry.field(
        default=TicketSortField.CREATED_AT, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.DESC, description="ASC or DESC."
    )


@strawberry.input(description="Ticket criteria; every criterion given must hold.")
class TicketFilter:
    status: list[TicketStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    priority: list[TicketPriority] | None = strawberry.field(
        default=None, description="Any of these priorities."
    )
    channel: list[Channel] | None = strawberry.field(
        default=None, description="Any of these channels."
    )
    department_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="In any of these departments."
    )
    assignee_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Assigned to any of these agents or teams."
    )
    unassigned: bool | None = strawberry.field(
        default=None, description="True: assigned to nobody; false: assigned to someone."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this contact."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this account."
    )
    product_id: strawberry.ID | None = strawberry.field(
        default=None, description="About this product."
    )
    tag: str | None = strawberry.field(default=None, description="Carrying this tag.")
    overdue: bool | None = strawberry.field(
        default=None, description="True: not closed and past the due date."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this time."
    )
    text: str | None = strawberry.field(
        default=None, description="Text contained in the subject (case-insensitive)."
    )
    is_spam: bool | None = strawberry.field(
        default=False, description="Spam tickets are left out unless true; null: both."
    )


@strawberry.input(
    description="A new ticket. Give contactId, or contactEmail to find or create one."
)
class TicketCreateInput:
    subject: str | None = strawberry.field(
        default=None,
        description="Subject line, 1 to 255 characters; required unless the ticket template "
        "gives one.",
    )
    department_id: strawberry.ID = strawberry.field(description="Department it belongs to.")
    description: str | None = strawberry.field(
        default=None,
        description='Description of the request; default: the ticket template\'s, else "".',
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=None, description="Existing contact."
    )
    contact_email: str | None = strawberry.field(
        default=None, description="Email of the requester; a new contact is created if unknown."
    )
    contact_name: str | None = strawberry.field(
        default=None, description="Name for a contact created from contactEmail."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Account; defaults to the contact's."
    )
    product_id: strawberry.ID | None = strawberry.field(default=None, description="Product.")
    status: TicketStatus = strawberry.field(default=TicketStatus.OPEN, description="Status.")
    priority: TicketPriority | None = strawberry.field(
        default=None, description="Priority; default: the ticket template's, else MEDIUM."
    )
    channel: Channel = strawberry.field(default=Channel.WEB, description="Channel.")
    due_at: datetime | None = strawberry.field(default=None, description="Due date.")
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="An agent or team of the department."
    )
    tags: list[str] | None = strawberry.field(default=None, description="Up to 10 tags.")
    ticket_template_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A ticket template of the department (TIC-10, `ticketTemplates`): it "
        "prefills the subject, description and priority you leave out.",
    )


@strawberry.input(
    description="Changes to a ticket. Only the fields you set change; null clears optional ones."
)
class TicketUpdateInput:
    id: strawberry.ID = strawberry.field(description="The ticket.")
    version: int = strawberry.field(
        description="The version you last read; a newer one on the server is a CONFLICT."
    )
    subject: str | None = strawberry.field(default=strawberry.UNSET, description="Subject.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Description.")
    status: TicketStatus | None = strawberry.field(default=strawberry.UNSET, description="Status.")
    priority: TicketPriority | None = strawberry.field(
        default=strawberry.UNSET, description="Priority."
    )
    channel: Channel | None = strawberry.field(default=strawberry.UNSET, description="Channel.")
    department_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Move to this department."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Contact."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Account; null clears it."
    )
    product_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Product; null clears it."
    )
    assignee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Agent or team; null unassigns."
    )
    due_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Due date; null clears it."
    )


@strawberry.input(description="Tags to add to a ticket.")
class TicketTagsAddInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    tags: list[str] = strawberry.field(
        description="Tags: a-z and 0-9 only, at most 50 characters; upper case is lowered."
    )


@strawberry.input(description="A tag to remove from a ticket.")
class TicketTagRemoveInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    tag: str = strawberry.field(description="The tag name.")


@strawberry.input(description="A comment on a ticket.")
class CommentAddInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    body: str = strawberry.field(
        description="The comment text. Mention an agent with `@[Display name](<Agent id>)`, "
        "e.g. `@[Alice Smith](QWdlbnQ6Mw)`: the agent is notified at once (COL-1) if they "
        "may see the ticket; the display text is free, the global id decides."
    )
    is_public: bool = strawberry.field(
        default=False, description="True: the contact sees it too. Default private."
    )


@strawberry.input(description="The ticket to delete.")
class TicketDeleteInput:
    id: strawberry.ID = strawberry.field(description="The ticket.")


@strawberry.type(description="Result of a mutation that changes a ticket.")
class TicketPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket: Ticket | None = strawberry.field(
        default=None, description="The ticket as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of commentAdd.")
class CommentAddPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    comment: Comment | None = strawberry.field(default=None, description="The new comment.")
    ticket: Ticket | None = strawberry.field(default=None, description="The ticket commented on.")


@strawberry.type(description="Top tag with how many tickets carry it.")
class TagCount:
    name: str = strawberry.field(description="Tag name.")
    count: int = strawberry.field(description="Tickets you may see that carry it.")


@strawberry.type
class TicketQueries:
    @strawberry.field(
        description="One ticket by global id or by number; null if absent or not yours to see.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        number: Annotated[int | None, strawberry.argument(description="Ticket number.")] = None,
    ) -> Ticket | None:
        return await r.ticket(info, id=id, number=number)

    @strawberry.field(
        description="Tickets you may see, filtered and sorted, a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def tickets(
        self,
        info: strawberry.Info,
        filter: Annotated[TicketFilter | None, strawberry.argument(description="Criteria.")] = None,
        sort: Annotated[TicketSort | None, strawberry.argument(description="Order.")] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
        view_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="A ticket view (see `ticketViews`): its criteria apply, `filter` "
                "narrows them further (the view decides whether spam shows) and `sort`, if "
                "given, replaces the view's. NOT_FOUND for a view you may not use."
            ),
        ] = None,
    ) -> Connection[Ticket]:
        return await r.tickets(
            info, filter=filter, sort=sort, first=first, after=after, view_id=view_id
        )


@strawberry.type
class TicketMutations:
    @strawberry.mutation(description="Create a ticket.", permission_classes=[IsAuthenticated])
    async def ticket_create(self, info: strawberry.Info, input: TicketCreateInput) -> TicketPayload:
        return await r.ticket_create(info, input)

    @strawberry.mutation(
        description="Change a ticket if it is still at the version you read (else CONFLICT).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_update(self, info: strawberry.Info, input: TicketUpdateInput) -> TicketPayload:
        return await r.ticket_update(info, input)

    @strawberry.mutation(
        description="Delete a ticket with its threads and comments; its history is kept.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_delete(self, info: strawberry.Info, input: TicketDeleteInput) -> TicketPayload:
        return await r.ticket_delete(info, input)

    @strawberry.mutation(
        description="Add tags to a ticket (at most 10 on a ticket; all or none are added).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_tags_add(
        self, info: strawberry.Info, input: TicketTagsAddInput
    ) -> TicketPayload:
        return await r.ticket_tags_add(info, input)

    @strawberry.mutation(
        description="Remove a tag from a ticket. Tags cannot be renamed.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_tag_remove(
        self, info: strawberry.Info, input: TicketTagRemoveInput
    ) -> TicketPayload:
        return await r.ticket_tag_remove(info, input)

    @strawberry.mutation(
        description="Add a public or private comment to a ticket.",
        permission_classes=[IsAuthenticated],
    )
    async def comment_add(self, info: strawberry.Info, input: CommentAddInput) -> CommentAddPayload:
        return await r.comment_add(info, input)
