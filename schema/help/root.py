"""The help center's Query, Mutation and Subscription, and its SDL (help.graphql)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from deskql.models.helpcenter import RatingValue
from deskql.resolvers import help as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.extensions import build_extensions
from deskql.schema.help.types import HelpArticle, HelpTicket, Rating, TicketUpdate, Viewer
from deskql.schema.page_request import add_backward_arguments
from deskql.settings import Settings

_First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]
_After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type(description="What the help center offers before signing in.")
class HelpCenterInfo:
    name: str = strawberry.field(description="The organisation's name.")
    self_signup: bool = strawberry.field(
        description="Whether you can sign up with your email yourself (else ask for an invite)."
    )


@strawberry.input(description="Your email and password.")
class SignInInput:
    email: str = strawberry.field(description="The address you were invited or signed up with.")
    password: str = strawberry.field(description="Your password.")


@strawberry.type(description="Result of a sign-in (or of setting a password from a link).")
class SignInPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    token: str | None = strawberry.field(
        default=None, description="Your bearer token: send 'Authorization: Bearer <token>'."
    )
    viewer: Viewer | None = strawberry.field(default=None, description="You.")
    retry_after_seconds: int | None = strawberry.field(
        default=None,
        description="With a RATE_LIMITED error: seconds to wait before trying again. Sign-in "
        "is throttled per email and per client address; each failure past a few free ones "
        "blocks the next attempt for a time that doubles, up to 15 minutes by default.",
    )


@strawberry.input(description="Sign up with your email (when the help center allows it).")
class SignUpInput:
    email: str = strawberry.field(description="Your email: a link to confirm it is sent there.")
    name: str = strawberry.field(default="", description="Your name.")
    password: str = strawberry.field(description="The password you choose (8 characters or more).")


@strawberry.input(description="The address to send a password-reset link to.")
class PasswordResetRequestInput:
    email: str = strawberry.field(description="The address you sign in with.")


@strawberry.type(description="Result of a request that emails a link.")
class EmailSentPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    message: str | None = strawberry.field(
        default=None, description="What happens next (the same whether or not you have an account)."
    )


@strawberry.input(description="Use an emailed link: an invite, a sign-up or a password reset.")
class LinkUseInput:
    token: str = strawberry.field(description="The token from the link (after #/<kind>/).")
    password: str | None = strawberry.field(
        default=None, description="Your new password (invites and resets; not for sign-up links)."
    )


@strawberry.type(description="Result of signOut.")
class SignOutPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    signed_out: bool = strawberry.field(default=False, description="The token no longer works.")


@strawberry.input(description="A new ticket.")
class TicketCreateInput:
    subject: str = strawberry.field(description="What it is about, in a line.")
    description: str = strawberry.field(description="The details (plain text).")
    attachments: list[Upload] | None = strawberry.field(
        default=None, description="Files, sent as multipart parts (no programs or web pages)."
    )


@strawberry.input(description="A reply to one of your open tickets.")
class TicketReplyInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket's global id.")
    body: str = strawberry.field(description="Your message (plain text).")
    attachments: list[Upload] | None = strawberry.field(
        default=None, description="Files, sent as multipart parts (no programs or web pages)."
    )


@strawberry.input(description="The ticket to close (solved).")
class TicketCloseInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket's global id.")


@strawberry.input(description="Your rating of a closed ticket.")
class TicketRateInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket's global id.")
    value: RatingValue = strawberry.field(description="Good, okay or bad.")
    comment: str | None = strawberry.field(default=None, description="Anything to add.")


@strawberry.type(description="Result of a change to a ticket.")
class TicketPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket: HelpTicket | None = strawberry.field(default=None, description="The ticket now.")


@strawberry.type(description="Result of ticketRate.")
class TicketRatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket: HelpTicket | None = strawberry.field(default=None, description="The ticket.")
    rating: Rating | None = strawberry.field(default=None, description="Your rating now.")


@strawberry.type(description="What you can read in the help center.")
class Query:
    @strawberry.field(description="The help center's name and whether you can sign up.")
    async def help_center(self, info: strawberry.Info) -> HelpCenterInfo:
        return await r.help_center(info)

    @strawberry.field(description="You (needs your token).")
    async def viewer(self, info: strawberry.Info) -> Viewer:
        return await r.viewer(info)

    @strawberry.field(
        description="Your tickets (and your company's, as its manager), newest first."
    )
    async def tickets(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[HelpTicket]:
        return await r.tickets(info, first=first, after=after)

    @strawberry.field(
        description="One of your tickets by global id or number; NOT_FOUND when it is not "
        "yours, exactly as when it does not exist."
    )
    async def ticket(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        number: Annotated[int | None, strawberry.argument(description="Ticket number.")] = None,
    ) -> HelpTicket:
        return await r.ticket(info, id=id, number=number)

    @strawberry.field(
        description="Published knowledge-base articles, newest first: PUBLIC ones for anyone, "
        "CONTACTS ones too when you are signed in."
    )
    async def articles(
        self,
        info: strawberry.Info,
        query: Annotated[
            str | None,
            strawberry.argument(
                description="Words that must all be in the title, summary or body."
            ),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[HelpArticle]:
        return await r.articles(info, query=query, first=first, after=after)

    @strawberry.field(
        description="A published article by permalink (an old permalink finds the article "
        "under its current one); null when there is none you may read."
    )
    async def article(
        self,
        info: strawberry.Info,
        permalink: Annotated[str, strawberry.argument(description="Current or old permalink.")],
    ) -> HelpArticle | None:
        return await r.article(info, permalink=permalink)


@strawberry.type(description="What you can do in the help center.")
class Mutation:
    @strawberry.mutation(description="Sign in with your email and password.")
    async def sign_in(self, info: strawberry.Info, input: SignInInput) -> SignInPayload:
        return await r.sign_in(info, input)

    @strawberry.mutation(description="Revoke the token you are signed in with.")
    async def sign_out(self, info: strawberry.Info) -> SignOutPayload:
        return await r.sign_out(info)

    @strawberry.mutation(description="Sign up: a link to confirm your email is sent to it.")
    async def sign_up(self, info: strawberry.Info, input: SignUpInput) -> EmailSentPayload:
        return await r.sign_up(info, input)

    @strawberry.mutation(description="Email yourself a link to choose a new password.")
    async def password_reset_request(
        self, info: strawberry.Info, input: PasswordResetRequestInput
    ) -> EmailSentPayload:
        return await r.password_reset_request(info, input)

    @strawberry.mutation(
        description="Use an emailed link (single use, expiring): set your password from an "
        "invite or reset, or confirm a sign-up. Signs you in."
    )
    async def link_use(self, info: strawberry.Info, input: LinkUseInput) -> SignInPayload:
        return await r.link_use(info, input)

    @strawberry.mutation(description="Submit a new ticket.")
    async def ticket_create(self, info: strawberry.Info, input: TicketCreateInput) -> TicketPayload:
        return await r.ticket_create(info, input)

    @strawberry.mutation(description="Reply to one of your open tickets.")
    async def ticket_reply(self, info: strawberry.Info, input: TicketReplyInput) -> TicketPayload:
        return await r.ticket_reply(info, input)

    @strawberry.mutation(description="Close one of your tickets (solved).")
    async def ticket_close(self, info: strawberry.Info, input: TicketCloseInput) -> TicketPayload:
        return await r.ticket_close(info, input)

    @strawberry.mutation(
        description="Rate a closed ticket: once, changeable for 7 days after the first rating."
    )
    async def ticket_rate(self, info: strawberry.Info, input: TicketRateInput) -> TicketRatePayload:
        return await r.ticket_rate(info, input)


@strawberry.type(description="Live changes of your tickets.")
class Subscription:
    @strawberry.subscription(
        description="Public changes of one of your tickets: new public messages, its status "
        "and rating. Ends with an error when the ticket is no longer yours to see."
    )
    async def ticket_updates(
        self,
        info: strawberry.Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's id.")],
    ) -> AsyncGenerator[TicketUpdate, None]:
        async for event in r.ticket_updates(info, ticket_id=ticket_id):
            yield event


def build_help_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The help center's schema, with the same protective extensions as the agents'."""
    settings = settings or Settings()
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=build_extensions(settings),
    )
    mutation = schema._schema.mutation_type
    for field in mutation.fields.values() if mutation else []:
        arg = field.args.get("input")
        if arg is not None and not arg.description:
            of_type = getattr(arg.type, "of_type", arg.type)
            arg.description = getattr(of_type, "description", None) or "The mutation's input."
    # `last`/`before` on every connection field (issue 18).
    add_backward_arguments(schema._schema)
    return schema


def help_schema_sdl() -> str:
    """The help center's schema in SDL, as committed in help.graphql."""
    return build_help_schema().as_str() + "\n"
