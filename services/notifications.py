"""The notification center (COL-1, COL-2, COL-3, TIC-13): who is told about an Activity,
the Mention rows of comments, auto-follow of assignees, and reading/marking notifications.

`notify` runs inside the transaction that writes the Activity (services.activity.record), so a
change, its history and its notifications commit together. Recipients of one activity:

- FOLLOWING: followers of the ticket, of its contact and of its account (for contact/account
  activities: followers of that contact/account);
- MENTIONED: agents named in a comment body with the markup `@[Display name](<Agent global id>)`,
  e.g. `@[Alice Smith](QWdlbnQ6Mw)` (COL-1); the display text is free, the id decides;
- ASSIGNED: the agent a ticket is assigned to, or every member of the team it is assigned to;
- OWNER: the agents a record belongs to (an article's author), named by the service that
  records the activity;
- for records of other registered types (services.records: articles, ...), FOLLOWING is the
  followers of that record (the Follow rows' subject_type/subject_id), and only agents who may
  see the record's department (the activity's) are told.

Never the agent who acted, at most one per agent per activity (the highest reason wins:
MENTIONED, then ASSIGNED, then OWNER, then FOLLOWING), never for a deactivated agent or one
who cannot see the record (services.policies), and none at all for spam tickets (TIC-7).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tortoise.connection import get_connection
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import NotificationReason, Role
from deskql.realtime import batch
from deskql.services import uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed

# Higher wins when one agent has several reasons for the same activity.
PRIORITY = {
    NotificationReason.ADMINISTRATOR: 7,
    NotificationReason.INCOMING_CALL: 6,
    NotificationReason.REMINDER: 5,
    NotificationReason.MENTIONED: 4,
    NotificationReason.ASSIGNED: 3,
    NotificationReason.OWNER: 2,
    NotificationReason.FOLLOWING: 1,
}
MENTION = re.compile(r"@\[([^\]\n]{1,200})\]\(([A-Za-z0-9_-]{2,100})\)")
MAX_MARK_READ = 100
# Activities every administrator is told of (services/webhooks: a webhook switched off).
ADMIN_KINDS = frozenset({"webhook.disabled"})
# Set while a batch (a macro run) writes activities whose notifications it sends as one.
_quiet: ContextVar[bool] = ContextVar("deskql_notify_quiet", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    """Inside the block, activities notify nobody: the caller sends one batched notification
    (`notify_run`) for the whole batch instead of one per record."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def mentioned_agent_ids(body: str) -> list[int]:
    """Agent pks named by `@[Name](agent-global-id)` markup, in order of first appearance."""
    found: list[int] = []
    for match in MENTION.finditer(body or ""):
        pk = _agent_pk(match.group(2))
        if pk is not None and pk not in found:
            found.append(pk)
    return found


def _agent_pk(global_id: str) -> int | None:
    # The same encoding as schema.ids (base64url of "Agent:<pk>"); services do not import schema.
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        return None
    type_name, _, pk_text = raw.partition(":")
    if type_name != "Agent" or not pk_text.isdigit() or not 0 < int(pk_text) <= 2**62:
        return None
    return int(pk_text)


def _new_value(changes: dict[str, Any], key: str) -> Any:
    entry = changes.get(key)
    return entry.get("new") if isinstance(entry, dict) else None


async def _assignees(activity: models.Activity, ticket: models.Ticket | None) -> set[int]:
    """Agents told because the activity assigned the ticket to them or to their team."""
    changes = activity.changes or {}
    agent_id: int | None = None
    team_id: int | None = None
    if activity.kind == "ticket.created" and ticket is not None:
        agent_id = ticket.assignee_agent_id  # type: ignore[attr-defined]
        team_id = ticket.assignee_team_id  # type: ignore[attr-defined]
    elif activity.kind == "ticket.rated" and ticket is not None:
        # The customer's rating of the answer reaches the agent who gave it (TIC-5).
        agent_id = ticket.assignee_agent_id  # type: ignore[attr-defined]
    else:
        agent_id = _new_value(changes, "assignee_agent_id")
        team_id = _new_value(changes, "assignee_team_id")
    found: set[int] = set()
    if isinstance(agent_id, int):
        found.add(agent_id)
    if isinstance(team_id, int):
        found.update(
            await models.TeamMembership.filter(team_id=team_id).values_list("agent_id", flat=True)
        )
    return found


