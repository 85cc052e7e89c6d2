"""Search resolvers: decode the arguments, call services.search, build the objects."""

from __future__ import annotations

import re
from typing import Any

import strawberry

from deskql import models
from deskql.resolvers import search_paging as paging
from deskql.resolvers.nodes import _types as node_types
from deskql.resolvers.nodes import nodes as load_nodes
from deskql.schema.connections import Edge, check_first, edges_page_info
from deskql.schema.context import actor_of
from deskql.schema.cursors import cursor_key
from deskql.schema.ids import decode_id, to_global_id
from deskql.schema.page_request import PageRequest
from deskql.schema.search_types import (
    SearchConnection,
    SearchCriterion,
    SearchFacet,
    SearchFacetField,
    SearchFacetInput,
    SearchFacetValue,
    SearchHit,
    SearchLetter,
    SearchModule,
    SearchModuleCount,
)
from deskql.services.search import criteria as crit
from deskql.services.search import facets as facet_rules
from deskql.services.search import query as svc
from deskql.services.search import statement

NODE_TYPES = {
    "ticket": "Ticket",
    "contact": "Contact",
    "account": "Account",
    "product": "Product",
    "task": "Task",
    "article": "Article",
}
SUGGEST_MAX = 20
LABELS: dict[str, tuple[Any, Any]] = {
    "Department": (models.Department, lambda r: r.name),
    "Agent": (models.Agent, lambda r: f"{r.first_name} {r.last_name}".strip()),
    "Account": (models.Account, lambda r: r.name),
}


# What a hit's `node` may select and still be answered from its id alone.
ID_ONLY = frozenset({"id", "__typename"})
# Where the hits' nodes are selected: search's edges and nodes, searchSuggest's list.
NODE_PATHS = (("edges", "node", "node"), ("nodes", "node"), ("node",))


def _at(selections: list[Any], path: tuple[str, ...]) -> list[list[Any]]:
    """The sub-selections of the fields at `path` (fragments looked through)."""
    found: list[list[Any]] = []
    for sel in selections:
        if hasattr(sel, "type_condition") or getattr(sel, "name", None) is None:
            found += _at(getattr(sel, "selections", []), path)
        elif sel.name == path[0]:
            found += _at(sel.selections, path[1:]) if path[1:] else [sel.selections]
    return found


def _ids_only(info: strawberry.Info) -> bool:
    """Whether the query selects nothing of the hits' nodes but `id` and `__typename`."""
    for field in info.selected_fields:
        for path in NODE_PATHS:
            for selections in _at(field.selections, path):
                if not _selected(selections) <= ID_ONLY:
                    return False
    return True


def _node_classes() -> dict[str, type]:
    from deskql.schema import kb_types, types
    from deskql.schema.activities import types as activity_types

    return {
        "Ticket": types.Ticket,
        "Contact": types.Contact,
        "Account": types.Account,
        "Product": types.Product,
        "Task": activity_types.Task,
        "Article": kb_types.Article,
    }


_PLACEHOLDER = re.compile(r"\$(\d+)")


async def _visible_ids(actor: Any, wanted: dict[str, list[int]]) -> set[tuple[str, int]]:
    """(type, id) of the records among `wanted` (ids by Node type) the actor may see: each
    type's `nodes` visibility query, all of them in one statement (UNION ALL)."""
    parts: list[str] = []
    params: list[Any] = []
    db: Any = None
    for type_name, pks in wanted.items():
        rows = node_types()[type_name][0]
        ids = rows(actor).filter(id__in=pks).values_list("id", flat=True)
        if len(wanted) == 1:
            return {(type_name, pk) for pk in await ids}
        ids._choose_db_if_not_chosen()
        ids._make_query()
        ids.query._orderbys = []  # the order of the ids does not matter here
        sql, part_params = ids.query.get_parameterized_sql()
        db = ids._db
        if db.capabilities.dialect == "postgres":
            # Each part numbers its parameters from $1: shift them past the earlier parts'.
            shift = len(params) + 1
            sql = _PLACEHOLDER.sub(lambda m, s=shift: f"${int(m.group(1)) + s}", sql)
            parts.append(f"SELECT ${shift}::text AS t, x.* FROM ({sql}) AS x")
        else:
            parts.append(f"SELECT ? AS t, x.* FROM ({sql}) AS x")
        params.extend([type_name, *part_params])
    if not parts:
        return set()
    _, records = await db.execute_query(" UNION ALL ".join(parts), params)
    return {(r[0], int(r[1])) for r in records}


