"""Macro resolvers: decode ids and actions, call services.macros, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.errors import MutationError
from deskql.schema.ids import input_id, input_ids, public_changes
from deskql.schema.types import Ticket
from deskql.services import macros as svc
from deskql.services.errors import Errors, ValidationFailed

if TYPE_CHECKING:
    from deskql.schema.macros import (
        Macro,
        MacroActionInput,
        MacroApplyInput,
        MacroCreateInput,
        MacroDeleteInput,
        MacroUpdateInput,
    )

# Id fields of an action input: (attribute, global id type).
_ACTION_IDS = {
    "department_id": "Department",
    "product_id": "Product",
    "agent_id": "Agent",
    "team_id": "Team",
    "template_id": "EmailTemplate",
    "from_address_id": "FromAddress",
}
_ACTION_VALUES = ("status", "priority", "due_offset", "tags", "body", "is_public", "title")


def _actions(inputs: list[MacroActionInput]) -> list[dict[str, Any]]:
    """The service's form of the actions: plain values, database ids, enum names."""
    out: list[dict[str, Any]] = []
    errors = Errors()
    for index, item in enumerate(inputs):
        action: dict[str, Any] = {"type": item.type.value}
        for attr in _ACTION_VALUES:
            value = getattr(item, attr)
            if value is not None:
                action[attr] = value.name if attr in ("status", "priority") else value
        for attr, type_name in _ACTION_IDS.items():
            value = getattr(item, attr)
            if value is not None:
                try:
                    action[attr] = input_id(value, type_name, f"actions.{index}.{_camel(attr)}")
                except ValidationFailed as exc:
                    errors.items.extend(exc.errors)
        out.append(action)
    errors.raise_if_any()
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def macros(
    info: strawberry.Info, *, department_id: str | None, first: int | None, after: str | None
) -> Connection[Macro]:
    """`macros(departmentId, first, after)`."""
    from deskql.schema.ids import decode_id
    from deskql.schema.macros import Macro

    dept = decode_id(department_id, "Department") if department_id is not None else None
    query = svc.list_macros(actor_of(info), department_id=dept)
    return await page(info, query, first=first, after=after, convert=Macro.from_row)


async def macro_create(info: strawberry.Info, input: MacroCreateInput) -> Any:
    """`macroCreate`."""
    from deskql.schema.macros import Macro, MacroPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_macro(
            actor_of(info),
            department_id=input_id(input.department_id, "Department", "departmentId"),
            name=input.name,
            description=input.description,
            actions=_actions(input.actions),
        )
        return {"macro": Macro.from_row(row)}

    return await mutate(MacroPayload, run)


async def macro_update(info: strawberry.Info, input: MacroUpdateInput) -> Any:
    """`macroUpdate`."""
    from deskql.schema.macros import Macro, MacroPayload

    async def run() -> dict[str, Any]:
        row = await svc.update_macro(
            actor_of(info),
            macro_id=input_id(input.id, "Macro", "id"),
            name=input.name,
            description=input.description,
            actions=_actions(input.actions) if input.actions is not None else None,
        )
        return {"macro": Macro.from_row(row)}

    return await mutate(MacroPayload, run)


async def macro_delete(info: strawberry.Info, input: MacroDeleteInput) -> Any:
    """`macroDelete`."""
    from deskql.schema.macros import Macro, MacroPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_macro(actor_of(info), macro_id=input_id(input.id, "Macro", "id"))
        return {"macro": Macro.from_row(row)}

    return await mutate(MacroPayload, run)


async def macro_apply(info: strawberry.Info, input: MacroApplyInput) -> Any:
    """`macroApply`."""
    from deskql.schema.ids import to_global_id
    from deskql.schema.macros import Macro, MacroApplyPayload, MacroTicketResult

    def empty(errors: list[MutationError]) -> MacroApplyPayload:
        return MacroApplyPayload(
            errors=errors, dry_run=input.dry_run, applied_count=0, failed_count=0, results=[]
        )

    async def run() -> dict[str, Any]:
        outcome = await svc.apply_macro(
            actor_of(info),
            settings=info.context.settings,
            macro_id=input_id(input.macro_id, "Macro", "macroId"),
            ticket_ids=input_ids(input.ticket_ids, "Ticket", "ticketIds"),
            dry_run=input.dry_run,
        )
        results = [
            MacroTicketResult(
                ticket_id=strawberry.ID(to_global_id("Ticket", item.ticket_id)),
                applied=item.applied,
                changes=public_changes(item.changes) if item.applied else {},
                errors=[
                    MutationError(field=e.field, message=e.message, code=e.code)
                    for e in item.errors
                ],
                ticket=Ticket.from_row(item.ticket) if item.ticket is not None else None,
            )  # fmt: skip
            for item in outcome.results
        ]
        applied = sum(1 for item in outcome.results if item.applied)
        return {
            "dry_run": outcome.dry_run,
            "applied_count": applied,
            "failed_count": len(results) - applied,
            "results": results,
            "macro": Macro.from_row(outcome.macro),
            "run_activity_id": (
                strawberry.ID(to_global_id("Activity", outcome.run.id)) if outcome.run else None
            ),
        }

    def payload(errors: list[MutationError], **fields: Any) -> MacroApplyPayload:
        return MacroApplyPayload(errors=errors, **fields) if fields else empty(errors)

    return await mutate(payload, run)
