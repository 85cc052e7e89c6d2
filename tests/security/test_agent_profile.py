"""One rule for what an agent sees of another (issue 17, point 3): the public profile (name,
first/last name, avatar) always; the rest only for administrators, the agent themself and
agents sharing a department. It lives on the Agent type, so every path obeys it."""

from __future__ import annotations

from deskql.services import auth, customers, follows
from tests.conftest import GQLClient, World, gid

PRIVATE = "email role isActive about hobbies canManageMacros createdAt hourlyRateCents"
AGENT = f"id name firstName lastName avatarUrl fullProfile {PRIVATE}"


async def _owned_contact(world: World) -> int:
    alice = await auth.load_actor(world.alice.id)
    contact = await customers.create_contact(
        alice, last_name="Doe", email="jane@example.com", owner_id=world.alice.id
    )
    await follows.follow_contact(alice, contact_id=contact.id)
    return contact.id


def _public_only(agent: dict, name: str) -> None:
    assert agent["name"] == name and agent["fullProfile"] is False
    assert agent["firstName"] and agent["lastName"]
    for key in PRIVATE.split():
        assert agent[key] is None, key


async def test_other_department_sees_only_the_public_profile_on_every_path(
    gql: GQLClient, world: World
) -> None:
    contact_id = await _owned_contact(world)
    q = f"""query($id: ID!, $agent: ID!) {{
      contact(id: $id) {{
        owner {{ {AGENT} }}
        followers {{ nodes {{ {AGENT} }} }}
        activities {{ nodes {{ kind actor {{ {AGENT} }} }} }}
      }}
      agent(id: $agent) {{ id }}
      node(id: $agent) {{ id }}
    }}"""
    variables = {"id": gid("Contact", contact_id), "agent": gid("Agent", world.alice.id)}
    # Bob works in Sales, Alice in Support: before the rule, Bob read her email and role here.
    res = await gql.as_(world.bob_token)(q, variables)
    data = res.data["contact"]
    _public_only(data["owner"], "A Alice")
    # Followers list only agents you may see (stricter still).
    assert data["followers"]["nodes"] == []
    actors = [a["actor"] for a in data["activities"]["nodes"] if a["actor"]]
    assert actors
    for actor in actors:
        _public_only(actor, "A Alice")
    # The direct lookups still hide her entirely.
    assert res.data["agent"] is None and res.data["node"] is None


async def test_colleagues_admins_and_oneself_see_everything(gql: GQLClient, world: World) -> None:
    contact_id = await _owned_contact(world)
    q = f"query($id: ID!) {{ contact(id: $id) {{ owner {{ {AGENT} }} }} }}"
    for token in [world.alice_token, world.admin_token]:
        owner = (await gql.as_(token)(q, {"id": gid("Contact", contact_id)})).data["contact"][
            "owner"
        ]
        assert owner["fullProfile"] is True
        assert owner["email"] == "alice@zylker.com" and owner["role"] == "AGENT"
        assert owner["isActive"] is True and owner["createdAt"]
    me = (await gql.as_(world.bob_token)(f"{{ me {{ {AGENT} }} }}")).data["me"]
    assert me["fullProfile"] is True and me["email"] == "bob@zylker.com"


async def test_login_payload_shows_the_signed_in_agent(gql: GQLClient, world: World) -> None:
    res = await gql(
        'mutation { login(input: {email: "bob@zylker.com", password: "correct horse"}) '
        "{ agent { email role fullProfile } } }"
    )
    assert res.data["login"]["agent"] == {
        "email": "bob@zylker.com",
        "role": "AGENT",
        "fullProfile": True,
    }
