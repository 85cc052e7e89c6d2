"""Split a customer's reply off into a new ticket (TIC-9) and merge duplicate tickets (TIC-5).

Split: the new ticket is made by services.tickets.create_ticket (the one way to create a
ticket: same number counter, same `ticket.created` Activity, here with `splitFrom`), then the
thread moves to it with its attachments. Refused: an agent's (OUTGOING) thread, since TIC-9
splits a customer's reply; the only thread of a ticket, since the old ticket would be left with
no conversation and the "split" would only renumber it (update the ticket instead); a spam or
merged ticket; a thread of a ticket the agent cannot see (NOT_FOUND, as if it did not exist).

Merge: everything that hangs off the sources moves to the target in one transaction (threads,
comments, attachments, tags, followers, time entries, timers, tasks, drafts and the inbound
messages the threads came from); the sources are CLOSED with `merged_into` pointing at the
target. Their history (Activity rows, notifications) stays with them. Limits:
- at most MAX_MERGE_SOURCES (20) sources per merge (LIMIT_EXCEEDED): a merge locks every
  ticket it touches, and a bigger clean-up is a few merges;
- tags: when the target would carry more than 10 distinct tags (TIC-6), the merge is refused
  with LIMIT_EXCEEDED and nothing moves: dropping tags silently would lose data; remove some
  first;
- every ticket must be in the target's department, neither spam nor already merged.
Timers: an agent has at most one timer per ticket, so when an agent timed several of the
merged tickets their timers fold into one on the target (elapsed times added; still running if
one of them ran). Followers are deduplicated per agent.

Concurrency: the merge locks the target and the sources (SELECT ... FOR UPDATE in id order, so
two merges never deadlock) and checks them again under the lock; it bumps each ticket's
`version`, so a concurrent ticketUpdate gets CONFLICT rather than overwriting a merged ticket.
An inbound reply locks its ticket while it follows the merge chain (`follow_merges`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F

from deskql import models
from deskql.models.enums import ThreadDirection, TicketStatus
from deskql.services import activity, notifications, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import visible, visible_tickets
from deskql.services.tickets import (
    DESCRIPTION_MAX,
    MAX_TAGS_PER_TICKET,
    SUBJECT_MAX,
    create_ticket,
    ensure_not_merged,
)

MAX_MERGE_SOURCES = 20
# How many merged_into links a reply follows at most (a guard against a corrupt cycle).
MAX_MERGE_CHAIN = 50
_TOKEN = re.compile(r"\[#\d{1,9}\]")


# --- split (TIC-9) ---------------------------------------------------------------------------


def _split_subject(thread: models.Thread, source: models.Ticket) -> str:
    """The thread's subject without ticket tokens and line breaks; the source's when empty."""
    subject = " ".join(_TOKEN.sub(" ", thread.subject or "").split())
    return subject[:SUBJECT_MAX].strip() or source.subject


async def split_ticket(actor: Actor, *, thread_id: int) -> tuple[models.Ticket, models.Ticket]:
    """Move a customer's thread into a new ticket of the same contact; (new, source) tickets."""
    thread = await visible(actor, models.Thread).filter(id=thread_id).first()
    if thread is None:
        raise ValidationFailed.one("threadId", "no such thread", ErrorCode.NOT_FOUND)
    if thread.direction is not ThreadDirection.INCOMING:
        raise ValidationFailed.one(
            "threadId",
            "only a customer's (incoming) message can be split off; this one was sent by an agent",
            ErrorCode.INVALID,
        )
    async with uow.transaction():
        # Lock the source (PostgreSQL) so a merge or another split of it waits, then check again.
        source = (
            await models.Ticket.filter(id=thread.ticket_id)  # type: ignore[attr-defined]
            .select_for_update()
            .first()
        )
        if source is None or not await models.Thread.exists(id=thread.id, ticket_id=source.id):
            raise ValidationFailed.one(
                "threadId", "the thread moved to another ticket meanwhile", ErrorCode.CONFLICT
            )
        _require_live(source, "threadId")
        if await models.Thread.filter(ticket_id=source.id).count() < 2:
            raise ValidationFailed.one(
                "threadId",
                f"the thread is the only one of ticket #{source.number}: there is nothing to "
                "split it from",
                ErrorCode.INVALID,
            )
        contact_id = source.contact_id or thread.author_contact_id  # type: ignore[attr-defined]
        new = await create_ticket(
            actor,
            subject=_split_subject(thread, source),
            description=(thread.body_text or "")[:DESCRIPTION_MAX],
            department_id=source.department_id,  # type: ignore[attr-defined]
            contact_id=contact_id,
            contact_email=None if contact_id else _address(thread.from_address),
            account_id=source.account_id,  # type: ignore[attr-defined]
            priority=source.priority,
            channel=source.channel,
            split_from=source,
        )
        await models.Thread.filter(id=thread.id).update(ticket_id=new.id)
        attachments = await models.Attachment.filter(thread_id=thread.id).update(ticket_id=new.id)
        await models.InboundMessage.filter(thread_id=thread.id).update(ticket_id=new.id)
        await models.Ticket.filter(id=source.id).update(
            version=F("version") + 1, updated_at=datetime.now(UTC)
        )
        source = await models.Ticket.get(id=source.id)
        await activity.record_ticket(
            actor=actor,
            kind="ticket.split",
            ticket=source,
            changes={
                "threadId": thread.id,
                "newTicketId": new.id,
                "newNumber": new.number,
                "attachments": attachments,
            },
        )
    return new, source


