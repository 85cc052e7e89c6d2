"""API tokens, and the converters from database rows to these types (`convert`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from deskql import models
from deskql.schema.ids import to_global_id
from deskql.schema.types.accounts import Account, Product
from deskql.schema.types.common import (
    Node,
    TokenKind,
)
from deskql.schema.types.contacts import Contact
from deskql.schema.types.conversation import Activity, Attachment, Comment, Thread
from deskql.schema.types.org import Agent, Department, Team
from deskql.schema.types.tickets import Ticket


@strawberry.type(description="An access token's metadata; the secret is shown only once.")
class ApiToken(Node):
    name: str = strawberry.field(description="What the token is for.")
    kind: TokenKind = strawberry.field(description="SESSION or API.")
    prefix: str = strawberry.field(description="First characters, to recognise it.")
    created_at: datetime = strawberry.field(description="When it was issued.")
    expires_at: datetime | None = strawberry.field(description="When it stops working.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked.")
    agent_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.ApiToken) -> ApiToken:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("ApiToken", row.id)),
            name=row.name,
            kind=row.kind,
            prefix=row.prefix,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            agent_pk=row.agent_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The agent the token acts as.")
    async def agent(self, info: strawberry.Info) -> Agent | None:
        return await info.context.loaders.agent.load(self.agent_pk)


def convert(row: Any) -> Any:
    """The GraphQL object for any supported database row."""
    return CONVERTERS[type(row)](row)


CONVERTERS: dict[type, Any] = {
    models.Department: Department.from_row,
    models.Agent: Agent.from_row,
    models.Team: Team.from_row,
    models.Product: Product.from_row,
    models.Account: Account.from_row,
    models.Contact: Contact.from_row,
    models.Attachment: Attachment.from_row,
    models.Thread: Thread.from_row,
    models.Comment: Comment.from_row,
    models.Activity: Activity.from_row,
    models.Ticket: Ticket.from_row,
    models.ApiToken: ApiToken.from_row,
}
