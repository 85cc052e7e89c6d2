"""Authentication: login, bearer tokens, API tokens, revocation, deactivated agents."""

from __future__ import annotations

from deskql import models
from tests.conftest import GQLClient, World, gid

LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    errors { field message code } token agent { email role }
  }
}
"""


async def test_login_returns_a_working_token(gql: GQLClient, world: World) -> None:
    res = await gql(LOGIN, {"email": "Alice@Zylker.com", "password": "correct horse"})
    payload = res.data["login"]
    assert payload["errors"] == []
    assert payload["agent"] == {"email": "alice@zylker.com", "role": "AGENT"}
    token = payload["token"]
    assert token.startswith("dq_")
    me = await gql.as_(token)("{ me { email departments { name } } }")
    assert me.data["me"] == {"email": "alice@zylker.com", "departments": [{"name": "Support"}]}
    # Stored hashed: the plain token appears nowhere in the table.
    hashes = await models.ApiToken.all().values_list("token_hash", flat=True)
    assert token not in hashes and all(len(h) == 64 for h in hashes)


async def test_password_is_stored_with_argon2(world: World) -> None:
    agent = await models.Agent.get(id=world.alice.id)
    assert agent.password_hash is not None and agent.password_hash.startswith("$argon2id$")


async def test_wrong_password_and_unknown_email(gql: GQLClient, world: World) -> None:
    for email, password in [("alice@zylker.com", "wrong"), ("nobody@zylker.com", "x")]:
        res = await gql(LOGIN, {"email": email, "password": password})
        payload = res.data["login"]
        assert payload["token"] is None
        assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"]
        assert payload["errors"][0]["message"] == "wrong email or password"


async def test_every_operation_but_login_needs_a_token(gql: GQLClient, world: World) -> None:
    for query in [
        "{ me { id } }",
        "{ tickets { totalCount } }",
        '{ node(id: "VGlja2V0OjE") { id } }',
    ]:
        res = await gql(query)
        assert res.error_codes() == ["UNAUTHENTICATED"], query
        assert "authentication required" in res.errors[0]["message"]
    res = await gql(
        'mutation { commentAdd(input: {ticketId: "VGlja2V0OjE", body: "x"}) { errors { code } } }'
    )
    assert res.error_codes() == ["UNAUTHENTICATED"]
    assert await models.Comment.all().count() == 0


async def test_garbage_token(gql: GQLClient, world: World) -> None:
    res = await gql.as_("dq_not-a-real-token")("{ me { id } }")
    assert res.error_codes() == ["UNAUTHENTICATED"]
    assert res.errors[0]["message"] == "invalid token"


async def test_revoked_token_stops_working(gql: GQLClient, world: World) -> None:
    login = (await gql(LOGIN, {"email": "bob@zylker.com", "password": "correct horse"})).data
    token = login["login"]["token"]
    out = await gql.as_(token)("mutation { logout { errors { code } apiToken { revokedAt } } }")
    assert out.data["logout"]["apiToken"]["revokedAt"] is not None
    res = await gql.as_(token)("{ me { id } }")
    assert res.error_codes() == ["UNAUTHENTICATED"]
    assert "revoked" in res.errors[0]["message"]


async def test_admin_issues_and_revokes_api_tokens(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    create = """
      mutation($agent: ID!) { apiTokenCreate(input: {agentId: $agent, name: "CRM sync"}) {
        errors { code } token apiToken { id name kind prefix agent { email } } } }
    """
    res = await admin(create, {"agent": gid("Agent", world.bob.id)})
    payload = res.data["apiTokenCreate"]
    assert payload["apiToken"]["kind"] == "API"
    assert payload["apiToken"]["agent"] == {"email": "bob@zylker.com"}
    token = payload["token"]
    assert token.startswith(payload["apiToken"]["prefix"])
    assert (await gql.as_(token)("{ me { email } }")).data["me"]["email"] == "bob@zylker.com"

    # An agent may not issue tokens.
    denied = await gql.as_(world.bob_token)(create, {"agent": gid("Agent", world.bob.id)})
    assert denied.error_codes() == ["FORBIDDEN"]

    revoke = """mutation($id: ID!) { apiTokenRevoke(input: {id: $id}) {
      errors { code } apiToken { revokedAt } } }"""
    res = await admin(revoke, {"id": payload["apiToken"]["id"]})
    assert res.data["apiTokenRevoke"]["apiToken"]["revokedAt"] is not None
    assert (await gql.as_(token)("{ me { email } }")).error_codes() == ["UNAUTHENTICATED"]


async def test_agent_cannot_revoke_anothers_token(gql: GQLClient, world: World) -> None:
    admin_token_row = await models.ApiToken.filter(agent_id=world.admin.id).first()
    assert admin_token_row is not None
    res = await gql.as_(world.bob_token)(
        "mutation($id: ID!) { apiTokenRevoke(input: {id: $id}) { errors { code } } }",
        {"id": gid("ApiToken", admin_token_row.id)},
    )
    assert [e["code"] for e in res.data["apiTokenRevoke"]["errors"]] == ["NOT_FOUND"]
    await admin_token_row.refresh_from_db()
    assert admin_token_row.revoked_at is None


async def test_deactivated_agent_can_do_nothing(gql: GQLClient, world: World) -> None:
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    res = await gql.as_(world.bob_token)("{ me { id } }")
    assert res.error_codes() == ["UNAUTHENTICATED"]
    assert "deactivated" in res.errors[0]["message"]
    login = await gql(LOGIN, {"email": "bob@zylker.com", "password": "correct horse"})
    assert [e["code"] for e in login.data["login"]["errors"]] == ["INVALID_CREDENTIALS"]
    assert login.data["login"]["token"] is None


async def test_expired_session_token(gql: GQLClient, world: World) -> None:
    from datetime import UTC, datetime, timedelta

    await models.ApiToken.filter(agent_id=world.alice.id).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    res = await gql.as_(world.alice_token)("{ me { id } }")
    assert res.error_codes() == ["UNAUTHENTICATED"]
    assert "expired" in res.errors[0]["message"]
