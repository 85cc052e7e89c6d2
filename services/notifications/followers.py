"""The followers of the records an activity names (its ticket, contact, account, or a record
of another registered type), read once per transaction and kept in its memo (services.uow)."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import Q

from deskql import models
from deskql.services import uow

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
