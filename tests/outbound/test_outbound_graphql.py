"""The outbound email over GraphQL: ticketReply/ticketForward with delivery status and re-send,
From addresses (password never readable), templates and drafts; expected failures in the
payload's errors with nothing written."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deskql import models
from deskql.models.outbound import OutboxStatus
from deskql.settings import Settings
from tests.conftest import gid
from tests.outbound.conftest import Sink, deliver_all, email_ticket, relay_settings

REPLY = """
mutation($input: TicketReplyInput!) {
  ticketReply(input: $input) {
    errors { field message code }
    thread { id isPublic subject to cc }
    outgoingEmail { id status messageId cc }
  }
}"""

STATUS = """
query($id: ID!) { outgoingEmail(threadId: $id) { status attempts lastError sentAt } }"""


async def test_reply_delivered_and_status(world, gql, sink: Sink, settings: Settings):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    res = await gql.as_(world.alice_token)(
        REPLY, {"input": {"ticketId": gid("Ticket", ticket.id), "bodyText": "Try this."}}
    )
    out = res.data["ticketReply"]
    assert out["errors"] == []
    assert out["thread"]["subject"] == "Re: Printer jam [#1]"
    assert out["thread"]["to"] == "melissa@example.com" and out["thread"]["cc"] == ""
    assert out["outgoingEmail"]["status"] == "QUEUED"
    assert "support@zylker.deskql.local" in out["outgoingEmail"]["cc"]
    thread_id = out["thread"]["id"]
    await deliver_all(cfg)
    status = (await gql.as_(world.alice_token)(STATUS, {"id": thread_id})).data["outgoingEmail"]
    assert status["status"] == "SENT" and status["attempts"] == 1 and status["sentAt"]
    # Another department's agent sees nothing.
    assert (await gql.as_(world.bob_token)(STATUS, {"id": thread_id})).data == {
        "outgoingEmail": None
    }
    # The same status on the thread itself; incoming threads have none.
    on_ticket = await gql.as_(world.alice_token)(
        "query($id: ID!) { ticket(id: $id) { threads { nodes { direction "
        "deliveryStatus { status } } } } }",
        {"id": gid("Ticket", ticket.id)},
    )
    by_direction = {
        t["direction"]: t["deliveryStatus"] for t in on_ticket.data["ticket"]["threads"]["nodes"]
    }
    assert by_direction == {"INCOMING": None, "OUTGOING": {"status": "SENT"}}


async def test_reply_failure_visible_and_resend(world, gql, sink: Sink, settings: Settings):
    sink.answers = ["550 5.1.1 no such user"]
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    res = await gql.as_(world.alice_token)(
        REPLY, {"input": {"ticketId": gid("Ticket", ticket.id), "bodyText": "Hi"}}
    )
    out = res.data["ticketReply"]
    await deliver_all(cfg)
    status = (await gql.as_(world.alice_token)(STATUS, {"id": out["thread"]["id"]})).data
    assert status["outgoingEmail"]["status"] == "FAILED"
    assert "550" in status["outgoingEmail"]["lastError"]
    resend = """mutation($id: ID!) { outgoingEmailResend(input: {id: $id}) {
        errors { code } outgoingEmail { status attempts } } }"""
    again = await gql.as_(world.alice_token)(resend, {"id": out["outgoingEmail"]["id"]})
    assert again.data["outgoingEmailResend"]["outgoingEmail"] == {"status": "QUEUED", "attempts": 0}
    await deliver_all(cfg)
    assert (await models.OutboxMessage.get()).status is OutboxStatus.SENT
    twice = await gql.as_(world.alice_token)(resend, {"id": out["outgoingEmail"]["id"]})
    assert twice.data["outgoingEmailResend"]["errors"] == [{"code": "CONFLICT"}]


@pytest.mark.parametrize(
    ("extra", "field", "code"),
    [
        ({"subject": "Hello\r\nBcc: all@example.com"}, "subject", "INVALID"),
        ({"to": ["melissa@example.com>\nBcc: x@y.example"]}, "to", "INVALID"),
        ({"cc": ["definitely not an address"]}, "cc", "INVALID_EMAIL"),
        ({"fromAddressId": gid("FromAddress", 99)}, "fromAddressId", "NOT_FOUND"),
        ({"templateId": gid("EmailTemplate", 99)}, "templateId", "NOT_FOUND"),
        ({"attachmentIds": ["bad"]}, "attachmentIds", "INVALID"),
    ],
)
async def test_reply_refused_writes_nothing(world, gql, extra, field, code):
    ticket = await email_ticket(world)
    res = await gql.as_(world.alice_token)(
        REPLY, {"input": {"ticketId": gid("Ticket", ticket.id), "bodyText": "Hi"} | extra}
    )
    out = res.data["ticketReply"]
    assert [(e["field"], e["code"]) for e in out["errors"]][:1] == [(field, code)]
    assert out["thread"] is None
    assert await models.OutboxMessage.all().count() == 0
    assert await models.Thread.filter(direction="OUTGOING").count() == 0


async def test_forward_is_private_and_quotes(world, gql, sink: Sink, settings: Settings):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    q = """mutation($input: TicketForwardInput!) { ticketForward(input: $input) {
        errors { field code } thread { isPublic subject bodyText } } }"""
    res = await gql.as_(world.alice_token)(
        q,
        {
            "input": {
                "ticketId": gid("Ticket", ticket.id),
                "to": ["vendor@parts.example"],
                "bodyText": "FYI",
            }
        },
    )
    thread = res.data["ticketForward"]["thread"]
    assert thread["isPublic"] is False
    assert thread["subject"] == "Fwd: Printer jam [#1]"
    assert "---------- Forwarded message ----------" in thread["bodyText"]
    assert "It jams." in thread["bodyText"]
    await deliver_all(cfg)
    assert sink.received[0].message["In-Reply-To"] is None


async def test_from_address_admin_only_password_never_returned(world, gql):
    create = """mutation($input: FromAddressCreateInput!) { fromAddressCreate(input: $input) {
        errors { field code }
        fromAddress { email isVerified usesOwnSmtp smtpUsername spfRecord department { name } }
    } }"""
    inp = {
        "departmentId": gid("Department", world.support.id),
        "email": "help@zylker.com",
        "smtp": {
            "host": "smtp.zylker.com",
            "port": 587,
            "security": "TLS",
            "username": "help",
            "password": "hunter2",
        },
    }
    denied = await gql.as_(world.alice_token)(create, {"input": inp})
    assert denied.error_codes() == ["FORBIDDEN"]
    res = await gql.as_(world.admin_token)(create, {"input": inp})
    out = res.data["fromAddressCreate"]
    assert out["errors"] == []
    assert out["fromAddress"] == {
        "email": "help@zylker.com",
        "isVerified": False,
        "usesOwnSmtp": True,
        "smtpUsername": "help",
        "spfRecord": None,
        "department": {"name": "Support"},
    }
    fields = await gql.as_(world.admin_token)('{ __type(name: "FromAddress") { fields { name } } }')
    names = {f["name"] for f in fields.data["__type"]["fields"]}
    assert not any("password" in n.lower() for n in names)
    assert "hunter2" not in str(res.body)
    # Agents see it in the reply editor's choice (own SMTP needs no verification).
    listing = await gql.as_(world.alice_token)("{ fromAddresses { totalCount nodes { email } } }")
    assert listing.data["fromAddresses"]["nodes"] == [{"email": "help@zylker.com"}]
    bad = await gql.as_(world.admin_token)(
        create, {"input": inp | {"email": "x@zylker.com", "smtp": inp["smtp"] | {"port": 2525}}}
    )
    assert bad.data["fromAddressCreate"]["errors"] == [{"field": "smtpPort", "code": "INVALID"}]


async def test_verification_flow_over_graphql(world, gql, http, sink: Sink, settings: Settings):
    cfg = relay_settings(settings, sink)
    create = """mutation($input: FromAddressCreateInput!) { fromAddressCreate(input: $input) {
        errors { code } fromAddress { id isVerified spfRecord } } }"""
    res = await gql.as_(world.admin_token)(
        create,
        {
            "input": {
                "departmentId": gid("Department", world.support.id),
                "email": "billing@zylker.com",
            }
        },
    )
    addr = res.data["fromAddressCreate"]["fromAddress"]
    assert addr["isVerified"] is False
    assert addr["spfRecord"] == "v=spf1 mx include:deskql.local ~all"
    resend = """mutation($id: ID!) { fromAddressResendVerification(input: {id: $id}) {
        errors { code } } }"""
    assert (await gql.as_(world.admin_token)(resend, {"id": addr["id"]})).data[
        "fromAddressResendVerification"
    ]["errors"] == []
    await deliver_all(cfg)
    assert len(sink.received) == 2  # the first link and the new one
    # Unverified: hidden from agents.
    listing = await gql.as_(world.alice_token)("{ fromAddresses { totalCount } }")
    assert listing.data["fromAddresses"]["totalCount"] == 0


async def test_templates_and_drafts_over_graphql(world, gql, sink: Sink, settings: Settings):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    save = """mutation($input: EmailTemplateSaveInput!) { emailTemplateSave(input: $input) {
        errors { field code message } emailTemplate { id name isShared } } }"""
    bad = await gql.as_(world.alice_token)(
        save, {"input": {"name": "X", "bodyText": "Hi {{contact.password}}"}}
    )
    (err,) = bad.data["emailTemplateSave"]["errors"]
    assert (err["field"], err["code"]) == ("bodyText", "INVALID")
    ok = await gql.as_(world.alice_token)(
        save, {"input": {"name": "Hello", "bodyText": "Hi {{contact.first_name}}"}}
    )
    tpl = ok.data["emailTemplateSave"]["emailTemplate"]
    assert tpl["isShared"] is False
    draft_save = """mutation($input: DraftSaveInput!) { draftSave(input: $input) {
        errors { code } draft { id savedAt bodyText } } }"""
    first = await gql.as_(world.alice_token)(
        draft_save,
        {"input": {"ticketId": gid("Ticket", ticket.id), "clientKey": "ed1", "bodyText": "Hi"}},
    )
    again = await gql.as_(world.alice_token)(
        draft_save,
        {"input": {"ticketId": gid("Ticket", ticket.id), "clientKey": "ed1", "bodyText": "Hi Mel"}},
    )
    d1, d2 = first.data["draftSave"]["draft"], again.data["draftSave"]["draft"]
    assert d1["id"] == d2["id"] and d2["bodyText"] == "Hi Mel" and d2["savedAt"] >= d1["savedAt"]
    listing = await gql.as_(world.alice_token)(
        "query($t: ID!) { drafts(ticketId: $t) { totalCount nodes { id } } }",
        {"t": gid("Ticket", ticket.id)},
    )
    assert listing.data["drafts"]["totalCount"] == 1
    bob_list = await gql.as_(world.bob_token)(
        "query($t: ID!) { drafts(ticketId: $t) { totalCount } }", {"t": gid("Ticket", ticket.id)}
    )
    assert bob_list.data["drafts"]["totalCount"] == 0
    send = """mutation($id: ID!) { draftSend(input: {id: $id}) {
        errors { code } thread { bodyText } outgoingEmail { status } } }"""
    sent = await gql.as_(world.alice_token)(send, {"id": d1["id"]})
    assert sent.data["draftSend"]["thread"]["bodyText"] == "Hi Mel"
    assert not await models.Draft.exists()
    gone = await gql.as_(world.alice_token)(send, {"id": d1["id"]})
    assert gone.data["draftSend"]["errors"] == [{"code": "NOT_FOUND"}]
    discard = await gql.as_(world.alice_token)(
        "mutation($id: ID!) { draftDiscard(input: {id: $id}) { errors { code } } }",
        {"id": d1["id"]},
    )
    assert discard.data["draftDiscard"]["errors"] == [{"code": "NOT_FOUND"}]
    await deliver_all(cfg)
    assert len(sink.received) == 1


def test_settings_from_env():
    s = Settings.from_env({"DESKQL_RELAY_SECURITY": "tls", "DESKQL_RELAY_PORT": "587"})
    assert (s.relay_security, s.relay_port) == ("TLS", 587)
    with pytest.raises(ValueError):
        Settings.from_env({"DESKQL_RELAY_SECURITY": "SSLv2"})
    assert replace(s, secret_key="k").secret_key == "k"


async def reply_with_files(http, token: str, ticket_id: str, files: dict[str, tuple]):
    import json

    query = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
        errors { field code } thread { id } } }"""
    operations = {
        "query": query,
        "variables": {
            "input": {
                "ticketId": ticket_id,
                "bodyText": "See attached",
                "files": [None] * len(files),
            }
        },
    }
    mapping = {k: [f"variables.input.files.{i}"] for i, k in enumerate(files)}
    resp = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
        files=files,
        headers={"Authorization": f"Bearer {token}"},
    )
    return resp.json()["data"]["ticketReply"]


