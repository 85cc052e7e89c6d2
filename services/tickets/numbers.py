"""Ticket numbers: taken from the counter one at a time or reserved ahead for a batch."""

from __future__ import annotations

from dataclasses import dataclass

from deskql import models
from deskql.services import uow

NUMBERS_MEMO = "tickets.numbers"


@dataclass
class _Numbers:
    """Ticket numbers a transaction takes for several tickets at once (`take_numbers_ahead`)."""

    wanted: int
    next: int = 1
    last: int = 0  # next > last: none left


def take_numbers_ahead(count: int) -> None:
    """Let the first ticket this transaction creates take `count` numbers with one statement,
    for the tickets after it (a group of inbound messages); `give_back_numbers` before the
    commit returns those not used. Only in a transaction without savepoints (uow): a savepoint
    rolled back would undo the statement but not what is remembered of it."""
    memo = uow.memo()
    if memo is not None and uow.without_savepoints() and count > 1:
        memo[NUMBERS_MEMO] = _Numbers(count)


async def give_back_numbers() -> None:
    """Return the numbers taken ahead that no ticket used. The organisation row stays locked
    from the statement that took them to the commit, so nobody took a number since and the
    sequence ends at the last number used, as if each ticket had taken its own."""
    memo = uow.memo()
    block = memo.pop(NUMBERS_MEMO, None) if memo is not None else None
    if block is not None and block.next <= block.last:
        await _advance_numbers(-(block.last - block.next + 1))


async def _advance_numbers(by: int) -> int:
    # The UPDATE takes the organisation row's lock until commit, so numbers never repeat; its
    # RETURNING reads the new value in the same statement (PostgreSQL, SQLite >= 3.35).
    meta = models.Organisation._meta
    rows = await meta.db.execute_query_dict(
        f'UPDATE "{meta.db_table}" SET "ticket_seq" = "ticket_seq" + {int(by)} '
        'RETURNING "ticket_seq"'
    )
    if not rows:
        raise RuntimeError("no organisation: run `deskql migrate` to create it")
    return int(rows[0]["ticket_seq"])


async def _next_number() -> int:
    memo = uow.memo()
    block: _Numbers | None = memo.get(NUMBERS_MEMO) if memo is not None else None
    if block is None:
        return await _advance_numbers(1)
    if block.next > block.last and block.wanted:  # the first ticket: take them all
        block.last = await _advance_numbers(block.wanted)
        block.next, block.wanted = block.last - block.wanted + 1, 0
    if block.next > block.last:  # more tickets than announced: one at a time again
        return await _advance_numbers(1)
    block.next += 1
    return block.next - 1