COMMENT_ADDED = ".comment_added"  # `<record kind>.comment_added`: ticket., article., ...
COMMENT_EDITED = ".comment_edited"


async def _record_mentions(activity: models.Activity) -> set[int]:
    """Store the Mention rows of a new or edited comment (of any record) and return the agents
    it newly mentions (an edit tells only those its previous text did not name)."""
    comment_id = (activity.changes or {}).get("commentId")
    edited = activity.kind.endswith(COMMENT_EDITED)
    if not (activity.kind.endswith(COMMENT_ADDED) or edited) or not isinstance(comment_id, int):
        return set()
    comment = await models.Comment.filter(id=comment_id).only("id", "body").first()
    if comment is None:
        return set()
    wanted = mentioned_agent_ids(comment.body)
    before: set[int] = set()
    if edited:
        before = set(
            await models.Mention.filter(comment_id=comment.id).values_list("agent_id", flat=True)
        )
        gone = before - set(wanted)
        if gone:
            await models.Mention.filter(comment_id=comment.id, agent_id__in=sorted(gone)).delete()
    if not wanted:
        return set()
    existing = set(await models.Agent.filter(id__in=wanted).values_list("id", flat=True))
    rows = [
        models.Mention(comment_id=comment.id, agent_id=pk)
        for pk in wanted
        if pk in existing and pk not in before
    ]
    if rows:
        await models.Mention.bulk_create(rows, ignore_conflicts=True)
    return existing - before


FOLLOWERS_MEMO = "notifications.followers"  # ("ticket_id" | "contact_id" | "account_id", pk)
_FOLLOWED = ("ticket_id", "contact_id", "account_id")


def forget_followers() -> None:
    """Drop the followers read in this transaction (after writing Follow rows in it)."""
    memo = uow.memo()
    if memo is not None:
        memo.pop(FOLLOWERS_MEMO, None)


def _followers_memo() -> dict[tuple[str, int], frozenset[int]] | None:
    memo = uow.memo()
    return memo.setdefault(FOLLOWERS_MEMO, {}) if memo is not None else None


def no_followers_yet(*, ticket_id: int | None = None, contact_id: int | None = None) -> None:
    """Record that a ticket or contact this transaction just created has no followers (so its
    activities need not ask); writing a Follow row drops it with the rest of the memo."""
    cached = _followers_memo()
    if cached is None:
        return
    for column, pk in (("ticket_id", ticket_id), ("contact_id", contact_id)):
        if pk is not None:
            cached[(column, pk)] = frozenset()


async def read_followers(
    *, contact_ids: Iterable[int] = (), account_ids: Iterable[int] = ()
) -> None:
    """Read the followers of these contacts and accounts in one statement, for the activities
    this transaction will record about them (a group of inbound messages)."""
    cached = _followers_memo()
    if cached is not None:
        await _read_into(
            cached,
            [("contact_id", pk) for pk in contact_ids] + [("account_id", pk) for pk in account_ids],
        )


async def _read_into(
    cached: dict[tuple[str, int], frozenset[int]], keys: list[tuple[str, int]]
) -> None:
    wanted = {key for key in keys if key not in cached}
    if not wanted:
        return
    query = Q(id=0)
    for column, pk in sorted(wanted, key=lambda key: (_FOLLOWED.index(key[0]), key[1])):
        query |= Q(**{column: pk})
    found: dict[tuple[str, int], set[int]] = {key: set() for key in wanted}
    for agent_id, *targets in await models.Follow.filter(query).values_list("agent_id", *_FOLLOWED):
        for column, pk in zip(_FOLLOWED, targets, strict=True):
            if (column, pk) in found:
                found[(column, pk)].add(agent_id)
    cached.update({key: frozenset(agents) for key, agents in found.items()})


async def _followers(activity: models.Activity, *, generic: bool = False) -> set[int]:
    """Followers of the activity's ticket, contact and account (and, `generic`, of the record
    it names by subject_type/subject_id). The activities of one transaction (a ticket, its
    thread, attachments) share them: each is read once."""
    keys = [
        (column, pk)
        for column in _FOLLOWED
        if (pk := getattr(activity, column)) is not None  # type: ignore[misc]
    ]
    cached = _followers_memo()
    if cached is None:
        cached = {}
    await _read_into(cached, keys)
    found: set[int] = set().union(*(cached[key] for key in keys))
    if generic:
        key = (activity.subject_type, activity.subject_id)
        if key not in cached:
            cached[key] = frozenset(
                await models.Follow.filter(
                    subject_type=activity.subject_type, subject_id=activity.subject_id
                ).values_list("agent_id", flat=True)
            )
        found |= cached[key]
    return found


