"""Process-wide batching of the reads every subscriber makes for the same event.

One event wakes many subscribers of this process in the same loop iteration, and each re-reads
its rows and re-checks its access (DESIGN rule 2). Done one by one that is several queries per
subscriber per event; these loaders gather the keys all subscribers ask for in one iteration
and read them in one query each. They never cache: every event reads fresh rows.

They are not strawberry's DataLoader. Its batch cancels its dispatch task when every caller
waiting on it is cancelled; if that happens before the task first runs, the batch stays
"not dispatched" forever and every later `load` joins it and waits forever. A process-wide
loader outlives its callers (subscribers disconnect mid-read all the time), so here a read,
once started, runs to the end whoever still waits for it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tortoise.connection import get_connection
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from deskql import models
from deskql.models.enums import NotificationReason, Role
from deskql.services.auth import Actor

MAX_BATCH = 5000


class Batcher:
    """Gathers the keys asked for in one loop iteration and loads them with one call of `fn`
    (in chunks of MAX_BATCH); a caller that is cancelled only stops waiting."""

    def __init__(
        self, fn: Callable[[list[Any]], Awaitable[Sequence[Any]]], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.pending: list[tuple[Any, asyncio.Future[Any]]] = []
        self.running: set[asyncio.Task[None]] = set()

    def load(self, key: Any) -> asyncio.Future[Any]:
        """A future for the value of `key`, read with the other keys of this iteration."""
        future = self.loop.create_future()
        if not self.pending:
            self.loop.call_soon(self._start)
        self.pending.append((key, future))
        return future

    def _start(self) -> None:
        batch, self.pending = self.pending, []
        for start in range(0, len(batch), MAX_BATCH):
            task = self.loop.create_task(self._run(batch[start : start + MAX_BATCH]))
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    async def _run(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        waiting = [(key, future) for key, future in batch if not future.done()]
        if not waiting:
            return
        try:
            values = list(await self.fn([key for key, _ in waiting]))
            if len(values) != len(waiting):
                raise RuntimeError(f"loaded {len(values)} values for {len(waiting)} keys")
        except Exception as exc:  # noqa: BLE001 - every waiter gets the failure
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # the loop is shutting down: nobody may wait forever
            for _, future in waiting:
                future.cancel()
            raise
        for (_, future), value in zip(waiting, values, strict=True):
            if not future.done():
                future.set_result(value)


_loaders: dict[tuple[int, str], Batcher] = {}


def _shared(name: str, fn: Callable[[list[Any]], Awaitable[Sequence[Any]]]) -> Batcher:
    loop = asyncio.get_running_loop()
    key = (id(loop), name)
    loader = _loaders.get(key)
    if loader is None or loader.loop is not loop:
        loader = _loaders[key] = Batcher(fn, loop)
    return loader


def _digest(token: str) -> str:
    # The same digest services.auth stores (sha256 hex of the token).
    return hashlib.sha256(token.encode()).hexdigest()


# Plain SQL, not the ORM: one event re-checks every subscriber's token (5,000 per process in
# bench/fanout_procs.py), and building the IN list of that many values through Tortoise and
# pypika cost more than the query (about a fifth of a process's CPU per event).
_TOKENS_SQL = (
    "SELECT t.token_hash, t.id, t.agent_id, t.revoked_at, t.expires_at, a.is_active, a.role"
    " FROM api_token t JOIN agent a ON a.id = t.agent_id WHERE t.token_hash {match}"
)
_MEMBERSHIPS_SQL = (
    "SELECT agent_id, department_id FROM department_membership WHERE agent_id {match}"
)
SQLITE_CHUNK = 500  # values per IN (...) on SQLite (its limit is 32,766 on recent builds)


async def rows_matching(sql: str, keys: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql` whose `{match}` column is one of `keys` (= ANY($1) on PostgreSQL, IN
    lists of SQLITE_CHUNK values on SQLite), in plain SQL: no ORM query building."""
    if not keys:
        return []
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        _, rows = await conn.execute_query(sql.format(match="= ANY($1)"), [keys])
        return [tuple(row) for row in rows]
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), SQLITE_CHUNK):
        chunk = keys[start : start + SQLITE_CHUNK]
        match = f"IN ({','.join('?' * len(chunk))})"
        _, rows = await conn.execute_query(sql.format(match=match), chunk)
        out.extend(tuple(row) for row in rows)
    return out


def _datetime(value: Any) -> datetime | None:
    # PostgreSQL hands back datetimes; SQLite the text Tortoise stored.
    if value is None or isinstance(value, datetime):
        return value
    return _aware(datetime.fromisoformat(value))


