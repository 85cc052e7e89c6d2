"""Saved views created, updated and deleted by their owner (shared ones by administrators)."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import (
    ErrorCode,
    Errors,
    PermissionDenied,
    ValidationFailed,
)
from deskql.services.policies import (
    require_admin,
)
from deskql.services.tickets import TicketFilter
from deskql.services.views.criteria import _check_criteria, _check_sort, criteria_json
from deskql.services.views.reading import StandardView, visible_views

NAME_MAX = 120


# --- saving views -------------------------------------------------------------------------


async def create_view(
    actor: Actor,
    *,
    name: str,
    flt: TicketFilter,
    sort: str = "CREATED_AT",
    desc: bool = True,
    is_shared: bool = False,
) -> models.TicketView:
    """Save a custom view owned by the actor; only administrators may share one with everyone."""
    if is_shared:
        require_admin(actor, "share a ticket view with everyone")
    errors = Errors()
    clean_name = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    _check_sort(errors, sort)
    await _check_criteria(actor, errors, flt)
    errors.raise_if_any()
    async with uow.transaction():
        row = await models.TicketView.create(
            name=clean_name,
            owner_id=actor.agent_id,
            is_shared=is_shared,
            criteria=criteria_json(flt),
            sort_field=sort,
            sort_direction="DESC" if desc else "ASC",
        )
        await _record(actor, "ticket_view.created", row, {"name": row.name, "isShared": is_shared})
    return row


async def _editable(actor: Actor, view: StandardView | int) -> models.TicketView:
    """The saved view if the actor may change it: the owner, or an administrator for a shared
    one. Another agent's private view is NOT_FOUND (its existence is not revealed)."""
    if isinstance(view, StandardView):
        raise ValidationFailed.one(
            "id", "standard views are built in and cannot be changed", ErrorCode.INVALID
        )
    row = await visible_views(actor).filter(id=view).first()
    if row is None:
        raise ValidationFailed.one("id", "no such ticket view", ErrorCode.NOT_FOUND)
    if row.owner_id != actor.agent_id and not actor.is_admin:  # type: ignore[attr-defined]
        raise PermissionDenied("only its owner or an administrator may change a shared view")
    return row


async def update_view(
    actor: Actor, *, view: StandardView | int, changes: dict[str, Any]
) -> models.TicketView:
    """Change a saved view's name, criteria (`flt`), sort (`sort`, `desc`) or sharing."""
    unknown = set(changes) - {"name", "flt", "sort", "desc", "is_shared"}
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    row = await _editable(actor, view)
    if "is_shared" in changes and changes["is_shared"] != row.is_shared:
        require_admin(actor, "share or unshare a ticket view")
    errors = Errors()
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = validation.text(
            errors, "name", changes["name"], max_length=NAME_MAX, required=True
        )
    if changes.get("sort") is not None:
        _check_sort(errors, changes["sort"])
        values["sort_field"] = changes["sort"]
    if changes.get("desc") is not None:
        values["sort_direction"] = "DESC" if changes["desc"] else "ASC"
    if changes.get("is_shared") is not None:
        values["is_shared"] = changes["is_shared"]
    if changes.get("flt") is not None:
        await _check_criteria(actor, errors, changes["flt"])
        values["criteria"] = criteria_json(changes["flt"])
    errors.raise_if_any()
    if not values:
        return row
    before = {key: getattr(row, key) for key in values}
    async with uow.transaction():
        await models.TicketView.filter(id=row.id).update(**values)
        fresh = await models.TicketView.get(id=row.id)
        changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
        if changed:
            await _record(actor, "ticket_view.updated", fresh, changed)
    return fresh


async def delete_view(actor: Actor, *, view: StandardView | int) -> models.TicketView:
    """Delete a saved view (its owner, or an administrator for a shared one)."""
    row = await _editable(actor, view)
    async with uow.transaction():
        await _record(actor, "ticket_view.deleted", row, {"name": row.name})
        await row.delete()
    return row


async def _record(actor: Actor, kind: str, row: models.TicketView, changes: dict[str, Any]) -> None:
    await activity.record(
        actor=actor, kind=kind, subject_type="TicketView", subject_id=row.id, changes=changes
    )
