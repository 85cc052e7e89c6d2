"""Serialising: rows of a plan's type into response objects, relations a level at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql.pyutils import Path, Undefined

from deskql.readpath.compiled import reads
from deskql.readpath.compiled.plan import (
    JOINED,
    LEAF,
    LEAN,
    LOADED,
    RELATION,
    TYPENAME,
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
        objects = [plan.spec.build(row) for row in rows]
        resolved: list[dict[str, Any]] = []
        if plan.lean:
            resolved = await self.lean.objects(plan.object_type, objects, plan.lean, path)
        related: dict[str, list[Any]] = {}
        for step in plan.steps:
            if step[0] == RELATION:
                related[step[1]] = await self._related(objects, step[2], path)
            elif step[0] == JOINED:
                related[step[1]] = await self._joined(objects, rows, step[2], path)
            elif step[0] == LOADED:
                loader = getattr(self.ex.context_value.loaders, step[2])
                lists = await loader.load_many([obj.pk for obj in objects])
                related[step[1]] = [[step[3](item) for item in items] for items in lists]
        outs = []
        for index, obj in enumerate(objects):
            out: dict[str, Any] = {}
            for step in plan.steps:
                kind, key = step[0], step[1]
                if kind == LEAF:
                    value = getattr(obj, step[2])
                    if value is None:
                        if step[4]:
                            raise NotCompiled(f"null at non-null {key}")
                        out[key] = None
                        continue
                    value = step[3](value)
                    if value is None or value is Undefined:
                        raise NotCompiled(f"{key} did not serialise")
                    out[key] = value
                elif kind == TYPENAME:
                    out[key] = step[2]
                elif kind == LOADED:
                    out[key] = related[key][index]
                elif kind == LEAN:
                    out[key] = resolved[index][key]
                else:
                    value = related[key][index]
                    if value is None and step[3]:
                        raise NotCompiled(f"null at non-null {key}")
                    out[key] = value
            outs.append(out)
        return outs

    async def _joined(
        self,
        objects: list[Any],
        rows: Sequence[Row],
        targets: list[tuple[str, str, NodePlan]],
        path: Path | None,
    ) -> list[dict[str, Any] | None]:
        """The related object of each object from the columns joined into its row (the first
        target whose key is set decides; a row that is gone joins as nulls: null)."""
        values: list[dict[str, Any] | None] = [None] * len(objects)
        chosen = [next((t for t in targets if getattr(o, t[0]) is not None), None) for o in objects]
        for target in targets:
            _, prefix, plan = target
            picked = [
                i
                for i, c in enumerate(chosen)
                if c is target and rows[i].__dict__.get(prefix + "id") is not None
            ]
            if not picked:
                continue
            found = [
                plan.spec.row({c: rows[i].__dict__[prefix + c] for c in plan.columns})
                for i in picked
            ]
            for i, out in zip(picked, await self.serialise(plan, found, path), strict=True):
                values[i] = out
        return values

    async def _related(
        self, objects: list[Any], targets: list[tuple[str, NodePlan]], path: Path | None
    ) -> list[dict[str, Any] | None]:
        """The related object of each object: the first target whose key is set decides (as
        the resolvers do); a key naming a row that is gone gives null, as the loaders do."""
        chosen: list[tuple[str, NodePlan] | None] = [None] * len(objects)
        for index, obj in enumerate(objects):
            for target in targets:
                if getattr(obj, target[0]) is not None:
                    chosen[index] = target
                    break
        values: list[dict[str, Any] | None] = [None] * len(objects)
        for attr, plan in targets:
            ids = {
                getattr(o, attr) for o, c in zip(objects, chosen, strict=True) if c and c[0] == attr
            }
            if not ids:
                continue
            found = await reads.by_ids(plan, sorted(ids))
            outs = await self.serialise(plan, found, path)
            by_id = dict(zip((r.id for r in found), outs, strict=True))
            for index, obj in enumerate(objects):
                target = chosen[index]
                if target is not None and target[0] == attr:
                    values[index] = by_id.get(getattr(obj, attr))
        return values
