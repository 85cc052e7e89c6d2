"""What a merge merges: contacts or accounts, the fields a merge may take from any record,
the limit, and who may merge them (ORG-5 through their tickets)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.models import Model

from deskql import models
from deskql.services.auth import Actor

# The most records merged into one survivor in a single merge (the survivor not counted).
MERGE_MAX = 10

CONTACT_CHOICES = {
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
    "EMAIL": "email",
    "SECONDARY_EMAIL": "secondary_email",
    "PHONE": "phone",
    "MOBILE": "mobile",
    "DESCRIPTION": "description",
    "ACCOUNT": "account_id",
    "OWNER": "owner_id",
}
ACCOUNT_CHOICES = {
    "NAME": "name",
    "EMAIL": "email",
    "PHONE": "phone",
    "WEBSITE": "website",
    "DESCRIPTION": "description",
    "OWNER": "owner_id",
}


@dataclass(frozen=True)
class Kind:
    model: type[Model]
    name: str  # "Contact" / "Account"
    key: str  # "contact_id" / "account_id"
    choices: dict[str, str]


CONTACT = Kind(models.Contact, "Contact", "contact_id", CONTACT_CHOICES)
ACCOUNT = Kind(models.Account, "Account", "account_id", ACCOUNT_CHOICES)


async def hidden_records(actor: Actor, kind: Kind, ids: list[int]) -> set[int]:
    """The records among `ids` with a ticket in a department the actor is not in."""
    if actor.is_admin:
        return set()
    rows = (
        await models.Ticket.filter(**{f"{kind.key}__in": ids})
        .exclude(department_id__in=list(actor.department_ids))
        .order_by(kind.key)
        .distinct()
        .values_list(kind.key, flat=True)
    )
    return set(rows)
