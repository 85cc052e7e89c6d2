"""Replies through the outbox to a real SMTP sink: threading headers, auto-CC, agent name,
private replies, the relay's faults, and refusals that write nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskql import models
from deskql.models.outbound import OutboxStatus
from deskql.services import auth, email_settings, from_addresses, outbox, replies
from deskql.services.errors import ValidationFailed
from deskql.settings import Settings
from tests.outbound.conftest import (
    Sink,
    deliver_all,
    email_ticket,
    make_due,
    relay_settings,
    self_signed,
)

SUPPORT = "support@zylker.deskql.local"


async def counts() -> tuple[int, int, int]:
    return (
        await models.Thread.filter(direction="OUTGOING").count(),
        await models.OutboxMessage.all().count(),
        await models.Activity.filter(kind="ticket.thread_added").count(),
    )


async def test_reply_is_sent_with_threading_headers(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(
        alice, settings=cfg, ticket_id=ticket.id, body_text="Turn it off and on."
    )
    # Committed together, before any SMTP I/O.
    assert sent.outbox.status is OutboxStatus.QUEUED
    assert sink.received == []
    await deliver_all(cfg)
    assert len(sink.received) == 1
    msg = sink.received[0].message
    assert msg["Subject"] == "Re: Printer jam [#1]"
    assert msg["In-Reply-To"] == "<orig-1@example.com>"
    assert msg["References"] == "<orig-1@example.com>"
    assert msg["Message-ID"] == sent.thread.message_id
    assert msg["Message-ID"].endswith("@zylker.deskql.local>")
    # EM-12: the agent's name; EM-10: the support address in CC, not on the thread.
    assert str(msg["From"]) == f"A Alice <{SUPPORT}>"
    assert SUPPORT in str(msg["Cc"])
    assert sent.thread.cc_addresses == ""
    assert sorted(sink.received[0].rcpt_tos) == sorted(["melissa@example.com", SUPPORT])
    assert sent.thread.is_public is True
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.SENT and row.attempts == 1
    # SENT is on the row; only a final failure writes an Activity row.
    assert not await models.Activity.filter(kind="ticket.email_failed").exists()


async def test_switches_off_and_private_reply(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    admin = await auth.load_actor(world.admin.id)
    await email_settings.update_settings(
        admin,
        department_id=world.support.id,
        changes={"auto_cc": False, "agent_name_in_replies": False},
    )
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(
        alice,
        settings=cfg,
        ticket_id=ticket.id,
        to=["vendor@parts.example"],
        bcc=["boss@zylker.com"],
        body_text="Can you ship a roller?",
    )
    await deliver_all(cfg)
    (got,) = sink.received
    msg = got.message
    assert msg["Cc"] is None
    assert msg["Bcc"] is None  # bcc only in the envelope
    assert sorted(got.rcpt_tos) == ["boss@zylker.com", "vendor@parts.example"]
    assert str(msg["From"]) == f"Zylker <{SUPPORT}>"
    # EM-15: the requester is not among the recipients.
    assert sent.thread.is_public is False


async def test_relay_down_then_up(world, settings: Settings, sink: Sink):
    port = sink.port
    await sink.stop()
    cfg = relay_settings(settings, sink, outbox_max_attempts=8)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await outbox.run_once(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.QUEUED and row.attempts == 1
    assert "cannot reach 127.0.0.1" in row.last_error
    # The thread exists and shows it waiting.
    assert await models.Thread.exists(id=sent.thread.id)
    sink.port = port
    await sink.start()
    await asyncio.sleep(0.01)
    await deliver_all(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.SENT and row.attempts == 2
    assert len(sink.received) == 1


async def test_4xx_then_2xx_and_backoff(world, settings: Settings, sink: Sink):
    sink.answers = ["451 4.3.0 try later", "452 4.3.1 full"]
    cfg = relay_settings(settings, sink, outbox_backoff_ms=60_000)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await outbox.run_once(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.QUEUED and "451" in row.last_error
    wait = (row.next_attempt_at - datetime.now(UTC)).total_seconds()
    assert 50 < wait <= 60
    # Not due yet: the worker does not touch it.
    assert await outbox.run_once(cfg) == 0
    await make_due()
    await outbox.run_once(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.QUEUED and "452" in row.last_error
    wait = (row.next_attempt_at - datetime.now(UTC)).total_seconds()
    assert 110 < wait <= 120  # exponential: twice the first
    assert outbox.backoff(cfg, 3).total_seconds() == 240
    await make_due()
    await outbox.run_once(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.SENT and row.attempts == 3
    assert len(sink.received) == 1


async def test_5xx_is_final_and_resendable(world, settings: Settings, sink: Sink):
    sink.answers = ["554 5.7.1 rejected"]
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await deliver_all(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.FAILED and row.attempts == 1
    assert "554" in row.last_error
    assert await models.Activity.filter(kind="ticket.email_failed").exists()
    again = await outbox.resend(alice, outbox_id=row.id)
    assert again.status is OutboxStatus.QUEUED
    await deliver_all(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.SENT
    assert sink.received[0].message["Message-ID"] == sent.thread.message_id
    with pytest.raises(ValidationFailed) as exc:
        await outbox.resend(alice, outbox_id=row.id)
    assert exc.value.errors[0].code == "CONFLICT"


async def test_every_retry_exhausted_is_failed(world, settings: Settings, sink: Sink):
    sink.answers = ["451 later"] * 3
    cfg = relay_settings(settings, sink, outbox_max_attempts=3)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await deliver_all(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.FAILED and row.attempts == 3
    assert sink.received == []


async def test_stale_sending_row_is_not_sent_twice(world, settings: Settings, sink: Sink):
    """A crash between the hand-over and the commit of SENT: never re-sent by itself."""
    from datetime import timedelta

    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await models.OutboxMessage.filter(id=sent.outbox.id).update(
        status=OutboxStatus.SENDING,
        attempts=1,
        claimed_at=datetime.now(UTC) - timedelta(hours=1),
    )
    assert await outbox.run_once(cfg) == 0
    assert await outbox.recover_stale(cfg) == 1
    await deliver_all(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.FAILED and "may have been delivered" in row.last_error
    assert sink.received == []


async def test_two_workers_send_once(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    for i in range(6):
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text=f"n{i}")
    await asyncio.gather(outbox.run_once(cfg), outbox.run_once(cfg), outbox.run_once(cfg))
    await deliver_all(cfg)
    ids = [r.message["Message-ID"] for r in sink.received]
    assert len(ids) == 6 and len(set(ids)) == 6


async def test_tls_port_with_plain_server(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink, relay_security="SSL")
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await outbox.run_once(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.FAILED
    assert "TLS handshake" in row.last_error and "plain SMTP port" in row.last_error


async def test_plain_client_to_ssl_port(world, settings: Settings, tmp_path: Path):
    tls_sink = Sink(tls=self_signed(tmp_path))
    await tls_sink.start()
    try:
        cfg = relay_settings(settings, tls_sink, relay_timeout_seconds=1)
        ticket = await email_ticket(world)
        alice = await auth.load_actor(world.alice.id)
        sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
        await outbox.run_once(cfg)
        row = await models.OutboxMessage.get(id=sent.outbox.id)
        assert row.status is OutboxStatus.QUEUED
        assert "no SMTP greeting" in row.last_error and "use SSL" in row.last_error
        # With SSL it goes.
        cfg_ssl = relay_settings(settings, tls_sink, relay_security="SSL")
        await make_due()
        await outbox.run_once(cfg_ssl)
        row = await models.OutboxMessage.get(id=sent.outbox.id)
        assert row.status is OutboxStatus.SENT, row.last_error
        assert len(tls_sink.received) == 1
    finally:
        await tls_sink.stop()


async def test_wrong_credentials(world, settings: Settings, sink: Sink):
    sink.credentials = ("relay", "right")
    cfg = relay_settings(settings, sink, relay_user="relay", relay_password="wrong")
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await outbox.run_once(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.FAILED
    assert "refused the SMTP credentials" in row.last_error
    good = relay_settings(settings, sink, relay_user="relay", relay_password="right")
    await outbox.resend(alice, outbox_id=row.id)
    await deliver_all(good)
    assert len(sink.received) == 1


async def test_own_smtp_from_address_sends_through_its_server(
    world, settings: Settings, sink: Sink
):
    own = Sink(credentials=("agent@zylker.com", "s3cret"))
    await own.start()
    try:
        cfg = relay_settings(settings, sink)
        admin = await auth.load_actor(world.admin.id)
        addr = await from_addresses.create_from_address(
            admin,
            settings=cfg,
            department_id=world.support.id,
            email="help@zylker.com",
            display_name="Zylker Help",
            smtp_settings={
                "host": "127.0.0.1",
                "port": 25,
                "security": "PLAIN",
                "username": "agent@zylker.com",
                "password": "s3cret",
            },
        )
        row = await models.FromAddress.get(id=addr.id)
        assert "s3cret" not in row.smtp_password_encrypted
        assert from_addresses.decrypt(cfg, row.smtp_password_encrypted) == "s3cret"
        # No verification email for an own-SMTP address.
        assert await models.OutboxMessage.all().count() == 0
        # The test server listens on its own port: point the address at it.
        await models.FromAddress.filter(id=addr.id).update(smtp_port=own.port)
        ticket = await email_ticket(world)
        alice = await auth.load_actor(world.alice.id)
        await replies.send_reply(
            alice, settings=cfg, ticket_id=ticket.id, body_text="Hi", from_address_id=addr.id
        )
        await deliver_all(cfg)
        assert sink.received == []
        (got,) = own.received
        assert got.mail_from == "help@zylker.com"
        assert str(got.message["From"]) == "A Alice <help@zylker.com>"
    finally:
        await own.stop()


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"subject": "Hi\r\nBcc: victim@example.com"}, "subject", "INVALID"),
        ({"to": ["melissa@example.com\r\nBcc: x@example.com"]}, "to", "INVALID"),
        ({"to": ["not an address"]}, "to", "INVALID_EMAIL"),
        ({"cc": ["a@b"]}, "cc", "INVALID_EMAIL"),
        ({"body_text": ""}, "bodyText", "REQUIRED"),
        ({"to": []}, "to", "REQUIRED"),
    ],
)
async def test_bad_input_writes_nothing(world, settings: Settings, sink: Sink, kwargs, field, code):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    args = {"body_text": "Hi"} | kwargs
    before = await counts()
    with pytest.raises(ValidationFailed) as exc:
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, **args)
    assert (exc.value.errors[0].field, exc.value.errors[0].code) == (field, code)
    assert await counts() == before


async def test_header_injection_in_agent_name(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    await models.Agent.filter(id=world.alice.id).update(first_name="Eve\r\nBcc: x@evil.example")
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    before = await counts()
    with pytest.raises(ValidationFailed) as exc:
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    assert exc.value.errors[0].code == "INVALID"
    assert "line break" in exc.value.errors[0].message
    assert await counts() == before


async def test_thirty_megabyte_attachment_refused(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    att = await models.Attachment.create(
        ticket_id=ticket.id,
        filename="big.bin",
        content_type="application/octet-stream",
        size=30 * 1024 * 1024,
        sha256="0" * 64,
    )
    alice = await auth.load_actor(world.alice.id)
    before = await counts()
    with pytest.raises(ValidationFailed) as exc:
        await replies.send_reply(
            alice, settings=cfg, ticket_id=ticket.id, body_text="Hi", attachment_ids=[att.id]
        )
    assert (exc.value.errors[0].field, exc.value.errors[0].code) == (
        "attachmentIds",
        "LIMIT_EXCEEDED",
    )
    assert await counts() == before


async def test_other_department_ticket_is_not_found(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    bob = await auth.load_actor(world.bob.id)
    with pytest.raises(ValidationFailed) as exc:
        await replies.send_reply(bob, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    assert exc.value.errors[0].code == "NOT_FOUND"
    assert await models.OutboxMessage.all().count() == 0


async def test_unreachable_server_is_tried_once_per_session(
    world, settings: Settings, sink: Sink, monkeypatch
):
    from deskql.channels.email import outbound as smtp_channel

    await sink.stop()
    opened = []
    real_open = smtp_channel.Connection.open

    async def counting_open(self):
        opened.append(self.transport.port)
        await real_open(self)

    monkeypatch.setattr(smtp_channel.Connection, "open", counting_open)
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    for i in range(10):
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text=f"n{i}")
    assert await outbox.run_once(cfg) == 10
    assert len(opened) == outbox.CONNECTIONS  # not one per message
    rows = await models.OutboxMessage.all()
    assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.QUEUED, 1)}
    assert all("cannot reach" in r.last_error for r in rows)
