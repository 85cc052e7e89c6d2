"""Duplicate contacts and accounts (CUS-5), found in SQL.

Each field compares a normalised key column written with the row (services.customer_keys):
a group is a key shared by two or more records, found with GROUP BY on the indexed column
(never by loading the records). Fields that look in two columns (EMAIL_OR_SECONDARY: an
address in either email field; PHONE: a number in either phone field) group the UNION ALL of
both columns and count distinct records. Groups are sorted by key and paginated by keyset on
the key (`k > ?`, or `k < ?` read backward; LIMIT/OFFSET only for offset cursors handed out
before); a group's members are paginated by keyset on their id, the page of every group of a
page in one statement (ROW_NUMBER() OVER (PARTITION BY key)).

Contacts and accounts are organisation-wide (services.policies), so every agent sees the same
groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.connection import get_connection

from deskql import models
from deskql.services.auth import Actor


class ContactField(StrEnum):
    """What contacts are compared by."""

    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    FULL_NAME = "FULL_NAME"
    EMAIL = "EMAIL"
    SECONDARY_EMAIL = "SECONDARY_EMAIL"
    EMAIL_OR_SECONDARY = "EMAIL_OR_SECONDARY"
    PHONE = "PHONE"


class AccountField(StrEnum):
    """What accounts are compared by."""

    NAME = "NAME"
    EMAIL = "EMAIL"
    PHONE = "PHONE"


# field -> the key columns it looks in
CONTACT_COLUMNS: dict[ContactField, tuple[str, ...]] = {
    ContactField.FIRST_NAME: ("first_name_key",),
    ContactField.LAST_NAME: ("last_name_key",),
    ContactField.FULL_NAME: ("full_name_key",),
    ContactField.EMAIL: ("email_key",),
    ContactField.SECONDARY_EMAIL: ("secondary_email_key",),
    ContactField.EMAIL_OR_SECONDARY: ("email_key", "secondary_email_key"),
    ContactField.PHONE: ("phone_key", "mobile_key"),
}
ACCOUNT_COLUMNS: dict[AccountField, tuple[str, ...]] = {
    AccountField.NAME: ("name_key",),
    AccountField.EMAIL: ("email_key",),
    AccountField.PHONE: ("phone_key",),
}


@dataclass(frozen=True)
class Group:
    """A key shared by `count` records."""

    kind: str  # "contact" or "account"
    field: str
    key: str
    count: int


def _keys_source(table: str, columns: Sequence[str]) -> str:
    """SQL rows (id, k) of every non-empty key of the columns."""
    return " UNION ALL ".join(
        f"SELECT id, {column} AS k FROM {table} WHERE {column} <> ''" for column in columns
    )


def _placeholders(sql: str) -> str:
    """`?` placeholders as the connected database wants them ($1.. on PostgreSQL)."""
    if get_connection("default").capabilities.dialect != "postgres":
        return sql
    parts = sql.split("?")
    return "".join(
        part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, start=1)
    )


async def _rows(sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    _, rows = await get_connection("default").execute_query(_placeholders(sql), list(params))
    return [dict(row) for row in rows]


def _spec(kind: str, field: str) -> tuple[str, tuple[str, ...]]:
    if kind == "contact":
        return "contact", CONTACT_COLUMNS[ContactField(field)]
    return "account", ACCOUNT_COLUMNS[AccountField(field)]


def _grouped(table: str, columns: Sequence[str]) -> str:
    if len(columns) == 1:
        column = columns[0]
        return (
            f"SELECT {column} AS k, COUNT(*) AS n FROM {table} WHERE {column} <> '' "
            f"GROUP BY {column} HAVING COUNT(*) > 1"
        )
    return (
        f"SELECT k, COUNT(DISTINCT id) AS n FROM ({_keys_source(table, columns)}) u "
        "GROUP BY k HAVING COUNT(DISTINCT id) > 1"
    )


@dataclass(frozen=True)
class Window:
    """Where a page lies in a list sorted by one value (a group's key, a member's id): past
    `after` and short of `before` (exclusive; None: open), `limit` rows, read from the end when
    `backward`, from `offset` (an offset cursor's position; forward only)."""

    limit: int
    after: Any = None
    before: Any = None
    backward: bool = False
    offset: int = 0

    def bounds(self, column: str) -> tuple[str, list[Any]]:
        """SQL conditions on the column (` AND ...`) and their parameters."""
        sql, params = "", []
        if self.after is not None:
            sql, params = f" AND {column} > ?", [self.after]
        if self.before is not None:
            sql, params = f"{sql} AND {column} < ?", [*params, self.before]
        return sql, params

    def order(self) -> str:
        """The direction the window is read in."""
        return "DESC" if self.backward else "ASC"


async def groups(actor: Actor, *, kind: str, field: str, window: Window) -> list[Group]:
    """A page of duplicate groups by key (kind: "contact" or "account"), in key order."""
    table, columns = _spec(kind, field)
    where, params = window.bounds("k")
    sql = (
        f"SELECT k, n FROM ({_grouped(table, columns)}) g WHERE 1 = 1{where} "
        f"ORDER BY k {window.order()} LIMIT ? OFFSET ?"
    )
    rows = await _rows(sql, (*params, window.limit, window.offset))
    found = [Group(kind, field, row["k"], int(row["n"])) for row in rows]
    return found[::-1] if window.backward else found


async def count_groups(actor: Actor, *, kind: str, field: str) -> int:
    """How many duplicate groups there are."""
    table, columns = _spec(kind, field)
    rows = await _rows(f"SELECT COUNT(*) AS c FROM ({_grouped(table, columns)}) g")
    return int(rows[0]["c"])


async def member_ids(
    *, kind: str, field: str, keys: Sequence[str], window: Window
) -> dict[str, list[int]]:
    """The ids of each group's members in the window (at most `limit` each, by id), in one
    statement for all the keys."""
    if not keys:
        return {}
    table, columns = _spec(kind, field)
    marks = ", ".join("?" for _ in keys)
    where, bounds = window.bounds("id")
    source = " UNION ".join(
        f"SELECT id, {column} AS k FROM {table} WHERE {column} IN ({marks}){where}"
        for column in columns
    )
    sql = (
        "SELECT id, k FROM (SELECT id, k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY id "
        f"{window.order()}) AS rn FROM ({source}) s) r WHERE rn > ? AND rn <= ? ORDER BY k, id"
    )
    params = [*keys, *bounds] * len(columns) + [window.offset, window.offset + window.limit]
    found: dict[str, list[int]] = defaultdict(list)
    for row in await _rows(sql, params):
        found[row["k"]].append(int(row["id"]))
    return found


async def members(
    *, kind: str, field: str, keys: Sequence[str], window: Window
) -> dict[str, list[Any]]:
    """Like member_ids, with the rows (two statements for all the keys)."""
    ids = await member_ids(kind=kind, field=field, keys=keys, window=window)
    model = models.Contact if kind == "contact" else models.Account
    wanted = sorted({pk for group in ids.values() for pk in group})
    rows = {row.id: row for row in await model.filter(id__in=wanted)} if wanted else {}
    return {key: [rows[pk] for pk in group if pk in rows] for key, group in ids.items()}
