"""`search`, `searchSuggest`, `contactLetters`/`accountLetters` over GraphQL: what an agent
of another department never sees (not even as a count), facets, criteria, and bad input."""

from __future__ import annotations

import json
from typing import Any

import httpx

from deskql import models
from deskql.resolvers import search as search_resolvers
from deskql.services import customers, tickets
from tests.conftest import GQLClient, GQLResult, gid
from tests.readpath.test_lean import readpath_of
from tests.search.conftest import Desk

SEARCH = """
query($q: String!, $m: [SearchModule!], $f: [SearchFacetInput!], $c: [SearchCriterion!],
      $letter: String, $spam: Boolean! = false, $first: Int, $after: String) {
  search(query: $q, modules: $m, facets: $f, criteria: $c, letter: $letter,
         includeSpam: $spam, first: $first, after: $after) {
    totalCount
    moduleCounts { module count }
    facets { field values { value label count } }
    pageInfo { hasNextPage endCursor }
    edges { cursor node { module score title snippet node { id __typename } } }
  }
}"""


async def raw(gql: GQLClient, token: str, query: str, variables: dict[str, Any]) -> GQLResult:
    """Post with ASCII-escaped JSON: lone surrogates travel as \\ud800 escapes."""
    resp = await gql.http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return GQLResult(resp.status_code, resp.json())


async def run(gql: GQLClient, token: str, q: str, **variables: Any) -> dict[str, Any]:
    result = await gql.as_(token)(SEARCH, {"q": q, **variables})
    return result.data["search"]


def ids(page: dict[str, Any]) -> list[str]:
    return [e["node"]["node"]["id"] for e in page["edges"]]


def facet(page: dict[str, Any], name: str) -> dict[str, int]:
    for f in page["facets"]:
        if f["field"] == name:
            return {v["value"]: v["count"] for v in f["values"]}
    return {}


async def test_search_hits_with_snippets_and_nodes(gql: GQLClient, desk: Desk) -> None:
    page = await run(gql, desk.world.alice_token, "zolty")
    assert ids(page) == [gid("Ticket", desk.yellow.id)]
    hit = page["edges"][0]["node"]
    assert hit["module"] == "TICKETS" and hit["node"]["__typename"] == "Ticket"
    assert "<mark>żółty</mark>" in hit["snippet"]
    assert hit["title"] == "Rower nie działa" and hit["score"] > 0
    assert page["totalCount"] == 1
    assert page["moduleCounts"] == [{"module": "TICKETS", "count": 1}]
    page = await run(gql, desk.world.alice_token, "工单")
    assert ids(page) == [gid("Ticket", desk.chinese.id)]


async def test_another_department_sees_nothing_not_even_counts(gql: GQLClient, desk: Desk) -> None:
    # "discount" is only in the Sales ticket; Alice (Support) gets no hit, no count, no facet.
    page = await run(gql, desk.world.alice_token, "discount")
    assert page["edges"] == [] and page["totalCount"] == 0 and page["facets"] == []
    page = await run(
        gql, desk.world.alice_token, "zolty", f=[{"field": "STATUS", "values": ["ON_HOLD"]}]
    )
    assert page["totalCount"] == 0
    assert facet(page, "STATUS") == {"OPEN": 1}
    sugg = await gql.as_(desk.world.alice_token)(
        '{ searchSuggest(prefix: "disc") { node { id } } }'
    )
    assert sugg.data["searchSuggest"] == []
    page = await run(gql, desk.world.bob_token, "discount")
    assert ids(page) == [gid("Ticket", desk.sales.id)]


async def test_spam_only_when_asked(gql: GQLClient, desk: Desk) -> None:
    assert ids(await run(gql, desk.world.alice_token, "watches")) == []
    page = await run(gql, desk.world.alice_token, "watches", spam=True)
    assert ids(page) == [gid("Ticket", desk.spam.id)]