async def _id_nodes(info: strawberry.Info, gids: list[str], hits: list[svc.Hit]) -> list[Any]:
    """Nodes that carry only their id (all the query reads of them), for the records the
    actor may see (the same visibility check as `nodes`, reading ids instead of rows)."""
    actor = actor_of(info)
    classes = _node_classes()
    wanted: dict[str, list[int]] = {}
    for h in hits:
        wanted.setdefault(NODE_TYPES[h.module], []).append(h.object_id)
    visible = await _visible_ids(actor, wanted)
    out: list[Any] = []
    for gid, h in zip(gids, hits, strict=True):
        type_name = NODE_TYPES[h.module]
        if (type_name, h.object_id) not in visible:
            out.append(None)
            continue
        obj = object.__new__(classes[type_name])  # only `id` is ever read of it
        obj.id = strawberry.ID(gid)
        out.append(obj)
    return out


async def _pairs(info: strawberry.Info, hits: list[svc.Hit]) -> list[tuple[SearchHit, svc.Hit]]:
    """The hits as GraphQL objects (with the service's hit), their nodes loaded per type (and
    access checked again; a hit whose node the actor may not see is dropped); nodes of which
    only the id is selected are not read, only checked."""
    gids = [to_global_id(NODE_TYPES[h.module], h.object_id) for h in hits]
    if not gids:
        objects: list[Any] = []
    elif _ids_only(info):
        objects = await _id_nodes(info, gids, hits)
    else:
        objects = await load_nodes(info, gids)
    return [
        (
            SearchHit(
                module=SearchModule(h.module),
                node=obj,
                score=h.score,
                title=h.title,
                snippet=h.snippet,
            ),
            h,
        )
        for h, obj in zip(hits, objects, strict=True)
        if obj is not None
    ]


async def _hits(info: strawberry.Info, hits: list[svc.Hit]) -> list[SearchHit]:
    """The hits as GraphQL objects (see _pairs)."""
    return [hit for hit, _ in await _pairs(info, hits)]


async def search(
    info: strawberry.Info,
    *,
    query: str,
    modules: list[SearchModule] | None,
    facets: list[SearchFacetInput] | None,
    criteria: list[SearchCriterion] | None,
    letter: str | None,
    include_spam: bool,
    first: int | None,
    after: str | None,
) -> SearchConnection:
    """`search`: a page by keyset (`first`/`after`, `last`/`before`), or by position for
    offset cursors handed out before."""
    actor = actor_of(info)
    request = PageRequest.of(info, first, after)
    size = request.size()
    chosen: dict[str, list[str]] = {}
    for f in facets or []:
        chosen.setdefault(f.field.value, []).extend(f.values)
    module_names = [m.value for m in modules] if modules else None
    criteria_list = [
        crit.Criterion(c.module.value, c.field, c.operator, list(c.values)) for c in criteria or []
    ]
    plan = await svc.plan(
        actor,
        query=query,
        modules=module_names,
        chosen_facets=chosen,
        criteria=criteria_list,
        letter=letter,
        include_spam=include_spam,
        decode_id=decode_id,
    )
    searched = [
        query,
        sorted(module_names or []),
        {k: sorted(v) for k, v in chosen.items()},
        [[c.module, c.field, str(c.op), c.values] for c in criteria_list],
        letter,
        include_spam,
    ]
    key = cursor_key(info.context.settings)
    sort = paging.sort_key(statement.kind_of(plan), searched)
    where = paging.plan_slice(request, size, key, sort, plan.pg)
    want = _wanted_counts(info)
    hits, more = await svc.page(
        plan,
        offset=where.offset,
        limit=where.limit,
        want=want,
        window=where.window,
    )
    has_next, has_previous = paging.page_flags(request, where, more)
    edges: list[Edge[SearchHit]] = [
        paging.signed_edge(obj, h.position, key, sort) for obj, h in await _pairs(info, hits)
    ]

    async def counts() -> tuple[int, list[SearchModuleCount], list[SearchFacet]]:
        found = await svc.counts(plan, statement.FACETS if want == statement.NONE else want)
        return (
            found.total,
            [SearchModuleCount(module=SearchModule(m), count=c) for m, c in found.modules.items()],
            await _facets(found.facets, labels=_labels_wanted(info)),
        )

    return SearchConnection(
        edges=edges,
        page_info=edges_page_info(edges, has_next=has_next, has_previous=has_previous),
        load_counts=counts,
        handles_backward=True,
    )


