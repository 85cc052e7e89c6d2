"""Look ahead at what a list query selects and load it for the whole page before the fields
resolve, so that relation fields answer from the loaders' caches without awaiting.

graphql-core spends more on awaiting thousands of small async field results than on the SQL
itself (bench/ticket_list.py's profile); a field that finds its value already loaded returns it
synchronously, and one that does not still gets an awaitable from its DataLoader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

K = TypeVar("K")
V = TypeVar("V")

Tree = dict[str, "Tree"]


def selection_tree(selections: Iterable[Selection]) -> Tree:
    """Field names selected (fragments merged, aliases ignored), as a nested dict."""
    tree: Tree = {}
    for sel in selections:
        if isinstance(sel, SelectedField):
            child = tree.setdefault(sel.name, {})
            _merge(child, selection_tree(sel.selections))
        elif isinstance(sel, InlineFragment | FragmentSpread):
            _merge(tree, selection_tree(sel.selections))
    return tree


def _merge(into: Tree, other: Tree) -> None:
    for key, sub in other.items():
        _merge(into.setdefault(key, {}), sub)


def node_selection(info: Any) -> Tree:
    """What a connection field's caller selects on each node (`edges.node` and `nodes`)."""
    tree = selection_tree(info.selected_fields)
    root = next(iter(tree.values()), {})
    nodes: Tree = {}
    _merge(nodes, root.get("edges", {}).get("node", {}))
    _merge(nodes, root.get("nodes", {}))
    return nodes


def peek(loader: DataLoader[K, V], key: K) -> V | Any:
    """The loaded value when the loader already holds it, else an awaitable for it."""
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled():
        if future.exception() is None:
            return future.result()
    return loader.load(key)


async def prime(loader: DataLoader[K, V], keys: Iterable[K | None]) -> list[V]:
    """Load these keys in one batch (None keys skipped); returns the values found."""
    wanted = list({k for k in keys if k is not None})
    if not wanted:
        return []
    return [v for v in await loader.load_many(wanted) if v is not None]


async def prime_tickets(loaders: Any, tickets: list[Any], sel: Tree) -> None:
    """Load the relations `sel` asks for on a page of tickets, level by level."""
    if not tickets or not sel:
        return
    first: dict[str, Any] = {}
    if "contact" in sel:
        first["contact"] = prime(loaders.contact, (t.contact_pk for t in tickets))
    if "account" in sel:
        first["account"] = prime(loaders.account, (t.account_pk for t in tickets))
    if "department" in sel:
        first["department"] = prime(loaders.department, (t.department_pk for t in tickets))
    if "product" in sel:
        first["product"] = prime(loaders.product, (t.product_pk for t in tickets))
    if "assignee" in sel:
        first["agents"] = prime(loaders.agent, (t.assignee_agent_pk for t in tickets))
        first["teams"] = prime(loaders.team, (t.assignee_team_pk for t in tickets))
    if "tags" in sel:
        first["tags"] = prime(loaders.tags_by_ticket, (t.pk for t in tickets))
    done = dict(zip(first, await asyncio.gather(*first.values()), strict=True))
    second = []
    contact_sel = sel.get("contact", {})
    if "account" in contact_sel:
        second.append(prime(loaders.account, (c.account_pk for c in done.get("contact", []))))
    if "owner" in contact_sel:
        second.append(prime(loaders.agent, (c.owner_pk for c in done.get("contact", []))))
    if second:
        await asyncio.gather(*second)