# Plain SQL: a ticket with 10,000 followers made the ORM build IN lists of 10,000 values
# twice per activity (bench/fanout_procs.py), which cost more than the queries.
_ACTIVE_SQL = "SELECT id, role FROM agent WHERE is_active AND id {match}"
_MEMBERS_SQL = (
    "SELECT agent_id FROM department_membership WHERE department_id = %d AND agent_id {match}"
)


async def _who_may_see(agent_ids: Iterable[int], department_id: int | None) -> set[int]:
    """The active agents among these who may see a record of the department (None: any)."""
    ids = list(agent_ids)
    if not ids:
        return set()
    rows = await batch.rows_matching(_ACTIVE_SQL, ids)
    if department_id is None:
        return {pk for pk, _ in rows}
    sql = _MEMBERS_SQL % int(department_id)  # an integer: nothing to escape
    members = {agent_id for (agent_id,) in await batch.rows_matching(sql, ids)}
    return {pk for pk, role in rows if role == Role.ADMINISTRATOR or pk in members}


async def auto_follow_assignee(activity: models.Activity, ticket: models.Ticket | None) -> None:
    """A ticket's assignee agent follows it from the moment of assignment (they may unfollow)."""
    if ticket is None or activity.kind not in ("ticket.created", "ticket.updated"):
        return
    if activity.kind == "ticket.created":
        agent_id = ticket.assignee_agent_id  # type: ignore[attr-defined]
    else:
        agent_id = _new_value(activity.changes or {}, "assignee_agent_id")
    if not isinstance(agent_id, int):
        return
    if await _who_may_see([agent_id], ticket.department_id):  # type: ignore[attr-defined]
        await models.Follow.bulk_create(
            [models.Follow(agent_id=agent_id, ticket_id=ticket.id)], ignore_conflicts=True
        )
        forget_followers()


def _generic_subject(activity: models.Activity) -> bool:
    """Whether the activity is about a registered record type followed through the generic
    subject columns (an article; not a ticket, contact or account)."""
    from deskql.services import records  # the registry loads the services that register types

    found = records.find(activity.subject_type)
    return found is not None and found.generic_follow


# Records that belong to one department even without a ticket (tasks, events, calls): their
# notifications go only to agents who may see that department (ORG-5).
DEPARTMENT_RECORDS = frozenset({"Task", "Event", "Call"})


async def notify(
    actor: Actor | None,
    *,
    activity: models.Activity,
    ticket: models.Ticket | None = None,
    owners: Iterable[int] = (),
    direct: dict[int, NotificationReason] | None = None,
) -> list[Written]:
    """Write the Notification rows an Activity produces (inside its transaction); `direct`
    names agents told for a reason of the record itself (a task's owner, a reminder)."""
    if _quiet.get():
        return []
    if activity.kind in ADMIN_KINDS:
        return await _notify_admins(activity)
    if activity.ticket_id is not None and ticket is None:
        ticket = await models.Ticket.filter(id=activity.ticket_id).first()
    await auto_follow_assignee(activity, ticket)
    mentioned = await _record_mentions(activity)
    if ticket is not None and ticket.is_spam:
        return []
    generic = activity.ticket_id is None and _generic_subject(activity)
    linked = (activity.ticket_id, activity.contact_id, activity.account_id)
    if all(pk is None for pk in linked) and not generic and not direct:
        return []
    reasons = _Reasons()
    for pk, reason in (direct or {}).items():
        reasons.offer([pk], reason)
    reasons.offer(await _followers(activity, generic=generic), NotificationReason.FOLLOWING)
    reasons.offer(owners, NotificationReason.OWNER)
    reasons.offer(await _assignees(activity, ticket), NotificationReason.ASSIGNED)
    reasons.offer(mentioned, NotificationReason.MENTIONED)
    if actor is not None:
        reasons.pop(actor.agent_id, None)
    # Ticket records belong to a department, and so do registered record types that name one
    # (articles) and tasks, events and calls; contacts and accounts are organisation-wide.
    scoped = (
        activity.ticket_id is not None or generic or activity.subject_type in DEPARTMENT_RECORDS
    )
    department_id = activity.department_id if scoped else None
    allowed = await _who_may_see(reasons, department_id)
    return await _write(
        activity,
        reasons,
        allowed,
        ticket_id=activity.ticket_id,
        contact_id=activity.contact_id,
        account_id=activity.account_id,
    )