def _address(from_address: str) -> str | None:
    """The email address of a thread's From (`Name <a@b>` or `a@b`)."""
    match = re.search(r"<([^<>\s]+@[^<>\s]+)>", from_address or "")
    text = match.group(1) if match else (from_address or "").strip()
    return text or None


def _require_live(ticket: models.Ticket, field: str) -> None:
    """Refuse a merged or spam ticket."""
    ensure_not_merged(ticket, field)
    if ticket.is_spam:
        raise ValidationFailed.one(
            field, f"ticket #{ticket.number} is spam; unmark it first", ErrorCode.INVALID
        )


# --- merge (TIC-5) ---------------------------------------------------------------------------


def _check_merge_input(target_id: int, source_ids: list[int]) -> list[int]:
    """The distinct source ids, or the input errors (before anything is read)."""
    errors = Errors()
    unique = list(dict.fromkeys(source_ids))
    if not unique:
        errors.add("sourceIds", "give at least one ticket to merge", ErrorCode.REQUIRED)
    elif len(unique) > MAX_MERGE_SOURCES:
        errors.add(
            "sourceIds",
            f"at most {MAX_MERGE_SOURCES} tickets can be merged at once; got {len(unique)}",
            ErrorCode.LIMIT_EXCEEDED,
        )
    if target_id in unique:
        errors.add("sourceIds", "a ticket cannot be merged into itself", ErrorCode.INVALID)
    errors.raise_if_any()
    return unique


def _check_merge_rows(
    target: models.Ticket | None, sources: list[models.Ticket], wanted: int
) -> models.Ticket:
    """Check the locked rows: visible, live, one department."""
    errors = Errors()
    if target is None:
        errors.add("targetId", "no such ticket", ErrorCode.NOT_FOUND)
    if len(sources) < wanted:
        errors.add(
            "sourceIds",
            f"{wanted - len(sources)} of the tickets to merge do not exist",
            ErrorCode.NOT_FOUND,
        )
    errors.raise_if_any()
    assert target is not None
    if target.merged_into_id is not None:  # type: ignore[attr-defined]
        errors.add(
            "targetId",
            f"ticket #{target.number} is itself merged into another ticket; merge into that one",
            ErrorCode.MERGED,
        )
    elif target.is_spam:
        errors.add("targetId", f"ticket #{target.number} is spam", ErrorCode.INVALID)
    for source in sources:
        if source.merged_into_id is not None:  # type: ignore[attr-defined]
            errors.add("sourceIds", f"ticket #{source.number} is already merged", ErrorCode.MERGED)
        elif source.is_spam:
            errors.add("sourceIds", f"ticket #{source.number} is spam", ErrorCode.INVALID)
        elif source.department_id != target.department_id:  # type: ignore[attr-defined]
            errors.add(
                "sourceIds",
                f"ticket #{source.number} belongs to another department than #{target.number}",
                ErrorCode.INVALID,
            )
    errors.raise_if_any()
    return target


