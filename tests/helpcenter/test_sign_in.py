"""Contact sign-in (issue 13, point 1): invites, links, sign-up, reset, tokens of two kinds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from deskql import models
from deskql.services.helpcenter import links
from tests.conftest import GQLClient, World, gid
from tests.helpcenter.conftest import (
    LINK_USE,
    PASSWORD,
    SIGN_IN,
    HelpClient,
    SignedIn,
    invite,
    last_link,
)

VIEWER = "{ viewer { name email isAccountManager } }"
SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { errors { code message } message } }
"""
RESET = """
mutation($input: PasswordResetRequestInput!) {
  passwordResetRequest(input: $input) { errors { code } message }
}
"""
SETTINGS = """
mutation($on: Boolean!) {
  helpCenterSettingsUpdate(input: {selfSignup: $on}) { errors { code } settings { selfSignup } }
}
"""
ACCESS = """
mutation($input: ContactHelpCenterAccessUpdateInput!) {
  contactHelpCenterAccessUpdate(input: $input) {
    errors { field code } access { isActive isAccountManager hasPassword }
  }
}
"""


async def test_invite_queues_an_email_and_the_link_sets_a_password(
    gql: GQLClient, helpql: HelpClient, world: World, melissa: SignedIn
) -> None:
    me = await melissa.client(VIEWER)
    assert me.data["viewer"] == {
        "name": "Melissa Doe",
        "email": "melissa@example.com",
        "isAccountManager": False,
    }
    # The password is argon2id, as agents' are.
    login = await models.ContactLogin.get(contact_id=world.contact.id)
    assert login.password_hash and login.password_hash.startswith("$argon2id$")
    signed = await helpql(
        SIGN_IN, {"input": {"email": "MELISSA@example.com", "password": PASSWORD}}
    )
    assert signed.data["signIn"]["errors"] == []
    assert signed.data["signIn"]["token"].startswith("dqc_")
    wrong = await helpql(SIGN_IN, {"input": {"email": "melissa@example.com", "password": "nope"}})
    assert wrong.data["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # Every change has its Activity row.
    kinds = await models.Activity.filter(contact_id=world.contact.id).values_list("kind", flat=True)
    assert "contact.help_center_invited" in kinds
    assert "contact.help_center_password_set" in kinds


async def test_a_used_link_and_an_expired_link_are_refused(
    gql: GQLClient, helpql: HelpClient, world: World
) -> None:
    assert (await invite(gql, world.alice_token, world.contact.id)).data["contactPortalInvite"][
        "errors"
    ] == []
    _, token = await last_link("melissa@example.com")
    first = await helpql(LINK_USE, {"input": {"token": token, "password": PASSWORD}})
    assert first.data["linkUse"]["errors"] == []
    again = await helpql(LINK_USE, {"input": {"token": token, "password": "another-pass"}})
    assert again.data["linkUse"]["token"] is None
    assert again.data["linkUse"]["errors"][0]["code"] == "INVALID"
    # An expired one: nothing written (the password stays the first one).
    await invite(gql, world.alice_token, world.contact.id)
    _, token = await last_link("melissa@example.com")
    await models.ContactLink.filter(token_hash=links.access.digest(token)).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    before = (await models.ContactLogin.get(contact_id=world.contact.id)).password_hash
    expired = await helpql(LINK_USE, {"input": {"token": token, "password": "another-pass"}})
    assert expired.data["linkUse"]["errors"][0]["code"] == "INVALID_STATE"
    assert "expired" in expired.data["linkUse"]["errors"][0]["message"]
    assert (await models.ContactLogin.get(contact_id=world.contact.id)).password_hash == before
    # A short password is refused and the link stays usable.
    await invite(gql, world.alice_token, world.contact.id)
    _, token = await last_link("melissa@example.com")
    short = await helpql(LINK_USE, {"input": {"token": token, "password": "short"}})
    assert short.data["linkUse"]["errors"][0]["field"] == "password"
    ok = await helpql(LINK_USE, {"input": {"token": token, "password": "long-enough"}})
    assert ok.data["linkUse"]["errors"] == []


async def test_a_newer_invite_ends_the_older_link(
    gql: GQLClient, helpql: HelpClient, world: World
) -> None:
    await invite(gql, world.alice_token, world.contact.id)
    _, old = await last_link("melissa@example.com")
    await invite(gql, world.bob_token, world.contact.id)
    _, new = await last_link("melissa@example.com")
    assert old != new
    res = await helpql(LINK_USE, {"input": {"token": old, "password": PASSWORD}})
    assert res.data["linkUse"]["errors"][0]["code"] == "INVALID"


async def test_invite_errors(gql: GQLClient, world: World) -> None:
    nobody = await gql.as_(world.alice_token)(
        "mutation($id: ID!) { contactPortalInvite(input: {contactId: $id}) { errors { code } } }",
        {"id": gid("Contact", 999)},
    )
    assert nobody.data["contactPortalInvite"]["errors"][0]["code"] == "NOT_FOUND"
    no_email = await models.Contact.create(last_name="Phone-only")
    res = await invite(gql, world.alice_token, no_email.id)
    assert res.data["contactPortalInvite"]["errors"][0]["code"] == "REQUIRED"
    assert await models.ContactLink.all().count() == 0
    assert await models.OutboxMessage.all().count() == 0


async def test_tokens_of_each_kind_work_only_on_their_own_api(
    gql: GQLClient, helpql: HelpClient, world: World, melissa: SignedIn
) -> None:
    on_agents = await gql.as_(melissa.token)("{ me { email } }")
    assert on_agents.error_codes() == ["UNAUTHENTICATED"]
    assert "help-center token" in on_agents.errors[0]["message"]
    on_help = await helpql.as_(world.alice_token)(VIEWER)
    assert on_help.error_codes() == ["UNAUTHENTICATED"]
    assert "agent's token" in on_help.errors[0]["message"]
    anonymous = await helpql(VIEWER)
    assert anonymous.error_codes() == ["UNAUTHENTICATED"]


async def test_a_deactivated_or_deleted_contact_is_stopped_at_once(
    gql: GQLClient, helpql: HelpClient, world: World, melissa: SignedIn
) -> None:
    assert (await melissa.client(VIEWER)).data["viewer"]["name"] == "Melissa Doe"
    seen = await gql.as_(world.bob_token)(
        """query($id: ID!) { node(id: $id) { ... on Contact {
             helpCenterAccess { hasPassword isActive isAccountManager invitedAt } } } }""",
        {"id": gid("Contact", world.contact.id)},
    )
    access_now = seen.data["node"]["helpCenterAccess"]
    assert access_now["hasPassword"] is True and access_now["isActive"] is True
    assert access_now["invitedAt"] is not None
    off = await gql.as_(world.alice_token)(
        ACCESS, {"input": {"contactId": gid("Contact", world.contact.id), "isActive": False}}
    )
    assert off.data["contactHelpCenterAccessUpdate"]["access"]["isActive"] is False
    stopped = await melissa.client(VIEWER)
    assert stopped.error_codes() == ["UNAUTHENTICATED"]
    refused = await helpql(
        SIGN_IN, {"input": {"email": "melissa@example.com", "password": PASSWORD}}
    )
    assert refused.data["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # Reactivated: the old token stays revoked, a new sign-in works.
    await gql.as_(world.alice_token)(
        ACCESS, {"input": {"contactId": gid("Contact", world.contact.id), "isActive": True}}
    )
    assert (await melissa.client(VIEWER)).error_codes() == ["UNAUTHENTICATED"]
    again = await helpql(SIGN_IN, {"input": {"email": "melissa@example.com", "password": PASSWORD}})
    token = again.data["signIn"]["token"]
    assert (await helpql.as_(token)(VIEWER)).data["viewer"]["name"] == "Melissa Doe"
    # Deleted: the tokens go with the contact.
    await models.Contact.filter(id=world.contact.id).delete()
    gone = await helpql.as_(token)(VIEWER)
    assert gone.error_codes() == ["UNAUTHENTICATED"]
    assert await models.ContactToken.all().count() == 0


async def test_self_sign_up_needs_the_setting_and_a_verified_address(
    gql: GQLClient, helpql: HelpClient, world: World
) -> None:
    values = {"input": {"email": "nowak@example.pl", "name": "Zażółć Gęślą", "password": PASSWORD}}
    off = await helpql(SIGN_UP, values)
    assert off.data["signUp"]["errors"][0]["code"] == "INVALID_STATE"
    assert await models.ContactLink.all().count() == 0
    agent_refused = await gql.as_(world.alice_token)(SETTINGS, {"on": True})
    assert agent_refused.error_codes() == ["FORBIDDEN"]
    on = await gql.as_(world.admin_token)(SETTINGS, {"on": True})
    assert on.data["helpCenterSettingsUpdate"]["settings"] == {"selfSignup": True}
    sent = await helpql(SIGN_UP, values)
    assert sent.data["signUp"]["errors"] == []
    # No contact until the address is verified.
    assert not await models.Contact.exists(email="nowak@example.pl")
    kind, token = await last_link("nowak@example.pl")
    assert kind == "signup"
    used = await helpql(LINK_USE, {"input": {"token": token}})
    assert used.data["linkUse"]["viewer"] == {"name": "Zażółć Gęślą", "email": "nowak@example.pl"}
    signed = await helpql(SIGN_IN, {"input": {"email": "nowak@example.pl", "password": PASSWORD}})
    assert signed.data["signIn"]["errors"] == []
    # Signing up again with a known address sends a reset link, not a second account.
    await helpql(SIGN_UP, values)
    kind, _ = await last_link("nowak@example.pl")
    assert kind == "reset"


async def test_password_reset(helpql: HelpClient, melissa: SignedIn) -> None:
    unknown = await helpql(RESET, {"input": {"email": "nobody@example.com"}})
    known = await helpql(RESET, {"input": {"email": "melissa@example.com"}})
    # The same answer: nobody learns who has an account.
    assert unknown.data == {
        "passwordResetRequest": {
            "errors": [],
            "message": known.data["passwordResetRequest"]["message"],
        }
    }
    kind, token = await last_link("melissa@example.com")
    assert kind == "reset"
    res = await helpql(LINK_USE, {"input": {"token": token, "password": "brand-new-pass"}})
    assert res.data["linkUse"]["errors"] == []
    # The old sessions end with the old password.
    assert (await melissa.client(VIEWER)).error_codes() == ["UNAUTHENTICATED"]
    old = await helpql(SIGN_IN, {"input": {"email": "melissa@example.com", "password": PASSWORD}})
    assert old.data["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_thirty_wrong_passwords_are_throttled(helpql: HelpClient, melissa: SignedIn) -> None:
    query = """mutation($input: SignInInput!) {
      signIn(input: $input) { errors { code message } token retryAfterSeconds } }"""
    codes = []
    for _ in range(30):
        res = await helpql(query, {"input": {"email": "melissa@example.com", "password": "bad"}})
        codes.append(res.data["signIn"]["errors"][0]["code"])
    # Five free failures, the sixth checked and blocking; then every attempt is refused
    # unchecked while the block lasts.
    assert codes[:6] == ["INVALID_CREDENTIALS"] * 6
    assert set(codes[6:]) == {"RATE_LIMITED"}
    right = await helpql(query, {"input": {"email": "melissa@example.com", "password": PASSWORD}})
    payload = right.data["signIn"]
    assert payload["token"] is None and payload["errors"][0]["code"] == "RATE_LIMITED"
    assert payload["retryAfterSeconds"] >= 1
    # The contacts' buckets are their own: an agent's sign-in is not blocked by them.
    keys = await models.ThrottleBucket.all().values_list("key", flat=True)
    assert keys and all(key.startswith("contact-login:") for key in keys)


async def test_a_cross_site_form_post_does_nothing(
    http: httpx.AsyncClient, melissa: SignedIn
) -> None:
    """What a forged form on another site can send: a urlencoded body and no Authorization
    header (the page keeps its token out of cookies, so the browser has none to add)."""
    mutation = (
        'mutation { ticketCreate(input: {subject: "x", description: "y"}) { ticket { id } } }'
    )
    forged = await http.post(
        "/help/graphql",
        data={"query": mutation},
        headers={"Origin": "https://evil.example", "Cookie": "token=" + melissa.token},
    )
    assert (forged.status_code, forged.text) == (400, "Unsupported content type")
    # Even as JSON (which a form cannot send), a cookie is not a credential here.
    as_json = await http.post(
        "/help/graphql",
        json={"query": mutation},
        headers={"Origin": "https://evil.example", "Cookie": "token=" + melissa.token},
    )
    assert [e["extensions"]["code"] for e in as_json.json()["errors"]] == ["UNAUTHENTICATED"]
    assert await models.Ticket.all().count() == 0
    page = await http.get("/help")
    assert page.status_code == 200 and "set-cookie" not in page.headers


async def test_an_email_holding_a_nul_is_a_wrong_email(helpql: HelpClient) -> None:
    """NUL cannot even be compared with PostgreSQL's text: it answered "Unexpected error"."""
    for email in ("\x00", "melissa@example.com\x00"):
        res = await helpql(SIGN_IN, {"input": {"email": email, "password": PASSWORD}})
        payload = res.data["signIn"]
        assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"], email
        assert payload["token"] is None
