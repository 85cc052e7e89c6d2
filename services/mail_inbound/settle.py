"""Processing stored messages one or many at a time: outcomes written, conflicts retried."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from deskql import models
from deskql.channels.email.parse import (
    ParsedMail,
)
from deskql.models.enums import InboundStatus
from deskql.services import threads, uow
from deskql.services.errors import ValidationFailed
from deskql.services.mail_inbound.parsing import Parsed, _parse
from deskql.services.mail_inbound.process import Outcome, _duplicate, _process, _read_ahead
from deskql.services.mail_inbound.store import log
from deskql.services.tickets import (
    give_back_numbers,
    take_numbers_ahead,
)
from deskql.settings import Settings

# Called after a message is processed and its transaction committed (and so after the
# real-time envelopes of its Activity rows went out through services.uow): for tests and
# benchmarks. Never called for spam, which notifies nobody.
Observer = Callable[[dict[str, Any]], Awaitable[None]]


async def process_message(
    settings: Settings,
    *,
    inbound_id: int,
    on_processed: Observer | None = None,
    row: models.InboundMessage | None = None,
    parsing: Awaitable[Parsed] | None = None,
) -> models.InboundMessage:
    """Turn a stored message into a ticket or thread; failures leave it FAILED with a reason.

    Duplicates are decided by the database, not by this process: the thread's unique
    `inbound_key` (sha256 of the Message-ID) makes a second delivery's transaction fail with
    IntegrityError, which rolls back all it wrote (ticket, thread, history), and the message
    is recorded IGNORED with the thread that has it, even when two `deskql smtp` processes
    take the same message at once.
    """
    if row is None or row.id != inbound_id:  # `row`: the one store_message just wrote
        row = await models.InboundMessage.get(id=inbound_id)
    mail = await _parse(settings, row, parsing)
    outcome = await _settle(settings, row, mail)
    await _observe(on_processed, row, outcome)
    return row


async def process_messages(
    settings: Settings,
    *,
    items: list[tuple[int, models.InboundMessage | None]],
    on_processed: Observer | None = None,
    parsing: dict[int, Awaitable[Parsed]] | None = None,
) -> list[models.InboundMessage]:
    """Process several stored messages with one commit (a group commit), each with the outcome
    `process_message` would give it; (inbound id, row or None). `parsing`: parses already
    under way (`parse_stored`), by inbound id.

    The group is first written without savepoints (two round trips fewer per nested block);
    when one of its messages raises, that transaction rolls back and the group is written
    again with a savepoint per message, so one bad message never fails the others. The events
    of all go out after the commit. If the transaction fails as a whole (the database went
    away), nothing of it stays and each message is processed on its own.
    """
    parsing = parsing or {}
    if len(items) < 2:
        return [
            await process_message(
                settings, inbound_id=pk, on_processed=on_processed, row=row, parsing=parsing.get(pk)
            )
            for pk, row in items
        ]
    missing = [pk for pk, row in items if row is None or row.id != pk]
    loaded = (
        {r.id: r for r in await models.InboundMessage.filter(id__in=missing)} if missing else {}
    )
    rows = [
        loaded[pk] if row is None or row.id != pk else row
        for pk, row in items
        if pk in loaded or (row is not None and row.id == pk)
    ]
    mails = await asyncio.gather(*(_parse(settings, row, parsing.get(row.id)) for row in rows))
    parsed = list(zip(rows, mails, strict=True))
    try:
        try:
            outcomes = await _settle_all(settings, parsed)
        except (_Unsettled, uow.NestedFailed) as exc:  # rolled back: again, with savepoints
            log.debug(
                "a group of %d inbound messages goes again with savepoints: %s", len(rows), exc
            )
            async with uow.transaction():
                await _read_ahead(parsed)
                outcomes = [
                    await _settle(settings, row, mail, grouped=True) for row, mail in parsed
                ]
    except Exception as exc:
        if isinstance(exc, GroupAborted):  # another transaction needs what this group locked
            log.info("a group of %d inbound messages rolled back: %s", len(rows), exc)
        else:
            log.exception("a group of %d inbound messages failed; each on its own", len(rows))
        return [
            await process_message(settings, inbound_id=row.id, on_processed=on_processed)
            for row in rows
        ]
    for row, outcome in zip(rows, outcomes, strict=True):
        await _observe(on_processed, row, outcome)
    return rows


class _Unsettled(Exception):
    """A message of a group written without savepoints raised: the group goes again."""


async def _settle_all(
    settings: Settings, parsed: list[tuple[models.InboundMessage, Parsed]]
) -> list[Outcome]:
    """Write a group in one transaction without savepoints, the outcomes of all with one
    statement; raises _Unsettled (rolled back) when a message raises, GroupAborted on a
    deadlock or serialization failure."""
    outcomes: list[Outcome] = []
    async with uow.transaction(savepoints=False):
        await _read_ahead(parsed)
        take_numbers_ahead(len(parsed))  # at most one new ticket a message
        for row, mail in parsed:
            if isinstance(mail, Exception):
                raise _Unsettled(f"message {row.id} could not be read or parsed")
            try:
                outcomes.append(await _process(settings, row, mail))
            except Exception as exc:
                if _lock_conflict(exc):
                    raise GroupAborted(str(exc)) from exc
                raise _Unsettled(f"message {row.id}: {type(exc).__name__}: {exc}") from exc
        await give_back_numbers()
        values = [
            _outcome_values(outcome, row.attempts + 1)
            for (row, _), outcome in zip(parsed, outcomes, strict=True)
        ]
        await _write_outcomes([row.id for row, _ in parsed], values)
    for (row, _), row_values in zip(parsed, values, strict=True):  # committed: keep in step
        for key, value in row_values.items():
            setattr(row, key, value)
    return outcomes


class GroupAborted(Exception):
    """A deadlock or serialization failure inside a group: the group must roll back whole
    (its earlier messages hold the locks the other transaction waits for)."""


def _lock_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure (SQLSTATE class 40): safe to run again."""
    seen: BaseException | None = exc
    while seen is not None:
        if str(getattr(seen, "sqlstate", "") or "").startswith("40"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _settle(
    settings: Settings,
    row: models.InboundMessage,
    mail: ParsedMail | Exception,
    *,
    grouped: bool = False,
) -> Outcome:
    """Process one parsed message and write its outcome: in its own transaction, or in a
    savepoint of the caller's (`grouped`: a group commit)."""
    attempts = row.attempts + 1
    try:
        if isinstance(mail, Exception):
            raise mail
        for attempt in (1, 2):
            try:
                # One transaction: the ticket or thread, their history and the message's new
                # status commit together (and on PostgreSQL on one connection).
                async with uow.transaction():
                    outcome = await _process(settings, row, mail)
                    await _finish(row, outcome, attempts)
                return outcome
            except IntegrityError:
                twin = await threads.find_by_inbound_key(threads.inbound_key(mail.message_id))
                if twin is not None:  # the same message made a thread first: a duplicate
                    outcome = _duplicate(mail, twin)
                    await _finish(row, outcome, attempts)
                    return outcome
                # A concurrent delivery created the same contact or tag first: once more.
                if attempt == 2:
                    raise
            except Exception as exc:
                if not _lock_conflict(exc):
                    raise
                if grouped:
                    raise GroupAborted(str(exc)) from exc
                if attempt == 2:  # PostgreSQL chose this transaction as a deadlock's victim
                    raise
        raise AssertionError("unreachable")
    except GroupAborted:
        raise
    except ValidationFailed as exc:
        outcome = Outcome(InboundStatus.FAILED, f"refused: {exc}")
    except Exception as exc:  # kept FAILED for an administrator to see and reprocess
        log.exception("processing inbound message %s failed", row.id)
        outcome = Outcome(InboundStatus.FAILED, f"processing failed: {type(exc).__name__}: {exc}")
    await _finish(row, outcome, attempts)
    return outcome


async def _observe(
    on_processed: Observer | None, row: models.InboundMessage, outcome: Outcome
) -> None:
    if on_processed is None:
        return
    for event in outcome.events:
        try:
            await on_processed(event | {"inboundMessageId": row.id})
        except Exception:  # an observer's failure changes nothing that was committed
            log.exception("observer of %s failed", event.get("type"))


async def _write_outcomes(ids: list[int], values: list[dict[str, Any]]) -> None:
    """Write outcomes on their inbound rows: one UPDATE run for each row with executemany (in
    one round trip on PostgreSQL, where asyncpg pipelines it)."""
    meta = models.InboundMessage._meta
    db = meta.db
    names = list(values[0])
    marks = (
        [f"${i}" for i in range(1, len(names) + 2)]
        if db.capabilities.dialect == "postgres"
        else ["?"] * (len(names) + 1)
    )
    columns = ", ".join(
        f'"{meta.fields_db_projection[name]}" = {mark}'
        for name, mark in zip(names, marks, strict=False)
    )
    await db.execute_many(
        f'UPDATE "{meta.db_table}" SET {columns} WHERE "id" = {marks[-1]}',
        [
            [meta.fields_map[name].to_db_value(row_values[name], None) for name in names] + [pk]
            for pk, row_values in zip(ids, values, strict=True)
        ],
    )


def _outcome_values(outcome: Outcome, attempts: int) -> dict[str, Any]:
    """The columns of the inbound row an outcome sets."""
    return {
        "status": outcome.status,
        "reason": outcome.reason[:10_000],
        "spam_score": outcome.spam_score,
        "ticket_id": outcome.ticket.id if outcome.ticket else None,
        "thread_id": outcome.thread.id if outcome.thread else None,
        "attempts": attempts,
        "processed_at": datetime.now(UTC),
    }


async def _finish(row: models.InboundMessage, outcome: Outcome, attempts: int) -> None:
    """Write the outcome on the inbound row (and keep the row object in step)."""
    values = _outcome_values(outcome, attempts)
    await models.InboundMessage.filter(id=row.id).update(**values)
    for key, value in values.items():
        setattr(row, key, value)