def _selected(selections: list[Any]) -> set[str]:
    """Names of the fields selected, through fragments."""
    names: set[str] = set()
    for sel in selections:
        name = getattr(sel, "name", None)
        if name is not None and not hasattr(sel, "type_condition"):
            names.add(name)
        else:
            names |= _selected(getattr(sel, "selections", []))
    return names


def _wanted_counts(info: strawberry.Info) -> str:
    """What the query asks to count: nothing, totals, or facets too (read by page())."""
    names: set[str] = set()
    for field in info.selected_fields:
        names |= _selected(field.selections)
    if "facets" in names:
        return statement.FACETS
    if names & {"totalCount", "moduleCounts"}:
        return statement.TOTALS
    return statement.NONE


def _labels_wanted(info: strawberry.Info) -> bool:
    """Whether the query selects a facet value's `label` (the id-valued facets' labels are
    read from their records only then)."""
    for field in info.selected_fields:
        for selections in _at(field.selections, ("facets", "values")):
            if "label" in _selected(selections):
                return True
    return False


async def _facets(
    found: dict[str, list[tuple[str, int]]], *, labels: bool = True
) -> list[SearchFacet]:
    """Facets with global ids, and labels for the id-valued ones when `labels` (else each
    value is its own label, never read: the query does not select it)."""
    out = []
    for name, values in found.items():
        facet = facet_rules.FACETS[name]
        labels_of: dict[str, str] = {}
        if facet.id_type and labels:
            model, label = LABELS[facet.id_type]
            rows = await model.filter(id__in=[int(v) for v, _ in values])
            labels_of = {str(r.id): label(r) for r in rows}
        out.append(
            SearchFacet(
                field=SearchFacetField(name),
                values=[
                    SearchFacetValue(
                        value=to_global_id(facet.id_type, int(v)) if facet.id_type else v,
                        label=labels_of.get(v, v),
                        count=c,
                    )
                    for v, c in values
                ],
            )
        )
    return out


async def search_suggest(
    info: strawberry.Info, *, prefix: str, modules: list[SearchModule] | None, first: int | None
) -> list[SearchHit]:
    """`searchSuggest`."""
    actor = actor_of(info)
    size = check_first(10 if first is None else first, SUGGEST_MAX)
    hits = await svc.suggest(
        actor,
        prefix=prefix,
        modules=[m.value for m in modules] if modules else None,
        first=size,
    )
    return await _hits(info, hits)


async def letters(info: strawberry.Info, module: str) -> list[SearchLetter]:
    """`contactLetters` / `accountLetters`."""
    found = await svc.letters(actor_of(info), module)
    return [SearchLetter(letter=letter, count=count) for letter, count in found]
