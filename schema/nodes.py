"""`node`, `nodes` and `organisation`: fetching any object by its global id."""

from __future__ import annotations

from typing import Annotated

import strawberry

from deskql.resolvers import nodes as r
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Node, Organisation


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by global id; null when absent or not yours to see.",
        permission_classes=[IsAuthenticated],
    )
    async def node(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        return await r.node(info, id)

    @strawberry.field(
        description="Objects by global ids, in the same order; null for each absent or hidden one.",
        permission_classes=[IsAuthenticated],
    )
    async def nodes(
        self,
        info: strawberry.Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Up to 100 global ids.")
        ],
    ) -> list[Node | None]:
        return await r.nodes(info, ids)

    @strawberry.field(
        description="The organisation of this deployment.", permission_classes=[IsAuthenticated]
    )
    async def organisation(self, info: strawberry.Info) -> Organisation:
        return await r.organisation(info)