async def merge_tickets(
    actor: Actor, *, target_id: int, source_ids: list[int]
) -> tuple[models.Ticket, list[models.Ticket]]:
    """Move everything of the sources into the target and close them as merged; all or none."""
    unique = _check_merge_input(target_id, source_ids)
    async with uow.transaction():
        # One lock order for every merge (by id): two merges over the same tickets never deadlock.
        locked = await (
            visible_tickets(actor)
            .filter(id__in=sorted({target_id, *unique}))
            .order_by("id")
            .select_for_update()
        )
        by_id = {row.id: row for row in locked}
        sources = [by_id[i] for i in unique if i in by_id]
        target = _check_merge_rows(by_id.get(target_id), sources, len(unique))
        src_ids = [s.id for s in sources]
        tags_added = await _merge_tags(target, src_ids)
        moved = await _move_rows(target, src_ids)
        moved["followers"] = await _merge_follows(target, src_ids)
        moved["timers"] = await _merge_timers(target, src_ids)
        now = datetime.now(UTC)
        await models.Ticket.filter(id__in=src_ids, closed_at__isnull=True).update(closed_at=now)
        await models.Ticket.filter(id__in=src_ids).update(
            status=TicketStatus.CLOSED,
            merged_into_id=target.id,
            version=F("version") + 1,
            updated_at=now,
        )
        await models.Ticket.filter(id=target.id).update(version=F("version") + 1, updated_at=now)
        target = await models.Ticket.get(id=target.id)
        fresh = {t.id: t for t in await models.Ticket.filter(id__in=src_ids)}
        for before in sources:
            after = fresh[before.id]
            await activity.record_ticket(
                actor=actor,
                kind="ticket.merged_into",
                ticket=after,
                changes={
                    "mergedInto": target.number,
                    "mergedIntoId": target.id,
                    "status": {"old": before.status.value, "new": after.status.value},
                },
            )
        await activity.record_ticket(
            actor=actor,
            kind="ticket.merged",
            ticket=target,
            changes={
                "sources": [s.number for s in sources],
                "sourceIds": src_ids,
                "tagsAdded": tags_added,
                "moved": moved,
            },
        )
    return target, [fresh[i] for i in src_ids]


async def _merge_tags(target: models.Ticket, src_ids: list[int]) -> list[str]:
    """Give the target the sources' tags (refused past the 10-tag limit); the names added."""
    links = await models.TicketTag.filter(ticket_id__in=[target.id, *src_ids]).values(
        "ticket_id", "tag_id", "tag__name"
    )
    have = {row["tag_id"] for row in links if row["ticket_id"] == target.id}
    new = {row["tag_id"]: row["tag__name"] for row in links if row["tag_id"] not in have}
    if len(have) + len(new) > MAX_TAGS_PER_TICKET:
        raise ValidationFailed.one(
            "sourceIds",
            f"the merged ticket would carry {len(have) + len(new)} tags; at most "
            f"{MAX_TAGS_PER_TICKET} are allowed: remove some tags first",
            ErrorCode.LIMIT_EXCEEDED,
        )
    await models.TicketTag.filter(ticket_id__in=src_ids).delete()
    if new:
        await models.TicketTag.bulk_create(
            [models.TicketTag(ticket_id=target.id, tag_id=tag_id) for tag_id in sorted(new)]
        )
    return sorted(new.values())


# Rows that simply change ticket: model and the label of its count in the Activity.
_MOVED: tuple[tuple[type[Any], str], ...] = (
    (models.Thread, "threads"),
    (models.Comment, "comments"),
    (models.Attachment, "attachments"),
    (models.TimeEntry, "timeEntries"),
    (models.Task, "tasks"),
    (models.Draft, "drafts"),
    (models.InboundMessage, "inboundMessages"),
)


