"""EM-9 for the default From address: an administrator disables the department's default
support address as a sender; the reply editor's choice (replyFromChoice) hides it, a reply
without a chosen From address is refused with nothing written, and a chosen one still sends."""

from __future__ import annotations

from deskql import models
from deskql.services.support_addresses import ensure_default_address
from deskql.settings import Settings
from tests.conftest import gid
from tests.outbound.conftest import Sink, deliver_all, email_ticket, relay_settings

CHOICE = """
query($id: ID!) {
  replyFromChoice(ticketId: $id) { email isDefault fromAddress { id email } }
}"""

DISABLE = """
mutation($input: SupportAddressUpdateInput!) {
  supportAddressUpdate(input: $input) {
    errors { field code }
    supportAddress { email fromDisabled isFetching }
  }
}"""

REPLY = """
mutation($input: TicketReplyInput!) {
  ticketReply(input: $input) {
    errors { field message code }
    thread { id }
    outgoingEmail { status }
  }
}"""


async def test_disabled_default_is_hidden_and_refused(world, gql, sink: Sink, settings: Settings):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    default = await ensure_default_address(settings)
    verified = await models.FromAddress.create(
        department_id=world.support.id,
        email="help@zylker.com",
        display_name="Zylker Help",
        is_verified=True,
    )
    # Disabled but unverified addresses are not offered either.
    await models.FromAddress.create(
        department_id=world.support.id, email="new@zylker.com", is_verified=False
    )
    ticket_gid = gid("Ticket", ticket.id)
    alice = gql.as_(world.alice_token)

    before = (await alice(CHOICE, {"id": ticket_gid})).data["replyFromChoice"]
    assert [(c["email"], c["isDefault"]) for c in before] == [
        (default.email, True),
        ("help@zylker.com", False),
    ]
    # Another department's agent is offered nothing for this ticket.
    assert (await gql.as_(world.bob_token)(CHOICE, {"id": ticket_gid})).data == {
        "replyFromChoice": []
    }

    # Only administrators may disable it.
    refused = await alice(
        DISABLE, {"input": {"id": gid("SupportAddress", default.id), "fromDisabled": True}}
    )
    assert refused.error_codes() == ["FORBIDDEN"]
    assert (await models.SupportAddress.get(id=default.id)).from_disabled is False

    res = await gql.as_(world.admin_token)(
        DISABLE, {"input": {"id": gid("SupportAddress", default.id), "fromDisabled": True}}
    )
    assert res.data["supportAddressUpdate"] == {
        "errors": [],
        "supportAddress": {"email": default.email, "fromDisabled": True, "isFetching": True},
    }
    assert await models.Activity.filter(kind="support_address.updated").count() == 1

    after = (await alice(CHOICE, {"id": ticket_gid})).data["replyFromChoice"]
    assert [(c["email"], c["isDefault"]) for c in after] == [("help@zylker.com", False)]
    assert after[0]["fromAddress"]["id"] == gid("FromAddress", verified.id)

    threads_before = await models.Thread.all().count()
    no_from = await alice(REPLY, {"input": {"ticketId": ticket_gid, "bodyText": "Hello"}})
    assert [(e["field"], e["code"]) for e in no_from.data["ticketReply"]["errors"]] == [
        ("fromAddressId", "REQUIRED")
    ]
    assert await models.Thread.all().count() == threads_before
    assert await models.OutboxMessage.all().count() == 0

    chosen = await alice(
        REPLY,
        {
            "input": {
                "ticketId": ticket_gid,
                "bodyText": "Hello",
                "fromAddressId": gid("FromAddress", verified.id),
            }
        },
    )
    assert chosen.data["ticketReply"]["errors"] == []
    await deliver_all(cfg)
    assert len(sink.received) == 1
    assert "help@zylker.com" in sink.received[0].message["From"]
    # Auto-CC still copies the (disabled-as-sender) support mailbox (EM-10).
    assert default.email in sink.received[0].rcpt_tos

    # Enabled again: offered and usable without a choice.
    res = await gql.as_(world.admin_token)(
        DISABLE, {"input": {"id": gid("SupportAddress", default.id), "fromDisabled": False}}
    )
    assert res.data["supportAddressUpdate"]["supportAddress"]["fromDisabled"] is False
    again = await alice(REPLY, {"input": {"ticketId": ticket_gid, "bodyText": "Again"}})
    assert again.data["ticketReply"]["errors"] == []


async def test_from_disabled_cannot_be_null(world, gql, settings: Settings):
    default = await ensure_default_address(settings)
    res = await gql.as_(world.admin_token)(
        DISABLE, {"input": {"id": gid("SupportAddress", default.id), "fromDisabled": None}}
    )
    assert [(e["field"], e["code"]) for e in res.data["supportAddressUpdate"]["errors"]] == [
        ("fromDisabled", "REQUIRED")
    ]
    assert (await models.SupportAddress.get(id=default.id)).from_disabled is False
