"""The help center's own rows: contacts' sign-in, their tokens and emailed links, ticket
ratings and the help center's settings (issue 13, ORG-5's second half, TIC-5)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class RatingValue(StrEnum):
    """How a contact rated the answer to a closed ticket."""

    GOOD = "GOOD"
    OKAY = "OKAY"
    BAD = "BAD"


class ContactLinkKind(StrEnum):
    """What an emailed single-use link does."""

    INVITE = "INVITE"  # an agent invited the contact: they choose a password
    SIGNUP = "SIGNUP"  # self sign-up: the link verifies the email address
    RESET = "RESET"  # a forgotten password: they choose a new one


class ContactLogin(Model):
    """A contact's help-center sign-in: the password and whether they may sign in at all."""

    id = fields.IntField(primary_key=True)
    contact = fields.OneToOneField("models.Contact", related_name="login", on_delete=fields.CASCADE)
    password_hash = fields.CharField(max_length=255, null=True)
    is_active = fields.BooleanField(default=True)
    # The contact sees all tickets of their account (the account's manager).
    is_account_manager = fields.BooleanField(default=False)
    last_login_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contact_login"


class ContactToken(Model):
    """A contact's bearer token (a kind of its own: never valid on the agents' API)."""

    id = fields.IntField(primary_key=True)
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="help_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "contact_token"


class ContactLink(Model):
    """A single-use, expiring link emailed to a contact: an invite, a sign-up or a reset.

    Only the sha256 of its token is stored."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ContactLinkKind, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254)
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="help_links", null=True, on_delete=fields.CASCADE
    )
    # Self sign-up: the name and password chosen before the address was verified.
    name = fields.CharField(max_length=200, default="")
    password_hash = fields.CharField(max_length=255, null=True)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="contact_invites", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "contact_link"


class TicketRating(Model):
    """A contact's rating of a closed ticket (TIC-5): one per ticket, changeable for 7 days."""

    id = fields.IntField(primary_key=True)
    ticket = fields.OneToOneField("models.Ticket", related_name="rating", on_delete=fields.CASCADE)
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="ratings", null=True, on_delete=fields.SET_NULL
    )
    value = fields.CharEnumField(RatingValue, max_length=8)
    comment = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ticket_rating"
        ordering = ["id"]


class HelpCenterSettings(Model):
    """The help center's switches (one row): whether contacts may sign up by themselves."""

    id = fields.IntField(primary_key=True)
    self_signup = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "help_center_settings"