async def test_facets_narrow_and_count(gql: GQLClient, desk: Desk) -> None:
    admin = desk.world.admin_token
    page = await run(gql, admin, "zolty")
    assert facet(page, "STATUS") == {"OPEN": 1, "ON_HOLD": 1}
    assert facet(page, "DEPARTMENT") == {
        gid("Department", desk.world.support.id): 1,
        gid("Department", desk.world.sales.id): 1,
    }
    labels = {v["label"] for f in page["facets"] if f["field"] == "DEPARTMENT" for v in f["values"]}
    assert labels == {"Support", "Sales"}
    assert facet(page, "TAG") == {"rower": 1}
    narrowed = await run(
        gql,
        admin,
        "zolty",
        f=[{"field": "DEPARTMENT", "values": [gid("Department", desk.world.sales.id)]}],
    )
    assert ids(narrowed) == [gid("Ticket", desk.sales.id)]
    assert narrowed["totalCount"] == 1
    assert facet(narrowed, "STATUS") == {"ON_HOLD": 1}
    assert facet(narrowed, "DEPARTMENT") == {
        gid("Department", desk.world.support.id): 1,
        gid("Department", desk.world.sales.id): 1,
    }
    tagged = await run(gql, admin, "zolty", f=[{"field": "TAG", "values": ["rower"]}])
    assert ids(tagged) == [gid("Ticket", desk.yellow.id)]


async def test_contact_facets(gql: GQLClient, desk: Desk) -> None:
    account = await customers.create_account(desk.admin, name="Żabka sp. z o.o.")
    c = await customers.create_contact(
        desk.admin, first_name="Melchior", last_name="Nowak", account_id=account.id
    )
    page = await run(gql, desk.world.admin_token, "melchior")
    assert ids(page) == [gid("Contact", c.id)]
    assert facet(page, "ACCOUNT") == {gid("Account", account.id): 1}
    assert not facet(page, "STATUS")


async def test_advanced_criteria(gql: GQLClient, desk: Desk) -> None:
    admin = desk.world.admin_token
    crit = [
        {"module": "TICKETS", "field": "priority", "operator": "IN", "values": ["HIGH", "URGENT"]},
        {"module": "TICKETS", "field": "createdAt", "operator": "AFTER", "values": ["2000-01-01"]},
    ]
    page = await run(gql, admin, "", c=crit)
    assert ids(page) == [gid("Ticket", desk.yellow.id)]
    page = await run(gql, admin, "zolty", c=crit)
    assert ids(page) == [gid("Ticket", desk.yellow.id)]
    page = await run(
        gql,
        admin,
        "",
        c=[
            {
                "module": "CONTACTS",
                "field": "lastName",
                "operator": "STARTS_WITH",
                "values": ["łuk"],
            }
        ],
    )
    assert ids(page) == [gid("Contact", desk.melissa.id)]
    page = await run(
        gql,
        admin,
        "",
        c=[
            {"module": "TICKETS", "field": "dueAt", "operator": "IS_EMPTY"},
            {"module": "TICKETS", "field": "subject", "operator": "CONTAINS", "values": ["%"]},
        ],
    )
    assert page["edges"] == []
    bad = await gql.as_(admin)(
        SEARCH,
        {
            "q": "",
            "c": [{"module": "TICKETS", "field": "secret", "operator": "IN", "values": ["x"]}],
        },
    )
    assert bad.error_codes() == ["INVALID_CRITERION"]
    bad = await gql.as_(admin)(
        SEARCH,
        {
            "q": "",
            "c": [
                {"module": "TICKETS", "field": "status", "operator": "CONTAINS", "values": ["x"]}
            ],
        },
    )
    assert bad.error_codes() == ["INVALID_CRITERION"]


async def test_suggest_and_letters(gql: GQLClient, desk: Desk) -> None:
    await customers.create_account(desk.admin, name="Śnieżka")
    await customers.create_account(desk.admin, name="3M Polska")
    await tickets.create_ticket(
        desk.alice,
        subject="Ice melting in the server room",
        department_id=desk.world.support.id,
        contact_email="ice@example.com",
    )
    result = await gql.as_(desk.world.alice_token)(
        '{ searchSuggest(prefix: "mel") { module title snippet node { id } } }'
    )
    titles = [h["title"] for h in result.data["searchSuggest"]]
    assert sorted(titles) == ["Ice melting in the server room", "Melissa Łukasiewicz"]
    result = await gql.as_(desk.world.alice_token)(
        "{ contactLetters { letter count } accountLetters { letter count } }"
    )
    contacts = {x["letter"]: x["count"] for x in result.data["contactLetters"]}
    accounts = [(x["letter"], x["count"]) for x in result.data["accountLetters"]]
    assert contacts["M"] == 1 and contacts["A"] == 0
    assert ("Ś", 1) in accounts and ("#", 1) in accounts and ("S", 0) in accounts
    letters = [x[0] for x in accounts]
    assert letters.index("S") < letters.index("Ś") < letters.index("T")
    page = await run(gql, desk.world.alice_token, "", letter="Ś")
    assert [e["node"]["title"] for e in page["edges"]] == ["Śnieżka"]
    page = await run(gql, desk.world.alice_token, "", letter="#")
    assert [e["node"]["title"] for e in page["edges"]] == ["3M Polska"]


