"""Emitting: one Python function per plan that writes every response object of a page in one
pass (generated once, kept with the plan), instead of a loop per field over the objects.

The function does what `serialise` did a step at a time, in the same order and with the same
checks: a leaf read from the row (or the schema object), None kept or refused at a non-null
field, the value through the leaf's serializer (a value already of the exact type kept as it
is), `__typename`, and the relations joined into the row written inline (the first target
whose key is set decides; a joined row that is gone is null). Steps that need a statement or
the lean executor (relations read by id, loaded lists, resolvers, relations whose own plan is
not inline) are done by `serialise` first and read here by position."""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

from graphql.pyutils import Undefined

from deskql.readpath.compiled.plan import JOINED, LEAF, LEAN, LOADED, TYPENAME, NodePlan
from deskql.readpath.compiled.specs import NotCompiled
from deskql.schema.ids import to_global_id

# emit(objects, rows, related, resolved) -> the response objects
Emit = Callable[[Any, Any, dict[str, list[Any]], list[dict[str, Any]]], list[dict[str, Any]]]


def emitter(plan: NodePlan) -> tuple[Emit, frozenset[str]]:
    """The plan's emit function and the response keys it writes inline (the others are read
    from `related`), generated on first use."""
    if plan.emit is None:
        writer = _Writer()
        body = writer.plan(plan, "o", "d", top=True)
        src = "\n".join(
            [
                "def emit(objects, rows, related, resolved):",
                "    out = []",
                "    append = out.append",
                "    for i, o in enumerate(objects):",
                "        d = rows[i].__dict__",
                *("        " + line for line in body),
                "    return out",
            ]
        )
        scope: dict[str, Any] = dict(writer.constants)
        exec(compile(src, f"<emit {plan.type_name}>", "exec"), scope)  # noqa: S102
        plan.emit = (scope["emit"], frozenset(writer.inline))
    return plan.emit


def inline_joined(plan: NodePlan) -> bool:
    """Whether a plan's objects can be written inline from joined columns: read from rows
    (no schema object built), with leaves, `__typename` and joined relations only."""
    return plan.direct and all(
        step[0] in (LEAF, TYPENAME)
        or (step[0] == JOINED and all(inline_joined(sub) for _, _, sub in step[2]))
        for step in plan.steps
    )


class _Writer:
    """Writes the statements of one emit function."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {
            "NotCompiled": NotCompiled,
            "Undefined": Undefined,
            "to_global_id": to_global_id,
        }
        self.inline: set[str] = set()
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: Any, prefix: str = "C") -> str:
        name = self.name(prefix)
        self.constants[name] = value
        return name

    def plan(self, plan: NodePlan, obj: str, row: str, *, top: bool = False) -> list[str]:
        """Statements leaving the response object of `obj` (its row dict `row`) in a variable,
        then, at the top, appending it; below the top, the last line names the variable."""
        lines: list[str] = []
        pairs: list[tuple[str, str]] = []
        for step in plan.steps:
            kind, key = step[0], step[1]
            var = self.name("v")
            if kind == LEAF:
                lines += self.leaf(plan, obj, var, step)
            elif kind == TYPENAME:
                lines.append(f"{var} = {step[2]!r}")
            elif kind == LEAN:
                lines.append(f"{var} = resolved[i][{key!r}]")
            elif kind == JOINED and all(inline_joined(sub) for _, _, sub in step[2]):
                if top:
                    self.inline.add(key)
                lines += self.joined(plan, obj, row, var, step)
            else:
                lines.append(f"{var} = related[{key!r}][i]")
                if kind != LOADED and step[3]:
                    lines += _refuse_null(var, key)
            pairs.append((key, var))
        made = "{" + ", ".join(f"{key!r}: {var}" for key, var in pairs) + "}"
        if top:
            return [*lines, f"append({made})"]
        result = self.name("r")
        return [*lines, f"{result} = {made}", result]

    def read(self, plan: NodePlan, obj: str, attr: str) -> str:
        """The expression reading a schema attribute from `obj` as plan.read does."""
        if plan.direct:
            row_attr = plan.spec.row_attr(attr)
            if row_attr is None:  # the global id, from the row's key
                return f"to_global_id({plan.type_name!r}, {obj}.id)"
            attr = row_attr
        if attr.isidentifier() and not keyword.iskeyword(attr):
            return f"{obj}.{attr}"
        return f"{self.constant(plan.read[attr], 'R')}({obj})"

    def leaf(self, plan: NodePlan, obj: str, var: str, step: tuple[Any, ...]) -> list[str]:
        """A leaf: None kept (or refused at a non-null field), a value of the serializer's
        exact type kept as it is, any other through the serializer (None or Undefined from it
        refused)."""
        _, key, attr, serialize, nonnull = step
        convert = self.constant(serialize, "S")
        exact = getattr(serialize, "exact", None)
        lines = [f"{var} = {self.read(plan, obj, attr)}"]
        inner = "    "
        if exact is not None:
            lines.append(f"if type({var}) is not {self.constant(exact, 'T')}:")
            inner = "        "
            lines.append(f"    if {var} is None:")
        else:
            lines.append(f"if {var} is None:")
        lines.append(
            f"{inner}raise NotCompiled({'null at non-null ' + key!r})"
            if nonnull
            else f"{inner}pass"
        )
        lines += [
            f"{inner[4:]}else:",
            f"{inner}{var} = {convert}({var})",
            f"{inner}if {var} is None or {var} is Undefined:",
            f"{inner}    raise NotCompiled({key + ' did not serialise'!r})",
        ]
        return lines

    def joined(
        self, plan: NodePlan, obj: str, row: str, var: str, step: tuple[Any, ...]
    ) -> list[str]:
        """The related object from the columns joined into the row: the first target whose
        key is set decides; its joined id missing (the row is gone) gives null."""
        _, key, targets, nonnull = step
        lines = [f"{var} = None"]
        indent = ""
        for number, (attr, prefix, sub) in enumerate(targets):
            test = f"{self.read(plan, obj, attr)} is not None"
            lines.append(f"{indent}{'if' if number == 0 else 'elif'} {test}:")
            inner = indent + "    "
            lines.append(f"{inner}if {row}.get({prefix + 'id'!r}) is not None:")
            deeper = inner + "    "
            sub_obj, sub_row = self.name("o"), self.name("d")
            fields = ", ".join(f"{c!r}: {row}[{prefix + c!r}]" for c in sorted(sub.columns))
            lines.append(f"{deeper}{sub_row} = {{{fields}}}")
            lines.append(f"{deeper}{sub_obj} = {self.constant(sub.spec.row.of, 'M')}({sub_row})")
            written = self.plan(sub, sub_obj, sub_row)
            lines += [deeper + line for line in written[:-1]]
            lines.append(f"{deeper}{var} = {written[-1]}")
        if nonnull:
            lines += _refuse_null(var, key)
        return lines


def _refuse_null(var: str, key: str) -> list[str]:
    return [f"if {var} is None:", f"    raise NotCompiled({'null at non-null ' + key!r})"]
