"""An agent's own profile and password (`update_profile`), password changes throttled."""

from __future__ import annotations

from deskql import models
from deskql.services import activity, throttle, uow
from deskql.services.auth import Actor, hash_password, verify_password
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.organisation.agents import _profile_values
from deskql.services.organisation.common import HIDDEN, _now, check_password

# Guesses of the current password when setting a new one (update_profile).
PASSWORD_CHANGE = throttle.Policy(name="password-change")


async def update_profile(
    actor: Actor,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    avatar_url: str | None = None,
    about: str | None = None,
    hobbies: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
) -> models.Agent:
    """Change the signed-in agent's own profile (PRO-1); a new password needs the current one."""
    errors = Errors()
    values = _profile_values(
        errors,
        first_name=first_name,
        last_name=last_name,
        about=about,
        hobbies=hobbies,
        avatar_url=avatar_url,
    )
    check_password(errors, password)
    errors.raise_if_any()
    agent = await models.Agent.get(id=actor.agent_id)
    password_hash = None
    if password is not None:
        # The current password is a guessable secret too: throttled like sign-in, per agent.
        attempt = await throttle.begin(PASSWORD_CHANGE, identifier=str(agent.id), address=None)
        ok = (
            current_password is not None
            and agent.password_hash is not None
            and await verify_password(agent.password_hash, current_password)
        )
        if ok:
            await throttle.succeeded(attempt)
        else:
            await throttle.failed(attempt)
            raise ValidationFailed.one(
                "currentPassword",
                "give your current password to set a new one",
                ErrorCode.INVALID_CREDENTIALS,
            )
        password_hash = await hash_password(password)
    before = {key: getattr(agent, key) for key in values}
    async with uow.transaction():
        writes = dict(values)
        if password_hash is not None:
            writes["password_hash"] = password_hash
        if writes:
            writes["updated_at"] = _now()
            await models.Agent.filter(id=agent.id).update(**writes)
        fresh = await models.Agent.get(id=agent.id)
        changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
        if password_hash is not None:
            changed["password"] = {"old": HIDDEN, "new": HIDDEN}
        if changed:
            await activity.record(
                actor=actor,
                kind="profile.updated",
                subject_type="Agent",
                subject_id=agent.id,
                changes=changed,
            )
    return fresh
