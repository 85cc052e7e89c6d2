"""Which address a reply goes from: usable addresses, the default sender, reply senders."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import support_addresses
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.policies import can_see_department
from deskql.settings import Settings


def spf_record(settings: Settings) -> str:
    """The SPF record to publish for a verified From address's domain (EM-6)."""
    return f"v=spf1 mx include:{settings.mail_domain} ~all"


def uses_own_smtp(row: models.FromAddress) -> bool:
    """Whether the address sends through the company's own server (EM-7)."""
    return bool(row.smtp_host)


def is_usable(row: models.FromAddress) -> bool:
    """Verified (or own SMTP) and not disabled."""
    return not row.is_disabled and (row.is_verified or uses_own_smtp(row))


# -- reading ---------------------------------------------------------------------------------


def list_from_addresses(
    actor: Actor, *, department_id: int | None = None
) -> QuerySet[models.FromAddress]:
    """Administrators: every address. Agents: the usable ones of their departments, verified
    or with own SMTP, not disabled (EM-9 hides disabled ones from the reply editor)."""
    qs = models.FromAddress.all()
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    if not actor.is_admin:
        qs = qs.filter(
            Q(is_verified=True) | ~Q(smtp_host=""),
            department_id__in=list(actor.department_ids),
            is_disabled=False,
        )
    return qs.order_by("department_id", "id")


async def default_support_address(settings: Settings, department_id: int) -> models.SupportAddress:
    """The support address that sends when no From address is chosen: the department's own
    support address, else the default one (EM-1)."""
    row = await models.SupportAddress.filter(department_id=department_id).order_by("id").first()
    if row is None:
        row = await support_addresses.ensure_default_address(settings)
    return row


async def default_sender(settings: Settings, department_id: int) -> tuple[str, str]:
    """(email, name) of the department's default support address (EM-1), also for auto-CC."""
    return sender_of(settings, await default_support_address(settings, department_id))


def sender_of(settings: Settings, row: models.SupportAddress) -> tuple[str, str]:
    """(email, name) a support address sends as."""
    return row.email, row.display_name or settings.org_name


@dataclass
class ReplySender:
    """One entry of the reply editor's From choice."""

    email: str
    display_name: str
    from_address: models.FromAddress | None


async def reply_senders(
    actor: Actor, *, settings: Settings, department_id: int
) -> list[ReplySender]:
    """The reply editor's From choice for a department (EM-6, EM-9): its default support
    address unless that is disabled as a sender, then its usable From addresses."""
    if not can_see_department(actor, department_id):
        raise ValidationFailed.one("departmentId", "no such department", ErrorCode.NOT_FOUND)
    choice: list[ReplySender] = []
    default = await default_support_address(settings, department_id)
    if not default.from_disabled:
        choice.append(ReplySender(default.email, default.display_name or settings.org_name, None))
    rows = await models.FromAddress.filter(department_id=department_id).order_by("id")
    choice.extend(ReplySender(r.email, r.display_name, r) for r in rows if is_usable(r))
    return choice


def require_default_sender_enabled(default: models.SupportAddress) -> None:
    """Refuse a reply without a chosen From address when the default one is disabled (EM-9)."""
    if default.from_disabled:
        raise ValidationFailed.one(
            "fromAddressId",
            f"{default.email} is disabled as a From address; choose one of the department's "
            "From addresses (replyFromChoice)",
            ErrorCode.REQUIRED,
        )


async def sender_for(
    actor: Actor, *, from_address_id: int | None, department_id: int, field: str = "fromAddressId"
) -> models.FromAddress | None:
    """The chosen From address, checked: same department, verified, not disabled."""
    if from_address_id is None:
        return None
    row = await models.FromAddress.filter(id=from_address_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such From address", ErrorCode.NOT_FOUND)
    if row.department_id != department_id:  # type: ignore[attr-defined]
        raise ValidationFailed.one(
            field, "this From address belongs to another department", ErrorCode.INVALID
        )
    if row.is_disabled:
        raise ValidationFailed.one(field, "this From address is disabled", ErrorCode.INVALID)
    if not is_usable(row):
        raise ValidationFailed.one(
            field, "this From address is not verified yet", ErrorCode.INVALID
        )
    return row
