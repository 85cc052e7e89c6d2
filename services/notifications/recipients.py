"""Who an activity tells, and why: the reasons and their priority, the agents a comment
mentions (its Mention rows), the assignees, the active agents who may see the record, and the
assignee's auto-follow."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

from deskql import models
from deskql.models.enums import NotificationReason, Role
from deskql.realtime import batch
from deskql.services.notifications.followers import forget_followers

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
# Records that belong to one department even without a ticket (tasks, events, calls): their
# notifications go only to agents who may see that department (ORG-5).
DEPARTMENT_RECORDS = frozenset({"Task", "Event", "Call"})


class _Reasons(dict[int, NotificationReason]):
    """Agent -> the strongest reason to notify them (MENTIONED, then ASSIGNED, FOLLOWING)."""

    def offer(self, agent_ids: Iterable[int], reason: NotificationReason) -> None:
        for pk in agent_ids:
            if PRIORITY[reason] > PRIORITY.get(self.get(pk), 0):  # type: ignore[arg-type]
                self[pk] = reason


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