async def test_ticket_number_and_pagination(gql: GQLClient, desk: Desk) -> None:
    admin = desk.world.admin_token
    page = await run(gql, admin, f"#{desk.sales.number}")
    assert ids(page) == [gid("Ticket", desk.sales.id)] and page["totalCount"] == 1
    page = await run(gql, admin, f"#{desk.chinese.number} zolty", first=2)
    assert ids(page)[0] == gid("Ticket", desk.chinese.id)
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = await run(
        gql, admin, f"#{desk.chinese.number} zolty", first=2, after=page["pageInfo"]["endCursor"]
    )
    assert len(rest["edges"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    assert set(ids(page)[1:] + ids(rest)) == {
        gid("Ticket", desk.yellow.id),
        gid("Ticket", desk.sales.id),
    }


async def test_bad_input(gql: GQLClient, desk: Desk) -> None:
    token = desk.world.alice_token
    for q in ["", "   \t\n"]:
        result = await gql.as_(token)(SEARCH, {"q": q})
        assert result.status == 200 and result.error_codes() == ["INVALID_SEARCH"]
    result = await gql.as_(token)(SEARCH, {"q": "żółty " * 2000})
    assert result.error_codes() == ["INVALID_SEARCH"]
    await tickets.add_comment(
        desk.alice, ticket_id=desk.chinese.id, body="NEAR the door: (do not) OR 'never' - x*"
    )
    for q in [
        '"',
        "*",
        "NEAR",
        "near(",
        ":",
        "(",
        "-",
        "OR",
        "'",
        "x*",
        '"unclosed phrase',
        "a:b",
        "NEAR(door",
        "-never",
        "%",
        "_",
        "%_%",
        "\x00",
        "\ud800",
        "zolty\x00",
    ]:
        result = await raw(gql, token, SEARCH, {"q": q})
        assert result.status == 200, q
        # A lone surrogate is refused before anything runs, for every field (issue 17).
        allowed = (["BAD_USER_INPUT"],) if "\ud800" in q else ([], ["INVALID_SEARCH"])
        assert result.error_codes() in allowed, (q, result.errors)
    assert ids(await run(gql, token, "NEAR(door")) == [gid("Ticket", desk.chinese.id)]
    assert ids(await run(gql, token, "'never'")) == [gid("Ticket", desk.chinese.id)]
    # Only wildcards: no word to look for (a clear error, not a LIKE that matches everything).
    assert (await gql.as_(token)(SEARCH, {"q": "%_%"})).error_codes() == ["INVALID_SEARCH"]
    assert ids(await run(gql, token, "zolty%")) == [gid("Ticket", desk.yellow.id)]
    assert ids(await run(gql, token, "zolty\x00")) == [gid("Ticket", desk.yellow.id)]
    result = await gql.as_(token)(SEARCH, {"q": "zolty", "m": ["NOPE"]})
    assert result.status == 200 and result.errors and result.error_codes() != [None]
    result = await gql.as_(token)(
        SEARCH, {"q": "zolty", "f": [{"field": "STATUS", "values": ["NOPE"]}]}
    )
    assert result.error_codes() == ["INVALID_FACET"]
    page = await run(gql, token, "zolty", f=[{"field": "TAG", "values": ["nosuchtag"]}])
    assert page["edges"] == [] and page["totalCount"] == 0
    page = await run(
        gql, token, "zolty", f=[{"field": "DEPARTMENT", "values": [gid("Department", 9999)]}]
    )
    assert page["edges"] == []
    result = await gql.as_(token)(
        SEARCH, {"q": "zolty", "f": [{"field": "DEPARTMENT", "values": ["garbage"]}]}
    )
    assert result.status == 200 and result.errors
    result = await gql.as_(token)(SEARCH, {"q": "zolty", "first": 101})
    assert result.error_codes() == ["BAD_PAGINATION"]
    result = await gql.as_(token)('{ searchSuggest(prefix: "mel", first: 21) { title } }')
    assert result.error_codes() == ["BAD_PAGINATION"]
    result = await gql.as_(token)(SEARCH, {"q": "zolty", "letter": "AB"})
    assert result.error_codes() == ["INVALID_SEARCH"]
    result = await raw(
        gql, token, "query($p: String!) { searchSuggest(prefix: $p) { title } }", {"p": "\ud800"}
    )
    assert result.error_codes() == ["BAD_USER_INPUT"]
    for prefix in ["", " ", "\x00", "*", '"', "m"]:
        result = await raw(
            gql, token, "query($p: String!) { searchSuggest(prefix: $p) { title } }", {"p": prefix}
        )
        assert result.status == 200 and result.data["searchSuggest"] == []


async def test_search_and_suggestions_run_on_the_lean_executor(
    gql: GQLClient, http: httpx.AsyncClient, desk: Desk
) -> None:
    """`search` (hits, counts, facets) and `searchSuggest` are answered by the read path's
    lean executor (the suite's readpath_verify compares each answer with the full
    executor's, byte for byte)."""
    path = readpath_of(http)
    before = path.answered
    page = await run(gql, desk.world.alice_token, "zolty")
    assert ids(page) == [gid("Ticket", desk.yellow.id)] and page["facets"]
    query = "query($p: String!) { searchSuggest(prefix: $p) { module title node { id } } }"
    res = await gql.as_(desk.world.alice_token)(query, {"p": "mel"})
    assert res.errors == [] and res.data["searchSuggest"]
    assert path.answered == before + 2, path.fallbacks


async def test_hit_nodes_are_checked_again_when_only_ids_are_selected(
    gql: GQLClient, desk: Desk
) -> None:
    """Nodes of which only `id` is selected are not read, but their access is still checked
    as `nodes` checks it: a hit the index still shows (here the ticket moved to Sales behind
    the index's back) is left out whatever the node selects."""
    alice = desk.world.alice_token
    shape = (
        "query($q: String!) {{ search(query: $q) {{ totalCount "
        "edges {{ node {{ node {{ {} }} }} }} }} }}"
    )
    selections = ("id", "__typename id", "id ... on Ticket { subject }")
    for sel in selections:
        res = await gql.as_(alice)(shape.format(sel), {"q": "zolty"})
        assert res.errors == [], res.errors
        assert [e["node"]["node"]["id"] for e in res.data["search"]["edges"]] == [
            gid("Ticket", desk.yellow.id)
        ]
    await models.Ticket.filter(id=desk.yellow.id).update(department_id=desk.world.sales.id)
    for sel in selections:
        res = await gql.as_(alice)(shape.format(sel), {"q": "zolty"})
        assert res.errors == [], res.errors
        assert res.data["search"]["edges"] == [], sel
    suggest = "query($p: String!) { searchSuggest(prefix: $p) { node { id } } }"
    res = await gql.as_(alice)(suggest, {"p": "rower"})
    assert res.errors == [] and res.data["searchSuggest"] == []


class _Recording:
    """A model whose `filter` calls are noted (the facet labels' reads)."""

    def __init__(self, model: Any, name: str, read: list[str]) -> None:
        self.model, self.name, self.read = model, name, read

    def filter(self, **kwargs: Any) -> Any:
        self.read.append(self.name)
        return self.model.filter(**kwargs)


async def test_facet_labels_are_read_only_when_selected(
    gql: GQLClient, desk: Desk, monkeypatch: Any
) -> None:
    """The id-valued facets' labels (department and agent names) are read from their records
    only when the query selects `label`, through fragments and aliases too; the values and
    counts are the same either way."""
    read: list[str] = []
    labels = {
        name: (_Recording(model, name, read), fn)
        for name, (model, fn) in search_resolvers.LABELS.items()
    }
    monkeypatch.setattr(search_resolvers, "LABELS", labels)
    admin = desk.world.admin_token
    bare = await gql.as_(admin)(
        'query { search(query: "zolty") { facets { field values { value count } } } }'
    )
    assert bare.errors == [] and read == []
    full = await run(gql, admin, "zolty")
    assert "Department" in read
    assert [
        {
            "field": f["field"],
            "values": [{"value": v["value"], "count": v["count"]} for v in f["values"]],
        }
        for f in full["facets"]
    ] == bare.data["search"]["facets"]
    read.clear()
    aliased = await gql.as_(admin)(
        'query { search(query: "zolty") { facets { field ...V } } } '
        "fragment V on SearchFacet { values { v: value name: label } }"
    )
    names = {
        v["name"]
        for f in aliased.data["search"]["facets"]
        if f["field"] == "DEPARTMENT"
        for v in f["values"]
    }
    assert names == {"Support", "Sales"} and "Department" in read
