"""Outgoing mail on the embedded default (issue 11, point 6): without a relay each message is
written to var/mail/outgoing/*.eml and logged; with a relay nothing changes. Links in emails
follow the server's host and port unless DESKQL_PUBLIC_BASE_URL is set."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from email import message_from_bytes, policy

import pytest

from deskql import models
from deskql.models.outbound import OutboxStatus
from deskql.services import auth, from_addresses, replies
from deskql.settings import Settings
from tests.conftest import World
from tests.outbound.conftest import Sink, deliver_all, email_ticket, relay_settings

LINK = re.compile(r"(http://\S+/verify-from-address/\S+)")


def test_defaults_have_no_relay_and_links_follow_host_and_port() -> None:
    s = Settings.from_env({"DESKQL_PORT": "8123"})
    assert s.relay_configured is False
    assert s.base_url == "http://127.0.0.1:8123"
    assert Settings(host="0.0.0.0", port=9000).base_url == "http://127.0.0.1:9000"
    assert Settings(host="::", port=9000).base_url == "http://[::1]:9000"
    assert Settings(host="desk.internal", port=80).base_url == "http://desk.internal:80"
    public = Settings(port=8123, public_base_url="https://desk.example.com/")
    assert public.base_url == "https://desk.example.com"
    assert Settings(relay_host="smtp.example.com").relay_configured is True


async def test_without_a_relay_mail_goes_to_the_local_folder(
    world: World, clean_db: Settings, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="deskql.outbox")
    cfg = replace(clean_db, port=8123, public_base_url="", relay_host="")
    folder = cfg.outgoing_mail_dir
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(
        alice, settings=cfg, ticket_id=ticket.id, body_text="Turn it off and on."
    )
    await deliver_all(cfg)
    files = sorted(set(folder.glob("*.eml")) - before)
    assert len(files) == 1
    raw = files[0].read_bytes()
    head, _, rest = raw.partition(b"\r\n")
    assert head.startswith(b"X-Envelope-From: ")
    msg = message_from_bytes(raw, policy=policy.default)
    assert "melissa@example.com" in msg["X-Envelope-To"]
    assert msg["Subject"] == "Re: Printer jam [#1]"
    assert msg["Message-ID"] == sent.thread.message_id
    assert "Turn it off and on." in msg.get_body(("plain",)).get_content()
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.SENT and row.attempts == 1
    logged = [r.getMessage() for r in caplog.records if r.name == "deskql.outbox"]
    assert any(str(files[0]) in m and "no relay configured" in m for m in logged), logged

    # A From address verification link points at this server's port.
    admin = await auth.load_actor(world.admin.id)
    await from_addresses.create_from_address(
        admin,
        settings=cfg,
        department_id=world.support.id,
        email="billing@zylker.com",
        display_name="Zylker Billing",
    )
    await deliver_all(cfg)
    verification = sorted(set(folder.glob("*.eml")) - before - set(files))
    assert len(verification) == 1
    body = message_from_bytes(verification[0].read_bytes(), policy=policy.default)
    text = body.get_body(("plain",)).get_content()
    match = LINK.search(text)
    assert match and match.group(1).startswith("http://127.0.0.1:8123/verify-from-address/")


async def test_with_a_relay_nothing_is_written(world: World, clean_db: Settings):
    sink = Sink()
    await sink.start()
    cfg = relay_settings(clean_db, sink)
    folder = cfg.outgoing_mail_dir
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    try:
        await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
        await deliver_all(cfg)
    finally:
        await sink.stop()
    assert len(sink.received) == 1
    after = set(folder.glob("*.eml")) if folder.exists() else set()
    assert after == before


async def test_an_unwritable_folder_is_a_temporary_failure(world: World, clean_db: Settings):
    cfg = replace(clean_db, relay_host="", outbox_backoff_ms=1, outbox_max_attempts=2)
    blocker = cfg.var_dir / "not-a-folder"
    blocker.write_text("x")
    cfg = replace(cfg, var_dir=blocker)  # mail/outgoing cannot be created under a file
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, body_text="Hi")
    await deliver_all(cfg)
    row = await models.OutboxMessage.get(id=sent.outbox.id)
    assert row.status is OutboxStatus.FAILED and row.attempts == 2
    assert "cannot write to the mail folder" in row.last_error


def test_bad_operating_settings_are_refused_clearly() -> None:
    for env, message in (
        ({"DESKQL_LOG_FORMAT": "xml"}, "DESKQL_LOG_FORMAT must be text or json"),
        ({"DESKQL_LOG_LEVEL": "loud"}, "DESKQL_LOG_LEVEL must be"),
        ({"DESKQL_READY_TIMEOUT_MS": "soon"}, "DESKQL_READY_TIMEOUT_MS must be a whole number"),
    ):
        with pytest.raises(ValueError, match=message):
            Settings.from_env(env)
    ok = Settings.from_env({"DESKQL_LOG_FORMAT": "JSON", "DESKQL_LOG_LEVEL": "Warning"})
    assert (ok.log_format, ok.log_level) == ("json", "warning")