async def _notify_admins(activity: models.Activity) -> list[Written]:
    """Every active administrator (but the one who acted) hears of an operational problem."""
    admins = await models.Agent.filter(role=Role.ADMINISTRATOR, is_active=True).values_list(
        "id", flat=True
    )
    reasons = _Reasons()
    actor_id = activity.actor_id  # type: ignore[attr-defined]
    reasons.offer([pk for pk in admins if pk != actor_id], NotificationReason.ADMINISTRATOR)
    return await _write(activity, reasons, set(reasons), ticket_id=None)


class _Reasons(dict[int, NotificationReason]):
    """Agent -> the strongest reason to notify them (MENTIONED, then ASSIGNED, FOLLOWING)."""

    def offer(self, agent_ids: Iterable[int], reason: NotificationReason) -> None:
        for pk in agent_ids:
            if PRIORITY[reason] > PRIORITY.get(self.get(pk), 0):  # type: ignore[arg-type]
                self[pk] = reason


# PostgreSQL: one INSERT ... SELECT FROM unnest(...) that returns the ids, no model per row (a
# ticket with 10,000 followers built 10,000 per activity, a tenth of the process's CPU).
_INSERT_PG = (
    "INSERT INTO notification"
    " (agent_id, activity_id, reason, ticket_id, contact_id, account_id, created_at)"
    " SELECT t.agent_id, $2::bigint, t.reason, $4::int, $5::int, $6::int, $7::timestamptz"
    " FROM unnest($1::int[], $3::varchar[]) AS t(agent_id, reason) ORDER BY t.agent_id"
    " RETURNING id, agent_id"
)


