"""The SMTP server over a real socket: recipients, durability (250 only once stored, 451
otherwise), size and line limits, duplicates, AUTH and STARTTLS, recovery after a crash."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deskql import models
from deskql.models.enums import InboundStatus
from deskql.services import mail_inbound, support_addresses
from deskql.services.mail_inbound import settle as inbound_settle
from deskql.services.mail_inbound import store as inbound_store
from deskql.settings import Settings
from tests.channels.conftest import (
    CORPUS,
    SUPPORT,
    Mailer,
    deliver,
    in_client_thread,
    start_mailer,
)


def simple(subject: str = "Help", mid: str = "<m1@example.com>", sender: str = "") -> bytes:
    sender = sender or "Melissa Doe <melissa@example.com>"
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    ).encode()


async def test_default_support_address_is_created_on_start_once(
    world: Any, settings: Settings
) -> None:
    first = await start_mailer(settings)
    await first.service.stop()
    second = await start_mailer(settings)
    await second.service.stop()
    rows = await models.SupportAddress.all()
    assert [(r.email, r.is_default, r.is_fetching) for r in rows] == [(SUPPORT, True, True)]


async def test_unknown_recipient_is_refused_at_rcpt(mailer: Mailer) -> None:
    reply = await mailer.send(simple(), rcpt=["nobody@zylker.deskql.local"])
    assert reply.rcpt[0][0] == 550
    assert reply.data is None
    assert await models.InboundMessage.all().count() == 0
    assert await models.Ticket.all().count() == 0


async def test_recipients_are_case_insensitive_and_unknown_ones_dropped(mailer: Mailer) -> None:
    reply = await mailer.send(simple(), rcpt=["stranger@example.com", SUPPORT.upper()])
    assert [code for code, _ in reply.rcpt] == [550, 250]
    assert reply.code == 250
    row = await models.InboundMessage.get()
    assert row.rcpt_to == SUPPORT.upper()
    assert row.support_address_id is not None  # type: ignore[attr-defined]
    assert row.status is InboundStatus.PROCESSED


async def test_250_only_after_the_raw_message_is_stored(world: Any, settings: Settings) -> None:
    # No workers: what the server did before answering is all there is to see.
    m = await start_mailer(settings, workers=0)
    try:
        reply = await in_client_thread(deliver, m.port, simple())
        assert reply.code == 250
        row = await models.InboundMessage.get()
        assert row.status is InboundStatus.RECEIVED
        assert mail_inbound.raw_path(m.settings, row).read_bytes() == simple()
        assert await models.Ticket.all().count() == 0
    finally:
        # Stop without processing: the queued id is lost with the process, the row is not.
        await m.service.stop(grace_seconds=0.1)
    # A restart picks up what was stored but not processed (a crash between 250 and ticket).
    again = await start_mailer(settings)
    try:
        await again.service.processor.drain()
        row = await models.InboundMessage.get()
        assert row.status is InboundStatus.PROCESSED
        assert await models.Ticket.all().count() == 1
    finally:
        await again.service.stop()


async def test_451_when_the_file_cannot_be_stored(
    mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inbound_store, "store_raw", broken)
    reply = await mailer.send(simple())
    assert reply.data is not None and reply.data[0] == 451
    assert await models.InboundMessage.all().count() == 0
    monkeypatch.undo()
    # The sender retries later and it goes through.
    assert (await mailer.send(simple())).code == 250
    assert await models.Ticket.all().count() == 1


async def test_451_when_the_row_cannot_be_written(
    mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("database went away")

    monkeypatch.setattr(inbound_store, "_insert_rows", broken)
    reply = await mailer.send(simple())
    assert reply.data is not None and reply.data[0] == 451
    monkeypatch.undo()
    assert await models.InboundMessage.all().count() == 0
    assert await models.Ticket.all().count() == 0


async def test_oversize_message_is_refused_with_552(world: Any, settings: Settings) -> None:
    m = await start_mailer(settings, smtp_max_message_bytes=10_000)
    try:
        big = simple() + b"x" * 200 + b"\r\n"
        big = big + (b"y" * 998 + b"\r\n") * 12
        reply = await m.send(big)
        assert reply.data is not None and reply.data[0] == 552
        # Declared size at MAIL FROM: refused before the data is sent.
        declared = await in_client_thread(_mail_with_size, m.port, 50_000)
        assert declared[0] == 552
        assert await models.InboundMessage.all().count() == 0
        # Under the limit: accepted.
        assert (await m.send(simple())).code == 250
    finally:
        await m.service.stop()


def _mail_with_size(port: int, size: int) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("tests.example")
        return client.mail("melissa@example.com", [f"SIZE={size}"])


async def test_default_size_limit_is_25_mb(mailer: Mailer) -> None:
    assert mailer.settings.smtp_max_message_bytes == 25 * 1024 * 1024
    code, text = await in_client_thread(_ehlo, mailer.port)
    assert code == 250
    assert f"SIZE {25 * 1024 * 1024}".encode() in text


def _ehlo(port: int) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.ehlo("tests.example")


async def test_a_line_over_64_kib_is_refused_with_500(mailer: Mailer) -> None:
    raw = simple() + b"z" * 70_000 + b"\r\n"
    reply = await mailer.send(raw)
    assert reply.data is not None and reply.data[0] == 500
    assert await models.InboundMessage.all().count() == 0


async def test_the_same_message_id_twice_makes_one_thread(mailer: Mailer) -> None:
    assert (await mailer.send(simple())).code == 250
    assert (await mailer.send(simple())).code == 250
    rows = await models.InboundMessage.all().order_by("id")
    assert [r.status for r in rows] == [InboundStatus.PROCESSED, InboundStatus.IGNORED]
    assert "duplicate Message-ID <m1@example.com>" in rows[1].reason
    assert rows[1].ticket_id == rows[0].ticket_id  # type: ignore[attr-defined]
    assert await models.Thread.all().count() == 1
    assert await models.Ticket.all().count() == 1


async def test_the_same_message_id_delivered_concurrently_makes_one_thread(
    mailer: Mailer,
) -> None:
    replies = await asyncio.gather(
        *(in_client_thread(deliver, mailer.port, simple()) for _ in range(6))
    )
    await mailer.service.processor.drain()
    assert [r.code for r in replies] == [250] * 6
    statuses = sorted(r.status.value for r in await models.InboundMessage.all())
    assert statuses == ["IGNORED"] * 5 + ["PROCESSED"]
    assert await models.Thread.all().count() == 1
    assert await models.Ticket.all().count() == 1


async def test_many_messages_in_parallel_all_become_tickets(mailer: Mailer) -> None:
    replies = await asyncio.gather(
        *(
            in_client_thread(
                deliver,
                mailer.port,
                simple(f"Case {i}", f"<p{i}@example.com>", f"Person {i} <p{i}@example.com>"),
            )
            for i in range(20)
        )
    )
    await mailer.service.processor.drain()
    assert all(r.code == 250 for r in replies)
    assert await models.InboundMessage.filter(status=InboundStatus.PROCESSED).count() == 20
    numbers = sorted(await models.Ticket.all().values_list("number", flat=True))
    assert numbers == list(range(1, 21))
    assert await models.Contact.filter(email__startswith="p").count() == 20
    assert len(mailer.events) == 20


async def test_a_new_sender_in_two_messages_at_once_is_one_contact(mailer: Mailer) -> None:
    sender = "New Person <new@example.org>"
    await asyncio.gather(
        *(
            in_client_thread(deliver, mailer.port, simple(f"Q{i}", f"<n{i}@example.org>", sender))
            for i in range(4)
        )
    )
    await mailer.service.processor.drain()
    assert await models.Contact.filter(email="new@example.org").count() == 1
    assert await models.Ticket.all().count() == 4
    assert await models.InboundMessage.filter(status=InboundStatus.PROCESSED).count() == 4


async def test_alias_with_fetching_off_keeps_mail_without_a_ticket(
    mailer: Mailer, world: Any
) -> None:
    alias = await models.SupportAddress.create(
        email="sales@zylker.deskql.local", is_fetching=False, department_id=world.sales.id
    )
    reply = await mailer.send(simple(), rcpt=[alias.email])
    assert reply.code == 250
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.IGNORED
    assert "not fetching (EM-4)" in row.reason
    assert row.support_address_id == alias.id  # type: ignore[attr-defined]
    assert await models.Ticket.all().count() == 0


async def test_alias_department_gets_the_ticket(mailer: Mailer, world: Any) -> None:
    alias = await models.SupportAddress.create(
        email="sales@zylker.deskql.local", department_id=world.sales.id
    )
    await mailer.send(simple(), rcpt=[alias.email])
    ticket = await models.Ticket.get()
    assert ticket.department_id == world.sales.id  # type: ignore[attr-defined]
    assert ticket.channel.value == "EMAIL"
    # The default address has no department: the first department takes it.
    await mailer.send(simple("Other", "<m2@example.com>"))
    second = await models.Ticket.filter(subject="Other").get()
    assert second.department_id == world.sales.id  # type: ignore[attr-defined]


async def test_processing_failure_is_kept_failed(
    mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the parser blew up")

    monkeypatch.setattr(inbound_settle, "_process", broken)
    reply = await mailer.send(simple())
    assert reply.code == 250  # it was stored: the failure is ours to handle, not the sender's
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.FAILED
    assert "RuntimeError: the parser blew up" in row.reason
    assert row.attempts == 1
    assert await models.Ticket.all().count() == 0
    assert await models.Thread.all().count() == 0
    assert mailer.events == []


async def test_auth_required_when_configured(world: Any, settings: Settings) -> None:
    m = await start_mailer(settings, smtp_auth_user="relay", smtp_auth_password="s3cret pass")
    try:
        refused = await m.send(simple())
        assert refused.mail[0] == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            await m.send(simple(), login=("relay", "wrong"))
        ok = await m.send(simple(), login=("relay", "s3cret pass"))
        assert ok.code == 250
        assert await models.InboundMessage.all().count() == 1
    finally:
        await m.service.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_starttls_when_configured(world: Any, settings: Settings, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    await asyncio.to_thread(
        subprocess.run,
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    m = await start_mailer(settings, smtp_tls_cert=str(cert), smtp_tls_key=str(key))
    try:
        reply = await in_client_thread(_send_tls, m.port, simple())
        await m.service.processor.drain()
        assert reply[0] == 250
        assert await models.Ticket.all().count() == 1
    finally:
        await m.service.stop()


def _send_tls(port: int, raw: bytes) -> tuple[int, bytes]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("tests.example")
        assert client.has_extn("starttls")
        client.starttls(context=context)
        client.ehlo("tests.example")
        client.mail("melissa@example.com")
        client.rcpt(SUPPORT)
        return client.data(raw)


async def test_original_content_is_served_exactly(mailer: Mailer, gql: Any, world: Any) -> None:
    raw = (CORPUS / "windows_1250.eml").read_bytes()
    await mailer.send(raw)
    thread = await models.Thread.get()
    from tests.conftest import gid

    query = "query($id: ID!) { node(id: $id) { ... on Thread { originalContent bodyText } } }"
    res = await gql.as_(world.admin_token)(query, {"id": gid("Thread", thread.id)})
    node = res.data["node"]
    assert "Příliš žluťoučký kůň" in node["bodyText"]
    # The raw source as received (its 8-bit bytes shown with replacement characters).
    assert node["originalContent"] == raw.decode("utf-8", errors="replace")
    # Bob works in Sales; the ticket is in the first department (Sales) too, so hide it:
    await models.Ticket.all().update(department_id=world.support.id)
    res = await gql.as_(world.bob_token)(query, {"id": gid("Thread", thread.id)})
    assert res.data["node"] is None


async def test_default_address_is_refused_when_missing(mailer: Mailer) -> None:
    # Mail to the default address works only because start() created it (EM-1).
    await models.SupportAddress.all().delete()
    reply = await mailer.send(simple())
    assert reply.rcpt[0][0] == 550
    await support_addresses.ensure_default_address(mailer.settings)
    assert (await mailer.send(simple())).code == 250


async def test_activity_is_published_after_commit_through_the_unit_of_work(
    mailer: Mailer,
) -> None:
    from deskql.realtime import topics
    from deskql.services import uow

    seen: list[tuple[str, dict[str, Any], bool]] = []

    async def recorder(events: list[tuple[str, dict[str, Any]]]) -> None:
        for channel, message in events:
            # Published after the commit: the row it announces is already readable.
            exists = await models.Activity.exists(id=message.get("id"))
            seen.append((channel, message, exists))

    uow.set_publisher(recorder)
    try:
        await mailer.send(simple())
    finally:
        uow.clear_publisher(recorder)
    ticket = await models.Ticket.get()
    on_ticket = [m for c, m, _ in seen if c == topics.ticket(ticket.id)]
    kinds = {
        (await models.Activity.get(id=m["id"])).kind for m in on_ticket if m["type"] == "activity"
    }
    assert {"ticket.created", "ticket.thread_added"} <= kinds
    assert all(exists for _, m, exists in seen if m["type"] == "activity")


async def test_an_empty_message_is_kept_and_becomes_a_ticket_from_the_envelope(
    mailer: Mailer,
) -> None:
    reply = await mailer.send(b"", mail_from="melissa@example.com")
    assert reply.code == 250
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.PROCESSED, row.reason
    ticket = await models.Ticket.get().select_related("contact")
    assert ticket.subject == "(no subject)"
    assert ticket.contact.email == "melissa@example.com"
    assert mail_inbound.raw_path(mailer.settings, row).exists()


async def test_an_empty_message_without_any_sender_is_kept_failed(mailer: Mailer) -> None:
    reply = await mailer.send(b"", mail_from="")
    assert reply.code == 250
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.FAILED
    assert "no usable sender" in row.reason
    assert await models.Ticket.all().count() == 0
