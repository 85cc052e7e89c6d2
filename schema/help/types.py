"""The help center's object types: a contact's view of tickets, nothing private in them."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated

import strawberry

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.models.helpcenter import RatingValue
from deskql.schema.ids import to_global_id
from deskql.services.helpcenter import messages
from deskql.services.helpcenter import tickets as svc


@strawberry.enum(description="The state of a ticket, as the customer sees it.")
class HelpTicketStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="Being worked on.")
    ON_HOLD = strawberry.enum_value("ON_HOLD", description="Waiting (for you or someone else).")
    ESCALATED = strawberry.enum_value("ESCALATED", description="Being worked on with priority.")
    CLOSED = strawberry.enum_value("CLOSED", description="Solved and closed.")


@strawberry.enum(description="What changed on a ticket (ticketUpdates).")
class TicketUpdateKind(Enum):
    MESSAGE = strawberry.enum_value("MESSAGE", description="A new public message.")
    STATUS = strawberry.enum_value("STATUS", description="The status changed.")
    RATING = strawberry.enum_value("RATING", description="The rating was given or changed.")


@strawberry.type(description="You: the signed-in contact.")
class Viewer:
    id: strawberry.ID = strawberry.field(description="Your global id.")
    name: str = strawberry.field(description="Your full name.")
    first_name: str = strawberry.field(description="Your first name.")
    last_name: str = strawberry.field(description="Your last name.")
    email: str | None = strawberry.field(description="The address you sign in with.")
    account_name: str | None = strawberry.field(description="Your company's name, if any.")
    is_account_manager: bool = strawberry.field(
        description="You see every ticket of your company, not only your own."
    )


@strawberry.type(description="A file attached to a public message.")
class HelpAttachment:
    id: strawberry.ID = strawberry.field(description="Global id of the attachment.")
    filename: str = strawberry.field(description="The file's name.")
    content_type: str = strawberry.field(description="Its MIME type.")
    size: int = strawberry.field(description="Its size in bytes.")
    download_path: str = strawberry.field(
        description="GET this path with your bearer token to download the file."
    )

    @classmethod
    def from_row(cls, row: models.Attachment) -> HelpAttachment:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Attachment", row.id)),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            download_path=f"/help/attachments/{to_global_id('Attachment', row.id)}",
        )


@strawberry.type(description="A public message of a ticket's conversation.")
class Message:
    id: strawberry.ID = strawberry.field(description="Global id of the message.")
    body: str = strawberry.field(description="The text of the message (plain text).")
    created_at: datetime = strawberry.field(description="When it was written.")
    from_customer: bool = strawberry.field(
        description="True for messages from the customer side; false for the help desk's."
    )
    author_name: str = strawberry.field(description="Who wrote it (a name, never an address).")
    attachments: list[HelpAttachment] = strawberry.field(description="Its files.")

    @classmethod
    def build(cls, m: messages.Message) -> Message:
        """Build from the service's message."""
        return cls(
            id=strawberry.ID(to_global_id("Thread" if m.kind == "THREAD" else "Comment", m.pk)),
            body=m.body,
            created_at=m.created_at,
            from_customer=m.from_customer,
            author_name=m.author_name,
            attachments=[HelpAttachment.from_row(a) for a in m.attachments],
        )


@strawberry.type(description="Your rating of a closed ticket.")
class Rating:
    value: RatingValue = strawberry.field(description="Good, okay or bad.")
    comment: str = strawberry.field(description="What you added, if anything.")
    created_at: datetime = strawberry.field(description="When you first rated.")
    updated_at: datetime = strawberry.field(description="When you last changed it.")
    changeable_until: datetime = strawberry.field(
        description="The rating can be changed until then (7 days after the first rating)."
    )

    @classmethod
    def from_row(cls, row: models.TicketRating) -> Rating:
        """Build from a database row."""
        return cls(
            value=row.value,
            comment=row.comment,
            created_at=row.created_at,
            updated_at=row.updated_at,
            changeable_until=row.created_at + timedelta(days=7),
        )


@strawberry.type(description="A ticket of yours (or of your company, as its manager).")
class HelpTicket:
    id: strawberry.ID = strawberry.field(description="Global id of the ticket.")
    number: int = strawberry.field(description="The ticket's number, as in emails: [#number].")
    subject: str = strawberry.field(description="Subject line.")
    status: HelpTicketStatus = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(description="When it was submitted.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    closed_at: datetime | None = strawberry.field(description="When it was closed.")
    is_mine: bool = strawberry.field(description="You raised it (else a colleague did).")
    reply_refusal: str | None = strawberry.field(
        description="Why a reply is not taken now (closed or merged); null: you can reply."
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Ticket, contact_id: int) -> HelpTicket:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Ticket", row.id)),
            number=row.number,
            subject=row.subject,
            status=HelpTicketStatus(row.status.value),
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
            is_mine=row.contact_id == contact_id,  # type: ignore[attr-defined]
            reply_refusal=svc.reply_refusal(row),
            pk=row.id,
        )

    @strawberry.field(description="True when the ticket is closed and may be rated now.")
    def can_rate(self) -> bool:
        return self.status is HelpTicketStatus.CLOSED

    @strawberry.field(description="Your rating, once given.")
    async def rating(self, info: strawberry.Info) -> Rating | None:
        row = await info.context.ratings.load(self.pk)
        return Rating.from_row(row) if row is not None else None

    @strawberry.field(
        description="The public conversation, oldest first: your messages and the help desk's "
        "public replies and comments (at most `last` of the newest, 1 to 500)."
    )
    async def messages(
        self,
        info: strawberry.Info,
        last: Annotated[int, strawberry.argument(description="How many of the newest.")] = 200,
    ) -> list[Message]:
        if not 1 <= last <= 500:
            from deskql.services.errors import ClientError

            raise ClientError("last must be between 1 and 500")
        found = await info.context.messages.load(self.pk)
        return [Message.build(m) for m in found[-last:]]


@strawberry.type(description="A live change of one of your tickets.")
class TicketUpdate:
    kind: TicketUpdateKind = strawberry.field(description="What changed.")
    ticket: HelpTicket = strawberry.field(description="The ticket after the change.")
    message: Message | None = strawberry.field(description="The new message (kind MESSAGE).")


def status_of(value: TicketStatus) -> HelpTicketStatus:
    """The help center's status for a ticket status."""
    return HelpTicketStatus(value.value)


@strawberry.type(description="A published knowledge-base article.")
class HelpArticle:
    id: strawberry.ID = strawberry.field(description="Global id of the article.")
    title: str = strawberry.field(description="Title.")
    summary: str = strawberry.field(description="Short summary.")
    permalink: str = strawberry.field(description="Its current permalink.")
    published_at: datetime | None = strawberry.field(description="When it was published.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    row: strawberry.Private[models.Article]

    @classmethod
    def from_row(cls, row: models.Article) -> HelpArticle:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Article", row.id)),
            title=row.title,
            summary=row.summary,
            permalink=row.permalink,
            published_at=row.published_at,
            updated_at=row.updated_at,
            row=row,
        )

    @strawberry.field(
        description="The body as HTML, rendered from Markdown and sanitized (no scripts, event "
        "handlers or styles): safe to insert into a page."
    )
    def body_html(self) -> str:
        from deskql.services.kb import public

        return public.body_html(self.row)