async def _write(
    activity: models.Activity,
    reasons: _Reasons,
    allowed: set[int],
    *,
    ticket_id: int | None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> list[Written]:
    agents = sorted(allowed)
    if not agents:
        return []
    conn = get_connection("default")  # the transaction's, inside one
    if conn.capabilities.dialect == "postgres":
        reasons_of = [reasons[pk].value for pk in agents]
        values = [agents, activity.id, reasons_of, ticket_id, contact_id, account_id]
        # execute_query would run an INSERT without fetching what it RETURNS.
        inserted = await conn.execute_query_dict(_INSERT_PG, [*values, datetime.now(UTC)])
        return sorted(Written(row["id"], row["agent_id"], activity.id) for row in inserted)
    rows = [
        models.Notification(
            agent_id=pk,
            activity_id=activity.id,
            reason=reasons[pk],
            ticket_id=ticket_id,
            contact_id=contact_id,
            account_id=account_id,
        )
        for pk in agents
    ]
    await models.Notification.bulk_create(rows)
    # bulk_create does not return ids on every backend: read them back (one indexed query),
    # only what the envelopes need (10,000 model instances cost more than the query).
    written = (
        await models.Notification.filter(activity_id=activity.id)
        .order_by("id")
        .values_list(*Written._fields)
    )
    return [Written(*values) for values in written]


class Written(NamedTuple):
    """A notification just written: what its envelope names (realtime/envelopes.py)."""

    id: int
    agent_id: int
    activity_id: int


async def notify_run(
    actor: Actor | None,
    *,
    activity: models.Activity,
    ticket_ids: list[int],
    assigned_agent_ids: set[int],
    assigned_team_ids: set[int],
    mentioned_agent_ids: set[int],
    department_ids: list[int],
) -> list[Written]:
    """One notification per agent for a batch that touched many tickets (a macro run):
    followers of any of the (non-spam) tickets, their contacts or accounts, the agents
    assigned (or in teams assigned) and those mentioned; the highest reason wins. A
    notification points at the ticket only when the batch touched one."""
    live = await models.Ticket.filter(id__in=ticket_ids, is_spam=False).values_list(
        "id", "contact_id", "account_id"
    )
    if not live:
        return []
    query = Q(ticket_id__in=[row[0] for row in live])
    contacts = sorted({row[1] for row in live if row[1] is not None})
    accounts = sorted({row[2] for row in live if row[2] is not None})
    if contacts:
        query |= Q(contact_id__in=contacts)
    if accounts:
        query |= Q(account_id__in=accounts)
    reasons = _Reasons()
    reasons.offer(
        await models.Follow.filter(query).values_list("agent_id", flat=True),
        NotificationReason.FOLLOWING,
    )
    team_members: list[int] = []
    if assigned_team_ids:
        team_members = await models.TeamMembership.filter(
            team_id__in=list(assigned_team_ids)
        ).values_list("agent_id", flat=True)
    reasons.offer(set(assigned_agent_ids) | set(team_members), NotificationReason.ASSIGNED)
    reasons.offer(mentioned_agent_ids, NotificationReason.MENTIONED)
    if actor is not None:
        reasons.pop(actor.agent_id, None)
    allowed: set[int] = set()
    for department_id in department_ids:
        allowed |= await _who_may_see(reasons, department_id)
    one = ticket_ids[0] if len(ticket_ids) == 1 else None
    return await _write(activity, reasons, allowed, ticket_id=one)


def _for(actor: Actor) -> QuerySet[models.Notification]:
    qs = models.Notification.filter(agent_id=actor.agent_id)
    if actor.is_admin:
        return qs
    # Never show what the agent may no longer see: tickets since moved to (or departments
    # since left for) a department outside theirs. Deleted tickets' notifications stay.
    hidden = models.Ticket.exclude(department_id__in=list(actor.department_ids)).values("id")
    return qs.filter(Q(ticket_id__isnull=True) | ~Q(ticket_id__in=Subquery(hidden)))


def list_notifications(
    actor: Actor,
    *,
    unread_only: bool = False,
    before_id: int | None = None,
    newer_than_id: int | None = None,
) -> QuerySet[models.Notification]:
    """The actor's notifications, newest first (keyset on id: stable while new ones arrive)."""
    qs = _for(actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    if newer_than_id is not None:
        qs = qs.filter(id__gt=newer_than_id)
    return qs.order_by("-id")


async def notification_ids_after(actor: Actor, *, after_id: int, limit: int = 1000) -> list[int]:
    """Ids of the actor's notifications newer than an id, oldest first (catch-up, replay)."""
    query = _for(actor).filter(id__gt=after_id).order_by("id").limit(limit)
    return list(await query.values_list("id", flat=True))


async def get_notification(actor: Actor, *, notification_id: int) -> models.Notification | None:
    """One of the actor's notifications, or None."""
    return await _for(actor).filter(id=notification_id).first()


async def unread_count(actor: Actor) -> int:
    """How many of the actor's notifications are unread."""
    return await _for(actor).filter(read_at__isnull=True).count()


async def mark_read(actor: Actor, *, notification_ids: list[int]) -> list[models.Notification]:
    """Mark some of the actor's notifications read; ids that are not theirs are NOT_FOUND."""
    if not notification_ids:
        raise ValidationFailed.one("ids", "give at least one notification id", ErrorCode.REQUIRED)
    if len(notification_ids) > MAX_MARK_READ:
        raise ValidationFailed.one(
            "ids", f"at most {MAX_MARK_READ} ids at a time", ErrorCode.LIMIT_EXCEEDED
        )
    wanted = list(dict.fromkeys(notification_ids))
    rows = await _for(actor).filter(id__in=wanted)
    if len(rows) != len(wanted):
        found = {row.id for row in rows}
        missing = [pk for pk in wanted if pk not in found]
        raise ValidationFailed.one(
            "ids", f"no such notification ({len(missing)} of the ids)", ErrorCode.NOT_FOUND
        )
    now = datetime.now(UTC)
    await _for(actor).filter(id__in=wanted, read_at__isnull=True).update(read_at=now)
    return await _for(actor).filter(id__in=wanted).order_by("-id")


async def mark_all_read(actor: Actor, *, up_to_id: int | None = None) -> int:
    """Mark all the actor's unread notifications read (up to an id, if given); returns how many."""
    qs = _for(actor).filter(read_at__isnull=True)
    if up_to_id is not None:
        qs = qs.filter(id__lte=up_to_id)
    return await qs.update(read_at=datetime.now(UTC))
