"""ticketAssign publishes what ticketUpdate publishes: the assignee's notificationCreated and
the ticket's ticketUpdates reach subscribers over a real WebSocket."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.realtime import topics
from deskql.services import auth, tickets
from deskql.settings import Settings
from tests.conftest import World, gid, make_agent
from tests.realtime.conftest import live_server, wait_until, ws_client

NOTIFICATIONS = """subscription { notificationCreated {
  notification { reason activity { kind changes } ticket { id } } } }"""
TICKET = """subscription($id: ID!) { ticketUpdates(ticketId: $id) {
  kind ticket { id version assignee { ... on Agent { email } } } } }"""
ASSIGN = """mutation($ids: [ID!]!, $agent: ID) {
  ticketAssign(input: {ticketIds: $ids, agentId: $agent}) {
    errors { code } results { errors { code } } } }"""


async def test_bulk_assignment_reaches_the_assignee_live(clean_db: Settings, world: World) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    admin = await auth.load_actor(world.admin.id)
    made = [
        await tickets.create_ticket(
            admin, subject=f"T{i}", department_id=world.support.id, contact_id=world.contact.id
        )
        for i in range(2)
    ]
    settings = Settings.from_env(
        var_dir=clean_db.var_dir,
        database_url=clean_db.database_url,
        password_time_cost=1,
        password_memory_kib=8192,
        smtp_enabled=False,
        broadcast_url="memory://",
    )
    async with live_server(settings) as server:
        hub = server.app.state.hub
        async with (
            ws_client(server, carol_token) as carol_ws,
            ws_client(server, world.alice_token) as alice_ws,
        ):
            await carol_ws.subscribe(NOTIFICATIONS)
            await alice_ws.subscribe(TICKET, {"id": gid("Ticket", made[0].id)})
            await wait_until(lambda: hub.count(topics.agent(carol.id)) == 1)
            await wait_until(lambda: hub.count(topics.ticket(made[0].id)) == 1)
            result: Any = await server.gql(
                world.alice_token,
                ASSIGN,
                {"ids": [gid("Ticket", t.id) for t in made], "agent": gid("Agent", carol.id)},
            )
            assert result["ticketAssign"]["results"] == [{"errors": []}, {"errors": []}]
            seen = []
            for _ in made:
                note = (await carol_ws.data())["notificationCreated"]["notification"]
                assert note["reason"] == "ASSIGNED"
                assert note["activity"]["kind"] == "ticket.updated"
                assert note["activity"]["changes"] == {
                    "assignee_agent_id": {"old": None, "new": gid("Agent", carol.id)}
                }
                seen.append(note["ticket"]["id"])
            assert sorted(seen) == sorted(gid("Ticket", t.id) for t in made)
            update = (await alice_ws.data())["ticketUpdates"]
            assert update["kind"] == "ticket.updated"
            assert update["ticket"]["assignee"] == {"email": "carol@zylker.com"}
            assert update["ticket"]["version"] == 2
    assert await models.Notification.filter(agent_id=carol.id).count() == 2
