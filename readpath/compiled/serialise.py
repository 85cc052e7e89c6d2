"""Serialising: rows of a plan's type into response objects, relations a level at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql.pyutils import Path
from orjson import Fragment
from strawberry.dataloader import DataLoader

from deskql.readpath.compiled import reads
from deskql.readpath.compiled.emit import emitter
from deskql.readpath.compiled.plan import (
    JOINED,
    LOADED,
    RELATION,
    NodePlan,
    Planner,
)
from deskql.readpath.compiled.specs import NotCompiled, Row


class Compiler(Planner):
    """Plans root lists and serialises their rows (one per lean execution)."""

    async def serialise(
        self, plan: NodePlan, rows: Sequence[Row], path: Path | None = None
    ) -> list[dict[str, Any]]:
        """The response objects of rows of the plan's type (relations read a level at a time)."""
        if rows and reads.JSON in rows[0].__dict__:
            return _written(rows)
        objects: Sequence[Any] = rows if plan.direct else [plan.spec.build(row) for row in rows]
        emit, inline = emitter(plan)
        resolved: list[dict[str, Any]] = []
        if plan.lean:
            lists = self._children(plan, objects)
            resolved = await self.lean.objects(plan.object_type, objects, plan.lean, path, lists)
        related: dict[str, list[Any]] = {}
        for step in plan.steps:
            if step[0] == RELATION:
                related[step[1]] = await self._related(plan, objects, step[2], path)
            elif step[0] == JOINED and step[1] not in inline:
                related[step[1]] = await self._joined(plan, objects, rows, step[2], path)
            elif step[0] == LOADED:
                loader = getattr(self.ex.context_value.loaders, step[2])
                pk = plan.read["pk"]
                lists = await _load_page(loader, [pk(obj) for obj in objects])
                related[step[1]] = [[step[3](item) for item in items] for items in lists]
        return emit(objects, rows, related, resolved)

    def _children(self, plan: NodePlan, objects: Sequence[Any]) -> dict[str, reads.Children]:
        """For each lean field listing a loader's rows, how its resolvers get them as rows of
        the columns its nodes' plans need (one statement for the whole level)."""
        if not plan.children:
            return {}
        pk = plan.read["pk"]
        keys = [pk(obj) for obj in objects]
        loaders = self.ex.context_value.loaders
        found = {}
        for key, (name, nodes) in plan.children.items():
            page = nodes.page()
            self.lean.pages.append(page)
            found[key] = reads.Children(page, getattr(loaders, name), keys)
        return found

    async def _joined(
        self,
        owner: NodePlan,
        objects: Sequence[Any],
        rows: Sequence[Row],
        targets: list[tuple[str, str, NodePlan]],
        path: Path | None,
    ) -> list[dict[str, Any] | None]:
        """The related object of each object from the columns joined into its row (the first
        target whose key is set decides; a row that is gone joins as nulls: null)."""
        values: list[dict[str, Any] | None] = [None] * len(objects)
        keys = [(target, owner.read[target[0]]) for target in targets]
        chosen = [next((t for t, key in keys if key(o) is not None), None) for o in objects]
        for target in targets:
            _, prefix, plan = target
            key = prefix + "id"
            picked = [
                i
                for i, c in enumerate(chosen)
                if c is target and rows[i].__dict__.get(key) is not None
            ]
            if not picked:
                continue
            pairs = [(c, prefix + c) for c in plan.columns]
            make = plan.spec.row
            found = []
            for i in picked:
                joined = rows[i].__dict__
                found.append(make({c: joined[p] for c, p in pairs}))
            for i, out in zip(picked, await self.serialise(plan, found, path), strict=True):
                values[i] = out
        return values

    async def _related(
        self,
        owner: NodePlan,
        objects: Sequence[Any],
        targets: list[tuple[str, NodePlan]],
        path: Path | None,
    ) -> list[dict[str, Any] | None]:
        """The related object of each object: the first target whose key is set decides (as
        the resolvers do); a key naming a row that is gone gives null, as the loaders do."""
        keys = [owner.read[attr] for attr, _ in targets]
        chosen: list[int | None] = [None] * len(objects)
        for index, obj in enumerate(objects):
            for number, key in enumerate(keys):
                if key(obj) is not None:
                    chosen[index] = number
                    break
        values: list[dict[str, Any] | None] = [None] * len(objects)
        for number, (_, plan) in enumerate(targets):
            key = keys[number]
            ids = {key(o) for o, c in zip(objects, chosen, strict=True) if c == number}
            if not ids:
                continue
            found = await reads.by_ids(plan, sorted(ids))
            outs = await self.serialise(plan, found, path)
            by_id = dict(zip((r.id for r in found), outs, strict=True))
            for index, obj in enumerate(objects):
                if chosen[index] == number:
                    values[index] = by_id.get(key(obj))
        return values


def _written(rows: Sequence[Row]) -> list[Any]:
    """The nodes whose JSON the database wrote (reads.Static), as it wrote them; a node it could
    not write (a null at a non-null field, a value not of its enum) sends the page to the full
    executor, as emit's refusals do."""
    out = []
    for row in rows:
        text = row.__dict__[reads.JSON]
        if text is None:
            raise NotCompiled("the database wrote no JSON for a node")
        out.append(Fragment(text))
    return out


async def _load_page(loader: DataLoader[Any, Any], keys: list[Any]) -> list[Any]:
    """What `loader.load_many(keys)` gives for a page's distinct keys, by one call of its batch
    function (no future per key), the loader primed with it for the rest of the request."""
    if not keys:
        return []
    if len(set(keys)) != len(keys):
        return list(await loader.load_many(keys))
    values = list(await loader.load_fn(keys))
    if len(values) != len(keys) or any(isinstance(v, BaseException) for v in values):
        raise NotCompiled("a loader failed")
    loader.prime_many(dict(zip(keys, values, strict=True)))
    return values
