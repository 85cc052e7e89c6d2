"""Macros (AUT-1): types, inputs, payloads, `macros` and macroCreate/Update/Delete/Apply.
The Task type that macros create lives in schema.activities.types."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from deskql import models
from deskql.models.enums import TicketPriority, TicketStatus
from deskql.resolvers import macros as r
from deskql.schema.activities.types import Task  # noqa: F401 - macros create tasks; re-exported
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.ids import to_global_id
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Department, Node, Ticket


@strawberry.enum(description="What one macro action does.")
class MacroActionType(Enum):
    SET_STATUS = strawberry.enum_value("SET_STATUS", description="Set the status (`status`).")
    SET_PRIORITY = strawberry.enum_value(
        "SET_PRIORITY", description="Set the priority (`priority`)."
    )
    SET_DUE_DATE = strawberry.enum_value(
        "SET_DUE_DATE",
        description="Set the due date to the time of applying plus `dueOffset`; without "
        "`dueOffset`, clear it.",
    )
    SET_DEPARTMENT = strawberry.enum_value(
        "SET_DEPARTMENT",
        description="Move the ticket to `departmentId` (its assignee is cleared unless the "
        "macro also assigns).",
    )
    SET_PRODUCT = strawberry.enum_value(
        "SET_PRODUCT", description="Set the product (`productId`); without it, clear it."
    )
    ASSIGN_AGENT = strawberry.enum_value(
        "ASSIGN_AGENT", description="Assign to `agentId`, an active agent of the department."
    )
    ASSIGN_TEAM = strawberry.enum_value(
        "ASSIGN_TEAM", description="Assign to `teamId`, a team of the department."
    )
    UNASSIGN = strawberry.enum_value("UNASSIGN", description="Remove the assignee.")
    ADD_TAGS = strawberry.enum_value(
        "ADD_TAGS", description="Add `tags` (a ticket that would pass 10 fails alone)."
    )
    REMOVE_TAGS = strawberry.enum_value("REMOVE_TAGS", description="Remove `tags`.")
    ADD_COMMENT = strawberry.enum_value(
        "ADD_COMMENT",
        description="Add a comment: `body` with the email templates' placeholders, e.g. "
        "`{{contact.first_name}}`; `isPublic` (default private).",
    )
    CREATE_TASK = strawberry.enum_value(
        "CREATE_TASK",
        description="Create a task linked to the ticket: `title`, optional `dueOffset` and "
        "`agentId` (its assignee).",
    )
    SEND_EMAIL = strawberry.enum_value(
        "SEND_EMAIL",
        description="Reply to the ticket's contact with `templateId` (a template shared with "
        "the department), from `fromAddressId` if given; the email is queued with the ticket's "
        "other changes.",
    )


@strawberry.input(
    description="One action of a macro: `type` and the fields that type needs (others must be "
    "left out). Errors name the field as `actions.<index>.<field>`."
)
class MacroActionInput:
    type: MacroActionType = strawberry.field(description="What the action does.")
    status: TicketStatus | None = strawberry.field(default=None, description="SET_STATUS.")
    priority: TicketPriority | None = strawberry.field(default=None, description="SET_PRIORITY.")
    due_offset: str | None = strawberry.field(
        default=None,
        description='SET_DUE_DATE and CREATE_TASK: "+" and a number with m, h, d or w, e.g. '
        '"+2d", "+4h", "+30m", "+1w", counted from the time the macro is applied.',
    )
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="SET_DEPARTMENT: the department to move to."
    )
    product_id: strawberry.ID | None = strawberry.field(
        default=None, description="SET_PRODUCT: the product; leave out to clear."
    )
    agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="ASSIGN_AGENT: the assignee; CREATE_TASK: the task's assignee."
    )
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="ASSIGN_TEAM: the team."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="ADD_TAGS, REMOVE_TAGS: tag names (a-z, 0-9)."
    )
    body: str | None = strawberry.field(
        default=None, description="ADD_COMMENT: the text, with `{{placeholders}}`."
    )
    is_public: bool | None = strawberry.field(
        default=None, description="ADD_COMMENT: true makes it visible to the contact."
    )
    title: str | None = strawberry.field(default=None, description="CREATE_TASK: the title.")
    template_id: strawberry.ID | None = strawberry.field(
        default=None, description="SEND_EMAIL: the email template."
    )
    from_address_id: strawberry.ID | None = strawberry.field(
        default=None, description="SEND_EMAIL: a verified From address of the department."
    )


def _gid(type_name: str, pk: Any) -> strawberry.ID | None:
    return strawberry.ID(to_global_id(type_name, pk)) if isinstance(pk, int) else None


@strawberry.type(description="One stored action of a macro; fields its type does not use are null.")
class MacroAction:
    type: MacroActionType = strawberry.field(description="What the action does.")
    status: TicketStatus | None = strawberry.field(description="SET_STATUS.")
    priority: TicketPriority | None = strawberry.field(description="SET_PRIORITY.")
    due_offset: str | None = strawberry.field(
        description="SET_DUE_DATE, CREATE_TASK: offset from the time of applying."
    )
    department_id: strawberry.ID | None = strawberry.field(description="SET_DEPARTMENT.")
    product_id: strawberry.ID | None = strawberry.field(description="SET_PRODUCT.")
    agent_id: strawberry.ID | None = strawberry.field(description="ASSIGN_AGENT, CREATE_TASK.")
    team_id: strawberry.ID | None = strawberry.field(description="ASSIGN_TEAM.")
    tags: list[str] | None = strawberry.field(description="ADD_TAGS, REMOVE_TAGS.")
    body: str | None = strawberry.field(description="ADD_COMMENT.")
    is_public: bool | None = strawberry.field(description="ADD_COMMENT.")
    title: str | None = strawberry.field(description="CREATE_TASK.")
    template_id: strawberry.ID | None = strawberry.field(description="SEND_EMAIL.")
    from_address_id: strawberry.ID | None = strawberry.field(description="SEND_EMAIL.")

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> MacroAction:
        """Build from the stored JSON form."""
        return cls(
            type=MacroActionType(raw["type"]),
            status=TicketStatus[raw["status"]] if raw.get("status") else None,
            priority=TicketPriority[raw["priority"]] if raw.get("priority") else None,
            due_offset=raw.get("due_offset"),
            department_id=_gid("Department", raw.get("department_id")),
            product_id=_gid("Product", raw.get("product_id")),
            agent_id=_gid("Agent", raw.get("agent_id")),
            team_id=_gid("Team", raw.get("team_id")),
            tags=raw.get("tags"),
            body=raw.get("body"),
            is_public=raw.get("is_public"),
            title=raw.get("title"),
            template_id=_gid("EmailTemplate", raw.get("template_id")),
            from_address_id=_gid("FromAddress", raw.get("from_address_id")),
        )


@strawberry.type(description="A named, ordered list of actions for tickets of one department.")
class Macro(Node):
    name: str = strawberry.field(description="Name, unique within the department.")
    description: str = strawberry.field(description="What the macro is for.")
    actions: list[MacroAction] = strawberry.field(description="The actions, applied in order.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    department_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Macro) -> Macro:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Macro", row.id)),
            name=row.name,
            description=row.description,
            actions=[MacroAction.from_stored(a) for a in row.actions or []],
            created_at=row.created_at,
            updated_at=row.updated_at,
            department_pk=row.department_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The department whose tickets it applies to.")
    async def department(self, info: strawberry.Info) -> Department | None:
        return await info.context.loaders.department.load(self.department_pk)


@strawberry.input(description="A new macro.")
class MacroCreateInput:
    department_id: strawberry.ID = strawberry.field(
        description="The department whose tickets it applies to."
    )
    name: str = strawberry.field(description="Name, unique within the department (<= 120).")
    description: str = strawberry.field(default="", description="What it is for.")
    actions: list[MacroActionInput] = strawberry.field(
        description="1 to 25 actions, applied in order."
    )


@strawberry.input(description="Changes to a macro; fields left out stay as they are.")
class MacroUpdateInput:
    id: strawberry.ID = strawberry.field(description="The macro.")
    name: str | None = strawberry.field(default=None, description="New name.")
    description: str | None = strawberry.field(default=None, description="New description.")
    actions: list[MacroActionInput] | None = strawberry.field(
        default=None, description="New actions, replacing the old list."
    )


@strawberry.input(description="The macro to delete.")
class MacroDeleteInput:
    id: strawberry.ID = strawberry.field(description="The macro.")


@strawberry.input(description="Apply a macro to tickets of its department.")
class MacroApplyInput:
    macro_id: strawberry.ID = strawberry.field(description="The macro.")
    ticket_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 1,000 tickets; each is changed all-or-nothing."
    )
    dry_run: bool = strawberry.field(
        default=False, description="True: return what each ticket would get; write nothing."
    )


@strawberry.type(description="Result of macroCreate, macroUpdate and macroDelete.")
class MacroPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    macro: Macro | None = strawberry.field(
        default=None, description="The macro as saved (as it was, for a delete)."
    )


@strawberry.type(description="What a macro run did (or would do) to one ticket.")
class MacroTicketResult:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket asked for.")
    applied: bool = strawberry.field(
        description="True: the ticket got (in a dry run: would get) every change; false: it "
        "is unchanged and `errors` says why."
    )
    changes: JSON = strawberry.field(
        description='The changes: {"macroId", "macro", <field>: {"old", "new"}, "tags": '
        '{"added", "removed"}, "comments", "tasks", "emails"}; the same JSON is the '
        "ticket's `ticket.macro_applied` activity. Empty when not applied."
    )
    errors: list[MutationError] = strawberry.field(
        description="Why this ticket was left unchanged, e.g. WRONG_DEPARTMENT, NOT_FOUND, "
        "LIMIT_EXCEEDED (10 tags)."
    )
    ticket: Ticket | None = strawberry.field(
        description="The ticket as it is now (null if you may not see it)."
    )


@strawberry.type(
    description="Result of macroApply. Each applied ticket gets one `ticket.macro_applied` "
    "activity (its history; it notifies nobody); the run gets one `macro.applied` activity, "
    "and that one is what notifies: an agent following many of the tickets (or assigned or "
    "mentioned by the run) gets one notification for the whole run."
)
class MacroApplyPayload:
    errors: list[MutationError] = strawberry.field(
        description="Why the whole run was refused (unknown macro, no tickets, a macro whose "
        "actions are no longer valid); empty when it ran."
    )
    dry_run: bool = strawberry.field(description="True: nothing was written.")
    applied_count: int = strawberry.field(description="Tickets that got (would get) the changes.")
    failed_count: int = strawberry.field(description="Tickets left unchanged.")
    results: list[MacroTicketResult] = strawberry.field(
        description="One per ticket asked for, in the order asked."
    )
    macro: Macro | None = strawberry.field(default=None, description="The macro applied.")
    run_activity_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The run's `macro.applied` activity (what notifications point to); null "
        "in a dry run or when no ticket was changed.",
    )


@strawberry.type
class MacroQueries:
    @strawberry.field(
        description="Macros of the departments you work in (all, for administrators), by name.",
        permission_classes=[IsAuthenticated],
    )
    async def macros(
        self,
        info: strawberry.Info,
        department_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this department's macros."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
    ) -> Connection[Macro]:
        return await r.macros(info, department_id=department_id, first=first, after=after)


@strawberry.type
class MacroMutations:
    @strawberry.mutation(
        description="Create a macro (administrators, or agents granted `canManageMacros` in "
        "the department).",
        permission_classes=[IsAuthenticated],
    )
    async def macro_create(self, info: strawberry.Info, input: MacroCreateInput) -> MacroPayload:
        return await r.macro_create(info, input)

    @strawberry.mutation(
        description="Change a macro (same permission as macroCreate).",
        permission_classes=[IsAuthenticated],
    )
    async def macro_update(self, info: strawberry.Info, input: MacroUpdateInput) -> MacroPayload:
        return await r.macro_update(info, input)

    @strawberry.mutation(
        description="Delete a macro (same permission as macroCreate); past runs stay in the "
        "tickets' history.",
        permission_classes=[IsAuthenticated],
    )
    async def macro_delete(self, info: strawberry.Info, input: MacroDeleteInput) -> MacroPayload:
        return await r.macro_delete(info, input)

    @strawberry.mutation(
        description="Apply a macro to tickets of its department: each ticket all-or-nothing "
        "with a per-ticket result; `dryRun` writes nothing.",
        permission_classes=[IsAuthenticated],
    )
    async def macro_apply(self, info: strawberry.Info, input: MacroApplyInput) -> MacroApplyPayload:
        return await r.macro_apply(info, input)
