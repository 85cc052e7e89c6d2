"""The organisation itself: its one row ensured at start and updated by administrators."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.models.enums import Edition
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import Errors
from deskql.services.organisation.common import NAME_MAX, check_rate
from deskql.services.policies import (
    require_admin,
)
from deskql.settings import Settings


async def ensure_organisation(settings: Settings) -> models.Organisation:
    """The deployment's organisation, created from the settings on first start (ORG-1)."""
    org = await models.Organisation.first()
    if org is None:
        org = await models.Organisation.create(
            name=settings.org_name, slug=settings.org_slug, edition=Edition(settings.org_edition)
        )
    return org


# --- organisation ------------------------------------------------------------------------


async def update_organisation(
    actor: Actor,
    *,
    name: str | None = None,
    edition: Edition | None = None,
    default_hourly_rate_cents: int | None = None,
) -> models.Organisation:
    """Rename the organisation, change its edition or default hourly rate (administrators
    only); None: unchanged."""
    require_admin(actor, "change the organisation")
    errors = Errors()
    values: dict[str, Any] = {}
    if default_hourly_rate_cents is not None:
        check_rate(errors, "defaultHourlyRateCents", default_hourly_rate_cents)
        values["default_hourly_rate_cents"] = default_hourly_rate_cents
    if name is not None:
        values["name"] = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    if edition is not None:
        values["edition"] = edition
    errors.raise_if_any()
    org = await models.Organisation.first()
    if org is None:
        raise RuntimeError("no organisation: run `deskql migrate` to create it")
    before = {key: getattr(org, key) for key in values}
    async with uow.transaction():
        if values:
            await models.Organisation.filter(id=org.id).update(**values)
        fresh = await models.Organisation.get(id=org.id)
        changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
        if changed:
            await activity.record(
                actor=actor,
                kind="organisation.updated",
                subject_type="Organisation",
                subject_id=org.id,
                changes=changed,
            )
    return fresh
