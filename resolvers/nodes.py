"""Node resolvers: one query per type named in the ids."""

from __future__ import annotations

from collections import defaultdict

import strawberry

import models
from schema.context import actor_of
from schema.ids import InvalidId, from_global_id
from schema.types import CONVERTERS, Node, Organisation
from services import policies
from services.errors import ClientError

MODELS: dict[str, type] = {model.__name__: model for model in CONVERTERS}


async def nodes(info: strawberry.Info, ids: list[str]) -> list[Node | None]:
    """`nodes(ids)`: null for ids that name nothing the actor may see."""
    actor = actor_of(info)
    if len(ids) > info.context.settings.max_page_size:
        raise ClientError(f"at most {info.context.settings.max_page_size} ids at once")
    wanted: dict[str, list[int]] = defaultdict(list)
    keys: list[tuple[str, int]] = []
    for gid in ids:
        type_name, pk = from_global_id(gid)
        if type_name not in MODELS:
            raise InvalidId(f"id {gid!r} names an unknown type {type_name!r}")
        wanted[type_name].append(pk)
        keys.append((type_name, pk))
    found: dict[tuple[str, int], Node] = {}
    for type_name, pks in wanted.items():
        model = MODELS[type_name]
        for row in await policies.visible(actor, model).filter(id__in=pks):
            found[(type_name, row.pk)] = CONVERTERS[model](row)
    return [found.get(key) for key in keys]


async def node(info: strawberry.Info, id: str) -> Node | None:
    """`node(id)`."""
    return (await nodes(info, [id]))[0]


async def organisation(info: strawberry.Info) -> Organisation:
    """`organisation`."""
    actor_of(info)
    row = await models.Organisation.first()
    assert row is not None, "the organisation is created on start"
    return Organisation.from_row(row, info.context.settings.mail_domain)
