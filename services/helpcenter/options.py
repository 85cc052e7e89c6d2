"""The help center's switches (one row): self sign-up, off by default."""

from __future__ import annotations

from deskql import models
from deskql.services import activity, uow
from deskql.services.auth import Actor
from deskql.services.policies import require_admin


async def get() -> models.HelpCenterSettings:
    """The help center's settings (the row is made on first use)."""
    row = await models.HelpCenterSettings.first()
    if row is None:
        row = await models.HelpCenterSettings.create(self_signup=False)
    return row


async def update(actor: Actor, *, self_signup: bool) -> models.HelpCenterSettings:
    """Turn self sign-up on or off (administrators)."""
    require_admin(actor, "change the help center's settings")
    row = await get()
    if row.self_signup == self_signup:
        return row
    async with uow.transaction():
        await models.HelpCenterSettings.filter(id=row.id).update(self_signup=self_signup)
        await activity.record(
            actor=actor,
            kind="help_center.settings_updated",
            subject_type="HelpCenterSettings",
            subject_id=row.id,
            changes={"selfSignup": {"old": row.self_signup, "new": self_signup}},
        )
    return await get()
