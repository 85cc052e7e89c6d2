"""Fixtures of the help center's tests: a client for /help/graphql and a signed-in contact."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deskql import models
from tests.conftest import GQLClient, GQLResult, World, gid

INVITE = """
mutation($input: ContactPortalInviteInput!) {
  contactPortalInvite(input: $input) { errors { field code message } contact { id } }
}
"""
LINK_USE = """
mutation($input: LinkUseInput!) {
  linkUse(input: $input) { errors { field code message } token viewer { name email } }
}
"""
SIGN_IN = """
mutation($input: SignInInput!) {
  signIn(input: $input) { errors { field code message } token viewer { name } }
}
"""
PASSWORD = "sekret-pass-1"


class HelpClient:
    """GraphQL over HTTP to /help/graphql, as a contact."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_(self, token: str | None) -> HelpClient:
        return HelpClient(self.http, token)

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> GQLResult:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        resp = await self.http.post(
            "/help/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return GQLResult(resp.status_code, resp.json())


@pytest.fixture
def helpql(http: httpx.AsyncClient) -> HelpClient:
    return HelpClient(http)


def link_token(raw: bytes) -> tuple[str, str]:
    """(kind, token) of the help-center link in a queued email."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    found = re.search(r"/help#/(invite|signup|reset)/([A-Za-z0-9_\-]+)", text)
    assert found, text
    return found.group(1), found.group(2)


async def last_link(email: str) -> tuple[str, str]:
    """The link of the newest email queued to an address."""
    row = await models.OutboxMessage.filter(to_addresses__contains=email).order_by("-id").first()
    assert row is not None, f"no email to {email}"
    return link_token(bytes(row.raw_bytes))


async def invite(gql: GQLClient, token: str, contact_id: int) -> GQLResult:
    """An agent invites a contact."""
    return await gql.as_(token)(INVITE, {"input": {"contactId": gid("Contact", contact_id)}})


@dataclass
class SignedIn:
    """A contact who accepted an invite: their id and token."""

    contact: models.Contact
    token: str
    client: HelpClient


async def accept_invite(
    gql: GQLClient, helpql: HelpClient, world: World, contact: models.Contact
) -> SignedIn:
    """Invite a contact as Alice and set their password from the emailed link."""
    res = await invite(gql, world.alice_token, contact.id)
    assert res.data["contactPortalInvite"]["errors"] == []
    kind, token = await last_link(contact.email or "")
    assert kind == "invite"
    used = await helpql(LINK_USE, {"input": {"token": token, "password": PASSWORD}})
    payload = used.data["linkUse"]
    assert payload["errors"] == [], payload
    return SignedIn(contact, payload["token"], helpql.as_(payload["token"]))


@pytest_asyncio.fixture
async def melissa(gql: GQLClient, helpql: HelpClient, world: World) -> SignedIn:
    return await accept_invite(gql, helpql, world, world.contact)
