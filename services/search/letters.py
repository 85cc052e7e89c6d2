"""The alphabetical letters of contacts and accounts (SRC-4), each with how many records
start with it."""

from __future__ import annotations

from deskql.services.auth import Actor
from deskql.services.search import engine
from deskql.services.search.common import InvalidSearch, _access
from deskql.services.search.index import ACCOUNT, CONTACT
from deskql.services.search.text import fold

LATIN = [chr(c) for c in range(ord("A"), ord("Z") + 1)]


async def letters(actor: Actor, module: str) -> list[tuple[str, int]]:
    """SRC-4: each first letter of the module's names with how many records have it: A–Z
    always (zero when empty), every other letter that occurs (Ł, Ś, Ż, ...), and `#`."""
    if module not in (CONTACT, ACCOUNT):
        raise InvalidSearch("letters exist for contacts and accounts")
    pg = engine.is_postgres()
    access, params = _access(actor, True, pg)
    rows = await engine.connection().execute_query_dict(
        engine.sql(
            "SELECT d.letter AS letter, COUNT(*) AS n FROM search_doc d "
            f"WHERE d.module = ? AND {' AND '.join(access) or '1=1'} GROUP BY d.letter",
            pg,
        ),
        [module, *params],
    )
    found = {r["letter"]: int(r["n"]) for r in rows}
    keys = set(LATIN) | set(found) | {"#"}
    ordered = sorted((k for k in keys if k != "#"), key=lambda k: (fold(k), k)) + ["#"]
    return [(k, found.get(k, 0)) for k in ordered]