async def test_reply_with_uploaded_files(world, http, sink: Sink, settings: Settings):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    out = await reply_with_files(
        http,
        world.alice_token,
        gid("Ticket", ticket.id),
        {
            "0": ("invoice.pdf", b"%PDF-1.4 fake", "application/pdf"),
            "1": ("notes.txt", b"hi", "text/plain"),
        },
    )
    assert out["errors"] == []
    rows = await models.Attachment.filter(ticket_id=ticket.id).order_by("id")
    assert [(r.filename, r.content_type, r.size) for r in rows] == [
        ("invoice.pdf", "application/pdf", 13),
        ("notes.txt", "text/plain", 2),
    ]
    assert all(r.thread_id is not None for r in rows)
    await deliver_all(cfg)
    msg = sink.received[0].message
    parts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert parts == {"invoice.pdf": b"%PDF-1.4 fake", "notes.txt": "hi"}


async def test_upload_over_the_email_limit_is_refused(world, http, settings: Settings):
    ticket = await email_ticket(world)
    big = b"x" * (settings.outbound_attachment_max_bytes + 1)
    out = await reply_with_files(
        http,
        world.alice_token,
        gid("Ticket", ticket.id),
        {"0": ("big.bin", big, "application/octet-stream")},
    )
    assert out["errors"] == [{"field": "files", "code": "LIMIT_EXCEEDED"}]
    assert out["thread"] is None
    assert await models.Attachment.all().count() == 0
    assert await models.OutboxMessage.all().count() == 0