async def _move_rows(target: models.Ticket, src_ids: list[int]) -> dict[str, int]:
    """Point the sources' threads, comments, attachments and the like at the target."""
    counts: dict[str, int] = {}
    for model, label in _MOVED:
        counts[label] = await model.filter(ticket_id__in=src_ids).update(ticket_id=target.id)
    return counts


async def _merge_follows(target: models.Ticket, src_ids: list[int]) -> int:
    """Move the sources' followers to the target, one Follow per agent; how many moved."""
    rows = await (
        models.Follow.filter(ticket_id__in=[target.id, *src_ids])
        .order_by("id")
        .values("id", "agent_id", "ticket_id")
    )
    seen = {row["agent_id"] for row in rows if row["ticket_id"] == target.id}
    move: list[int] = []
    drop: list[int] = []
    for row in rows:
        if row["ticket_id"] == target.id:
            continue
        if row["agent_id"] in seen:
            drop.append(row["id"])
        else:
            seen.add(row["agent_id"])
            move.append(row["id"])
    if drop:
        await models.Follow.filter(id__in=drop).delete()
    if move:
        await models.Follow.filter(id__in=move).update(ticket_id=target.id)
    if drop or move:
        notifications.forget_followers()  # the transaction's memo of followers is stale now
    return len(move)


def _elapsed(timer: models.Timer, now: datetime) -> int:
    """Seconds a timer has counted, including its running stretch."""
    seconds = timer.accumulated_seconds
    since = timer.running_since
    if timer.state is models.TimerState.RUNNING and since is not None:
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        seconds += max(0, int((now - since).total_seconds()))
    return seconds


async def _merge_timers(target: models.Ticket, src_ids: list[int]) -> int:
    """Move the sources' ticket timers to the target, folding an agent's timers into one."""
    timers = await models.Timer.filter(ticket_id__in=[target.id, *src_ids]).order_by("id")
    by_agent: dict[int, list[models.Timer]] = {}
    for timer in timers:
        by_agent.setdefault(timer.agent_id, []).append(timer)  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    moved = 0
    for group in by_agent.values():
        # Keep the target's timer if the agent has one, else the oldest; fold the others in.
        keep = next((t for t in group if t.ticket_id == target.id), group[0])  # type: ignore[attr-defined]
        others = [t for t in group if t.id != keep.id]
        if keep.ticket_id != target.id:  # type: ignore[attr-defined]
            moved += 1
        if not others:
            if keep.ticket_id != target.id:  # type: ignore[attr-defined]
                await models.Timer.filter(id=keep.id).update(ticket_id=target.id)
            continue
        running = any(t.state is models.TimerState.RUNNING for t in group)
        values: dict[str, Any] = {
            "ticket_id": target.id,
            "accumulated_seconds": sum(_elapsed(t, now) for t in group),
            "state": models.TimerState.RUNNING if running else models.TimerState.PAUSED,
            "running_since": now if running else None,
        }
        moved += len(others)
        await models.Timer.filter(id__in=[t.id for t in others]).delete()
        await models.Timer.filter(id=keep.id).update(**values)
    return moved


async def follow_merges(ticket: models.Ticket, *, lock: bool = False) -> models.Ticket:
    """The ticket that now stands for `ticket`: itself, or the end of its merged_into chain.

    With `lock` (inside a transaction, PostgreSQL) each ticket on the way is locked, so a reply
    that arrives during a merge waits for it and then lands on the target.
    """
    seen = {ticket.id}
    current = ticket
    if lock:
        current = await models.Ticket.filter(id=ticket.id).select_for_update().first() or ticket
    while current.merged_into_id is not None and len(seen) <= MAX_MERGE_CHAIN:  # type: ignore[attr-defined]
        query = models.Ticket.filter(id=current.merged_into_id)  # type: ignore[attr-defined]
        following = await (query.select_for_update() if lock else query).first()
        if following is None or following.id in seen:
            break
        seen.add(following.id)
        current = following
    return current
