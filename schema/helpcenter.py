"""The agents' side of the help center: invites, contacts' help-center access, the help
center's settings and ticket ratings (TIC-5) on tickets and contacts' timelines."""

from __future__ import annotations

from datetime import datetime

import strawberry

from deskql import models
from deskql.models.helpcenter import RatingValue
from deskql.resolvers import helpcenter_admin as r
from deskql.schema import help as _help  # noqa: F401  (registers RatingValue)
from deskql.schema.errors import MutationError
from deskql.schema.ids import to_global_id
from deskql.schema.permissions import IsAdmin, IsAuthenticated
from deskql.schema.types import Contact, Node, Ticket


@strawberry.type(description="A contact's rating of a closed ticket (TIC-5).")
class TicketRating(Node):
    value: RatingValue = strawberry.field(description="Good, okay or bad.")
    comment: str = strawberry.field(description="What the contact added, if anything.")
    created_at: datetime = strawberry.field(description="When the contact first rated.")
    updated_at: datetime = strawberry.field(description="When the rating last changed.")
    ticket_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.TicketRating) -> TicketRating:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("TicketRating", row.id)),
            value=row.value,
            comment=row.comment,
            created_at=row.created_at,
            updated_at=row.updated_at,
            ticket_pk=row.ticket_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The rated ticket.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        return await info.context.loaders.ticket.load(self.ticket_pk)


@strawberry.type(description="A contact's access to the help center.")
class HelpCenterAccess:
    has_password: bool = strawberry.field(description="The contact has chosen a password.")
    is_active: bool = strawberry.field(description="False: deactivated, their tokens stop.")
    is_account_manager: bool = strawberry.field(
        description="The contact sees every ticket of their account in the help center."
    )
    last_sign_in_at: datetime | None = strawberry.field(description="Their last sign-in.")
    invited_at: datetime | None = strawberry.field(description="When the last invite was sent.")


@strawberry.type(description="The help center's settings.")
class HelpCenterSettings:
    self_signup: bool = strawberry.field(
        description="Contacts may sign up themselves with their email (verified by a link)."
    )


@strawberry.input(description="The contact to invite to the help center.")
class ContactPortalInviteInput:
    contact_id: strawberry.ID = strawberry.field(description="The contact's global id.")


@strawberry.type(description="Result of contactPortalInvite.")
class ContactPortalInvitePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    contact: Contact | None = strawberry.field(
        default=None, description="The invited contact; the email is queued in the outbox."
    )


@strawberry.input(description="Changes to a contact's help-center access.")
class ContactHelpCenterAccessUpdateInput:
    contact_id: strawberry.ID = strawberry.field(description="The contact's global id.")
    is_active: bool | None = strawberry.field(
        default=None, description="False deactivates (their tokens stop at once)."
    )
    is_account_manager: bool | None = strawberry.field(
        default=None, description="True: they see all their account's tickets."
    )


@strawberry.type(description="Result of contactHelpCenterAccessUpdate.")
class ContactHelpCenterAccessUpdatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    access: HelpCenterAccess | None = strawberry.field(
        default=None, description="The contact's access now."
    )


@strawberry.input(description="The help center's settings to change.")
class HelpCenterSettingsUpdateInput:
    self_signup: bool = strawberry.field(description="Let contacts sign up themselves.")


@strawberry.type(description="Result of helpCenterSettingsUpdate.")
class HelpCenterSettingsUpdatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    settings: HelpCenterSettings | None = strawberry.field(
        default=None, description="The settings now."
    )


@strawberry.type
class HelpCenterQueries:
    @strawberry.field(
        description="The help center's settings (administrators).", permission_classes=[IsAdmin]
    )
    async def help_center_settings(self, info: strawberry.Info) -> HelpCenterSettings:
        return await r.settings(info)


@strawberry.type
class HelpCenterMutations:
    @strawberry.mutation(
        description="Email a contact a single-use link (valid 7 days) to choose a help-center "
        "password; a newer invite ends the older link.",
        permission_classes=[IsAuthenticated],
    )
    async def contact_portal_invite(
        self, info: strawberry.Info, input: ContactPortalInviteInput
    ) -> ContactPortalInvitePayload:
        return await r.invite(info, input)

    @strawberry.mutation(
        description="Deactivate or reactivate a contact's help-center access, or make them "
        "their account's manager.",
        permission_classes=[IsAuthenticated],
    )
    async def contact_help_center_access_update(
        self, info: strawberry.Info, input: ContactHelpCenterAccessUpdateInput
    ) -> ContactHelpCenterAccessUpdatePayload:
        return await r.access_update(info, input)

    @strawberry.mutation(
        description="Change the help center's settings (administrators).",
        permission_classes=[IsAdmin],
    )
    async def help_center_settings_update(
        self, info: strawberry.Info, input: HelpCenterSettingsUpdateInput
    ) -> HelpCenterSettingsUpdatePayload:
        return await r.settings_update(info, input)
