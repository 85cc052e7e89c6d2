"""What a ticket's conversation holds: attachments, threads, comments, activity."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from deskql import models
from deskql.schema.ids import public_changes, to_global_id
from deskql.schema.types.common import (
    Channel,
    Node,
    ThreadDirection,
    TicketStatus,
)
from deskql.services.sanitize import sanitize_html

if TYPE_CHECKING:
    from deskql.schema.outbound import OutgoingEmail


@strawberry.type(description="A file attached to a ticket; its body is stored by sha256.")
class Attachment(Node):
    filename: str = strawberry.field(description="File name as uploaded or received.")
    content_type: str = strawberry.field(description="MIME type.")
    size: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the content, hex.")
    url: str = strawberry.field(description="Path to download it (send your token).")
    created_at: datetime = strawberry.field(description="When it was stored.")
    pk: strawberry.Private[int] = 0

    @classmethod
    def from_row(cls, row: models.Attachment) -> Attachment:
        """Build from a database row."""
        gid = to_global_id("Attachment", row.id)
        return cls(
            id=strawberry.ID(gid),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            url=f"/attachments/{gid}",
            created_at=row.created_at,
            pk=row.id,
        )


@strawberry.type(description="One message of a ticket's conversation (TIC-3).")
class Thread(Node):
    direction: ThreadDirection = strawberry.field(description="INCOMING or OUTGOING.")
    channel: Channel = strawberry.field(description="Channel the message used.")
    is_public: bool = strawberry.field(description="False: hidden from the contact.")
    from_address: str = strawberry.field(description="Sender.")
    to: str = strawberry.field(description="Recipients (To).")
    cc: str = strawberry.field(description="Recipients (Cc).")
    subject: str = strawberry.field(description="Subject.")
    body_text: str = strawberry.field(description="Plain-text body.")
    message_id: str | None = strawberry.field(description="RFC 5322 Message-ID.")
    created_at: datetime = strawberry.field(description="When it was received or sent.")
    row_body_html: strawberry.Private[str] = ""
    pk: strawberry.Private[int] = 0

    @strawberry.field(
        description="HTML body, when the message had one, sanitized (nh3: no scripts, event "
        "handlers, styles or non-http(s)/mailto links) so it is safe to show; the raw source "
        "is in `originalContent`."
    )
    def body_html(self) -> str:
        return sanitize_html(self.row_body_html) if self.row_body_html else ""

    @classmethod
    def from_row(cls, row: models.Thread) -> Thread:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Thread", row.id)),
            direction=row.direction,
            channel=row.channel,
            is_public=row.is_public,
            from_address=row.from_address,
            to=row.to_addresses,
            cc=row.cc_addresses,
            subject=row.subject,
            body_text=row.body_text,
            row_body_html=row.body_html,
            message_id=row.message_id,
            created_at=row.created_at,
            pk=row.id,
        )

    @strawberry.field(
        description="The raw source of the email this thread came from, exactly as received "
        "(TIC-12); null for threads that did not arrive by email."
    )
    async def original_content(self, info: strawberry.Info) -> str | None:
        from deskql.resolvers import email

        return await email.thread_original_content(info, self.id)

    @strawberry.field(
        description="Delivery of the email an OUTGOING thread sent: status, attempts, last "
        "error (EM-6..EM-10); null for other threads."
    )
    async def delivery_status(
        self, info: strawberry.Info
    ) -> Annotated[OutgoingEmail, strawberry.lazy("deskql.schema.outbound")] | None:
        if self.direction is not ThreadDirection.OUTGOING:
            return None
        from deskql.resolvers import outbound

        return await outbound.outgoing_email(info, thread_id=self.id)


@strawberry.type(
    description="An agent's note on a record (COL-1): a ticket (public or private, TIC-3), an "
    "article, or another record that takes comments. Mentions in it use "
    "`@[Display name](<Agent global id>)`."
)
class Comment(Node):
    body: str = strawberry.field(description="The comment text (Markdown, as written).")
    is_public: bool = strawberry.field(
        description="True: the contact sees it too (ticket comments); false for other records."
    )
    created_at: datetime = strawberry.field(description="When it was written.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    subject_type: str = strawberry.field(
        description="Type of the record it is on: `Ticket`, `Article`, ..."
    )
    author_pk: strawberry.Private[int | None]
    ticket_pk: strawberry.Private[int | None]
    subject_pk: strawberry.Private[int]
    pk: strawberry.Private[int] = 0

    @classmethod
    def from_row(cls, row: models.Comment) -> Comment:
        """Build from a database row."""
        ticket_pk = row.ticket_id  # type: ignore[attr-defined]
        return cls(
            id=strawberry.ID(to_global_id("Comment", row.id)),
            body=row.body,
            is_public=row.is_public,
            created_at=row.created_at,
            updated_at=row.updated_at,
            subject_type=row.subject_type,
            author_pk=row.author_id,  # type: ignore[attr-defined]
            ticket_pk=ticket_pk,
            subject_pk=row.subject_id if row.subject_id is not None else ticket_pk,
            pk=row.id,
        )

    @strawberry.field(description="Global id of the record it is on (fetch it with `node`).")
    def subject_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(self.subject_type, self.subject_pk))

    @strawberry.field(description="The agent who wrote it (null once the agent is deleted).")
    async def author(self, info: strawberry.Info) -> Agent | None:
        if self.author_pk is None:
            return None
        return await info.context.loaders.agent.load(self.author_pk)

    @strawberry.field(description="The ticket the comment is on; null on other records.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        if self.ticket_pk is None:
            return None
        return await info.context.loaders.ticket.load(self.ticket_pk)


ConversationItem = Annotated[
    Thread | Comment,
    strawberry.union(
        "ConversationItem",
        description="A message (Thread) or a comment of a ticket's conversation; both carry "
        "`isPublic` (false: hidden from the contact).",
    ),
]


@strawberry.type(description="A state change: who did what, when, with old and new values.")
class Activity(Node):
    kind: str = strawberry.field(description="What happened, e.g. `ticket.updated`.")
    subject_type: str = strawberry.field(description="Type of the record it concerns.")
    changes: JSON = strawberry.field(
        description='Changed fields as {"field": {"old": ..., "new": ...}}, or a summary; '
        "ids in it (e.g. `department_id`, `assignee_agent_id`, `threadId`) are global ids."
    )
    created_at: datetime = strawberry.field(description="When it happened.")
    actor_pk: strawberry.Private[int | None]
    subject_pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int | None] = None
    pk: strawberry.Private[int] = 0

    @classmethod
    def from_row(cls, row: models.Activity) -> Activity:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Activity", row.id)),
            kind=row.kind,
            subject_type=row.subject_type,
            changes=public_changes(row.changes),
            created_at=row.created_at,
            actor_pk=row.actor_id,  # type: ignore[attr-defined]
            subject_pk=row.subject_id,
            ticket_pk=row.ticket_id,
            pk=row.id,
        )

    @strawberry.field(
        description="The status of the activity's ticket right after it (the customer's "
        "history, CUS-4); null when it concerns no ticket."
    )
    async def ticket_status(self, info: strawberry.Info) -> TicketStatus | None:
        if self.ticket_pk is None:
            return None
        from deskql.resolvers import customer_overview

        return await customer_overview.ticket_status(
            info, activity_pk=self.pk, ticket_pk=self.ticket_pk
        )

    @strawberry.field(description="Global id of the record it concerns.")
    def subject_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(self.subject_type, self.subject_pk))

    @strawberry.field(description="The agent who acted; null for the system or a customer.")
    async def actor(self, info: strawberry.Info) -> Agent | None:
        if self.actor_pk is None:
            return None
        return await info.context.loaders.agent.load(self.actor_pk)


# ruff: noqa: E402
# The types this module names only in annotations and function bodies (resolved when the schema
# is built or a field is resolved), imported last so that schema.types' modules can name one
# another.
from deskql.schema.types.org import Agent
from deskql.schema.types.tickets import Ticket