async def load_actors(tokens: list[str]) -> list[Actor | str]:
    """Like services.auth.authenticate for many tokens at once: an Actor, or why not."""
    digests = {token: _digest(token) for token in tokens}
    rows = {row[0]: row for row in await rows_matching(_TOKENS_SQL, list(set(digests.values())))}
    agent_ids = list({row[2] for row in rows.values()})
    departments: dict[int, set[int]] = {pk: set() for pk in agent_ids}
    for agent_id, department_id in await rows_matching(_MEMBERSHIPS_SQL, agent_ids):
        departments[agent_id].add(department_id)
    now = datetime.now(UTC)
    scopes: dict[int, frozenset[int]] = {}
    out: list[Actor | str] = []
    for token in tokens:
        row = rows.get(digests[token])
        if row is None:
            out.append("invalid token")
            continue
        _, token_id, agent_id, revoked_at, expires_at, is_active, role = row
        expires = _datetime(expires_at)
        if revoked_at is not None:
            out.append("this token has been revoked")
        elif expires is not None and _aware(expires) <= now:
            out.append("this token has expired; log in again")
        elif not is_active:
            out.append("this agent is deactivated")
        else:
            scope = scopes.get(agent_id)
            if scope is None:
                scope = scopes[agent_id] = frozenset(departments[agent_id])
            out.append(Actor(agent_id, Role(role), scope, token_id))
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def actor(token: str) -> Actor | str:
    """The Actor of a token as the database says now, or the reason it is refused."""
    return await _shared("actor", load_actors).load(token)


def _by_id(model: type[Any]) -> Callable[[list[int]], Awaitable[list[Any]]]:
    async def load(keys: list[int]) -> list[Any]:
        rows = {row.id: row for row in await model.filter(id__in=list(set(keys)))}
        return [rows.get(k) for k in keys]

    return load


class NotificationRow(NamedTuple):
    """The columns of a notification row a subscription delivers (plain values: a thousand
    model instances per event cost more than the query)."""

    id: int
    agent_id: int
    activity_id: int
    ticket_id: int | None
    contact_id: int | None
    account_id: int | None
    reason: NotificationReason
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A notification as its agent's subscription delivers it: the row, its activity, its
    ticket (None: none, or deleted) and the agent's unread count, all read after it arrived."""

    row: NotificationRow
    activity: models.Activity | None
    ticket: models.Ticket | None
    unread: int


async def _deliveries(keys: list[tuple[int, Actor]]) -> list[Delivery | None]:
    rows = {
        values[0]: NotificationRow(*values)
        for values in await models.Notification.filter(
            id__in=list({pk for pk, _ in keys})
        ).values_list(*NotificationRow._fields)
    }
    # Usually one activity and one ticket for the thousand notifications of one event.
    activity_ids = list({row.activity_id for row in rows.values()})
    ticket_ids = list({row.ticket_id for row in rows.values() if row.ticket_id is not None})
    scope_of = [_unread_key(actor) for _, actor in keys]
    scopes = list(set(scope_of))
    activities, tickets, unread = await asyncio.gather(
        _by_id(models.Activity)(activity_ids),
        _by_id(models.Ticket)(ticket_ids),
        _unread(scopes),
    )
    activity_of = dict(zip(activity_ids, activities, strict=True))
    ticket_of = dict(zip(ticket_ids, tickets, strict=True))
    unread_of = dict(zip(scopes, unread, strict=True))
    out: list[Delivery | None] = []
    for (pk, actor), scope in zip(keys, scope_of, strict=True):
        row = rows.get(pk)
        if row is None or row.agent_id != actor.agent_id:
            out.append(None)  # gone, or not this agent's
            continue
        ticket = ticket_of.get(row.ticket_id) if row.ticket_id is not None else None
        out.append(Delivery(row, activity_of.get(row.activity_id), ticket, unread_of[scope]))
    return out


async def delivery(pk: int, actor: Actor) -> Delivery | None:
    """One of the actor's notifications with all it is delivered with, read fresh; every
    subscriber woken by an event is served by the same four queries. None: not theirs."""
    return await _shared("delivery", _deliveries).load((pk, actor))


async def ticket(pk: int) -> models.Ticket | None:
    """A ticket row, read fresh."""
    return await _shared("ticket", _by_id(models.Ticket)).load(pk)


async def activity(pk: int) -> models.Activity | None:
    """An activity row (immutable once written)."""
    return await _shared("activity", _by_id(models.Activity)).load(pk)


async def _unread(keys: list[tuple[int, bool, tuple[int, ...]]]) -> list[int]:
    # One query per distinct access (admin or a set of departments), usually a handful, with
    # the same hiding rule as services.notifications: tickets the agent may no longer see.
    groups: dict[tuple[bool, tuple[int, ...]], set[int]] = {}
    for agent_id, is_admin, departments in keys:
        groups.setdefault((is_admin, departments), set()).add(agent_id)
    counts: dict[tuple[int, bool, tuple[int, ...]], int] = {}
    for (is_admin, departments), agent_ids in groups.items():
        qs = models.Notification.filter(agent_id__in=list(agent_ids), read_at__isnull=True)
        if not is_admin:
            hidden = models.Ticket.exclude(department_id__in=list(departments)).values("id")
            qs = qs.filter(Q(ticket_id__isnull=True) | ~Q(ticket_id__in=Subquery(hidden)))
        rows = await qs.group_by("agent_id").annotate(n=Count("id")).values_list("agent_id", "n")
        for agent_id, n in rows:
            counts[(agent_id, is_admin, departments)] = n
    return [counts.get(key, 0) for key in keys]


def _unread_key(actor: Actor) -> tuple[int, bool, tuple[int, ...]]:
    return (actor.agent_id, actor.is_admin, tuple(sorted(actor.department_ids)))
