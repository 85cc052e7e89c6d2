"""bench/peer_data.py: DeskQL's half of the peer benchmark's query is valid against the schema,
and the field mapping between DeskQL's and PostGraphile's answers finds equal pages equal and
any difference different."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema, parse, validate

from deskql.schema.ids import to_global_id

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import peer_data  # noqa: E402


def _pages() -> tuple[dict[str, Any], dict[str, Any]]:
    ours = [
        {
            "id": to_global_id("Ticket", 7),
            "number": 7,
            "subject": "Printer on fire",
            "status": "OPEN",
            "priority": "URGENT",
            "channel": "EMAIL",
            "isSpam": False,
            "createdAt": "2026-12-01T10:00:00+00:00",
            "updatedAt": "2026-12-01T10:05:00.250000+00:00",
            "contact": {"name": "Melissa Doe"},
            "assignee": {"__typename": "Team", "name": "Printers"},
        },
        {
            "id": to_global_id("Ticket", 5),
            "number": 5,
            "subject": "Refund",
            "status": "CLOSED",
            "priority": "LOW",
            "channel": "WEB",
            "isSpam": False,
            "createdAt": "2026-11-30T09:00:00+00:00",
            "updatedAt": "2026-11-30T09:00:00+00:00",
            "contact": None,
            "assignee": {"__typename": "Agent", "name": "Alice Smith"},
        },
    ]
    theirs = [
        {
            "id": 7,
            "number": 7,
            "subject": "Printer on fire",
            "status": "OPEN",
            "priority": 4,
            "channel": "EMAIL",
            "isSpam": False,
            # PostgreSQL's text form of a timestamptz in another session time zone.
            "createdAt": "2026-12-01T11:00:00+01:00",
            "updatedAt": "2026-12-01T10:05:00.25+00:00",
            "contact": {"firstName": "Melissa", "lastName": "Doe"},
            "assigneeAgent": None,
            "assigneeTeam": {"name": "Printers"},
        },
        {
            "id": 5,
            "number": 5,
            "subject": "Refund",
            "status": "CLOSED",
            "priority": 1,
            "channel": "WEB",
            "isSpam": False,
            "createdAt": "2026-11-30T09:00:00+00:00",
            "updatedAt": "2026-11-30T09:00:00+00:00",
            "contact": None,
            "assigneeAgent": {"firstName": "Alice", "lastName": "Smith"},
            "assigneeTeam": None,
        },
    ]
    return (
        {"data": {"tickets": {"edges": [{"node": n} for n in ours]}}},
        {"data": {"tickets": {"edges": [{"node": n} for n in theirs]}}},
    )


def _dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def test_deskql_query_is_valid_against_the_schema() -> None:
    schema = build_schema((BENCH.parent / "schema.graphql").read_text(encoding="utf-8"))
    for document in (peer_data.DESKQL_QUERY % 50, peer_data.TYPENAME_QUERY):
        assert validate(schema, parse(document)) == []
    parse(peer_data.PEER_QUERY % 50)  # PostGraphile's schema is not here: it must parse


def test_the_same_tickets_map_to_the_same_rows() -> None:
    ours, theirs = _pages()
    rows = peer_data.check_same(_dump(ours), _dump(theirs), 2)
    assert [r["id"] for r in rows] == [7, 5]
    assert rows[0]["assignee"] == ("Team", "Printers")
    assert rows[1]["assignee"] == ("Agent", "Alice Smith")
    assert rows[1]["contact"] is None


@pytest.mark.parametrize(
    ("index", "field", "value"),
    [
        (0, "priority", 3),
        (0, "assigneeTeam", None),
        (1, "assigneeAgent", {"firstName": "Bob", "lastName": "Smith"}),
        (0, "contact", {"firstName": "Melissa", "lastName": "Dow"}),
        (1, "updatedAt", "2026-11-30T09:00:00.000001+00:00"),
        (1, "id", 6),
    ],
)
def test_a_difference_stops_the_benchmark(index: int, field: str, value: Any) -> None:
    ours, theirs = _pages()
    changed = copy.deepcopy(theirs)
    changed["data"]["tickets"]["edges"][index]["node"][field] = value
    with pytest.raises(SystemExit, match="THE SERVERS DIFFER"):
        peer_data.check_same(_dump(ours), _dump(changed), 2)


def test_a_short_page_or_errors_stop_the_benchmark() -> None:
    ours, theirs = _pages()
    with pytest.raises(SystemExit, match="pages of 2 and 2 tickets, not 3"):
        peer_data.check_same(_dump(ours), _dump(theirs), 3)
    with pytest.raises(SystemExit, match="PostGraphile answered with errors"):
        peer_data.check_same(_dump(ours), _dump({"errors": [{"message": "no"}]}), 2)
