"""`apply_macro`: one macro applied to many tickets, in bulk or ticket by ticket."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import BaseORMException

from deskql import models
from deskql.realtime import envelopes, topics
from deskql.services import (
    activity,
    notifications,
    outbox,
    uow,
)
from deskql.services import tickets as ticket_rules
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, FieldError, ValidationFailed
from deskql.services.macros.actions import ActionType, clean_actions
from deskql.services.macros.manage import get_macro
from deskql.services.macros.plan import (
    ApplyResult,
    TicketResult,
    _check_sending,
    _final_department,
    _load,
    _Plan,
    _plan,
)
from deskql.services.macros.write import APPLIED, _activity_row, _send, _write
from deskql.services.policies import visible_tickets
from deskql.services.search import index as search_index
from deskql.settings import Settings

MAX_TICKETS = 1_000


RUN = "macro.applied"


async def apply_macro(
    actor: Actor,
    *,
    settings: Settings,
    macro_id: int,
    ticket_ids: list[int],
    dry_run: bool = False,
) -> ApplyResult:
    """Apply a macro to tickets of its department, each all-or-nothing, with one
    `ticket.macro_applied` Activity per ticket and one notification per agent for the run;
    `dry_run` returns the changes each ticket would get and writes nothing."""
    macro = await get_macro(actor, macro_id=macro_id, field="macroId")
    if not ticket_ids:
        raise ValidationFailed.one("ticketIds", "give at least one ticket", ErrorCode.REQUIRED)
    wanted = list(dict.fromkeys(ticket_ids))
    if len(wanted) > MAX_TICKETS:
        raise ValidationFailed.one(
            "ticketIds", f"at most {MAX_TICKETS} tickets per run", ErrorCode.LIMIT_EXCEEDED
        )
    department_id: int = macro.department_id  # type: ignore[attr-defined]
    # The stored actions are checked again: an agent may have left, a template gone.
    errors = Errors()
    actions = await clean_actions(actor, errors, macro.actions, department_id=department_id)
    if not errors.items and any(a["type"] == ActionType.SEND_EMAIL for a in actions):
        await _check_sending(actor, errors, actions, _final_department(department_id, actions))
    errors.raise_if_any()
    results = {pk: TicketResult(ticket_id=pk) for pk in wanted}
    if dry_run:
        rows = await visible_tickets(actor).filter(id__in=wanted)
        await _plan_all(actor, macro, actions, rows, results, wanted)
        return ApplyResult(macro, True, [results[pk] for pk in wanted])
    with notifications.quiet():
        async with uow.transaction():
            # Lock in id order (PostgreSQL) so concurrent runs serialise without deadlocks;
            # the plans are computed from the locked rows, so no update is lost.
            rows = await (
                visible_tickets(actor).filter(id__in=wanted).order_by("id").select_for_update()
            )
            plans = await _plan_all(actor, macro, actions, rows, results, wanted)
            ready = [p for p in plans if p.result.applied]
            now = datetime.now(UTC)
            if any(p.emails for p in ready):
                await _apply_one_by_one(actor, settings, ready, now)
            else:
                try:
                    async with uow.transaction():
                        await _write(actor, ready, now)
                except BaseORMException:
                    await _apply_one_by_one(actor, settings, ready, now)
            done = [p for p in ready if p.result.applied]
            mark = await _last_activity_id()
            if done:
                await models.Activity.bulk_create([_activity_row(actor, p) for p in done])
                await search_index.mark(search_index.TICKET, [p.ticket.id for p in done])
            run = await _record_run(actor, macro, done, mark) if done else None
    if any(p.emails for p in done):
        outbox.wake()
    fresh = {t.id: t for t in await models.Ticket.filter(id__in=[p.ticket.id for p in done])}
    for plan in done:
        plan.result.ticket = fresh.get(plan.ticket.id, plan.ticket)
    return ApplyResult(macro, False, [results[pk] for pk in wanted], run)


async def _plan_all(
    actor: Actor,
    macro: models.Macro,
    actions: list[dict[str, Any]],
    rows: list[models.Ticket],
    results: dict[int, TicketResult],
    wanted: list[int],
) -> list[_Plan]:
    found = {t.id: t for t in rows}
    department_id = macro.department_id  # type: ignore[attr-defined]
    eligible: list[models.Ticket] = []
    for index, pk in enumerate(wanted):
        ticket = found.get(pk)
        result = results[pk]
        if ticket is None:
            result.errors.append(
                FieldError(f"ticketIds.{index}", "no such ticket", ErrorCode.NOT_FOUND)
            )
            continue
        result.ticket = ticket
        if ticket.department_id != department_id:  # type: ignore[attr-defined]
            result.errors.append(
                FieldError(
                    f"ticketIds.{index}",
                    f"ticket #{ticket.number} is in another department than the macro; a macro "
                    "applies only to tickets of its own department",
                    ErrorCode.WRONG_DEPARTMENT,
                )
            )
            continue
        merged = ticket_rules.merged_error(ticket, f"ticketIds.{index}")
        if merged is not None:
            result.errors.append(merged)
            continue
        eligible.append(ticket)
    if not eligible:
        return []
    ctx = await _load(actor, macro, actions, eligible)
    return [_plan(ctx, ticket, results[ticket.id]) for ticket in eligible]


async def _apply_one_by_one(
    actor: Actor, settings: Settings, plans: list[_Plan], now: datetime
) -> None:
    """One savepoint per ticket: a ticket that fails is rolled back alone."""
    for plan in plans:
        try:
            async with uow.transaction():
                await _write(actor, [plan], now)
                if plan.emails:
                    await _send(actor, settings, plan)
        except ValidationFailed as exc:
            plan.result.errors.extend(exc.errors)
        except BaseORMException as exc:
            plan.fail(None, f"the ticket could not be changed: {exc}", ErrorCode.CONFLICT)


async def _last_activity_id() -> int:
    row = await models.Activity.all().order_by("-id").only("id").first()
    return row.id if row else 0


async def _record_run(
    actor: Actor, macro: models.Macro, done: list[_Plan], mark: int
) -> models.Activity:
    """The run's summary Activity, its batched notifications, and the real-time envelopes."""
    ids = [p.ticket.id for p in done]
    per_ticket = await models.Activity.filter(kind=APPLIED, ticket_id__in=ids, id__gt=mark)
    await activity.recorded_in_bulk(per_ticket)
    departments = sorted(
        {macro.department_id}
        | {p.values["department_id"] for p in done if "department_id" in p.values}  # type: ignore[attr-defined]
    )
    run = await models.Activity.create(
        kind=RUN,
        actor_id=actor.agent_id,
        subject_type="Macro",
        subject_id=macro.id,
        department_id=macro.department_id,  # type: ignore[attr-defined]
        changes={
            "macroId": macro.id,
            "macro": macro.name,
            "ticketIds": ids,
            "count": len(ids),
            "departmentIds": departments,
        },
    )
    assigned: dict[int, set[int]] = defaultdict(set)
    teams: dict[int, set[int]] = defaultdict(set)
    for plan in done:
        if plan.values.get("assignee_agent_id"):
            assigned[plan.values["assignee_agent_id"]].add(plan.ticket.id)
        if plan.values.get("assignee_team_id"):
            teams[plan.values["assignee_team_id"]].add(plan.ticket.id)
    mentioned = {
        pk for plan in done for body, _ in plan.comments
        for pk in notifications.mentioned_agent_ids(body)
    }  # fmt: skip
    created = await notifications.notify_run(
        actor,
        activity=run,
        ticket_ids=ids,
        assigned_agent_ids=set(assigned),
        assigned_team_ids=set(teams),
        mentioned_agent_ids=mentioned,
        department_ids=departments,
    )
    # Envelopes: each ticket's topic hears its own activity; dashboards hear the run once.
    for row in per_ticket:
        uow.add_event(topics.ticket(row.ticket_id), envelopes.activity(row))  # type: ignore[arg-type]
    for department_id in departments:
        uow.add_event(topics.department(department_id), envelopes.activity(run))
    for notification in created:
        uow.add_event(
            topics.agent(notification.agent_id),  # type: ignore[attr-defined]
            envelopes.notification(notification),
        )
    return run
