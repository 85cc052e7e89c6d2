"""The corpus of bad and tricky messages (tests/channels/corpus/*.eml), each with its expected
result in expected.json, delivered over a real SMTP socket. Nothing is lost: every accepted
message is a thread or a stored inbound message with a reason."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from deskql import models
from deskql.models.enums import InboundStatus
from deskql.services.mail_inbound import raw_path
from tests.channels.conftest import CORPUS, Mailer, closed_ticket

EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))


def test_every_corpus_file_has_an_expectation() -> None:
    files = {p.stem for p in CORPUS.glob("*.eml")}
    assert files == set(EXPECTED)
    assert len(files) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_corpus_message(name: str, mailer: Mailer, world: Any) -> None:
    expect = EXPECTED[name]
    raw = (CORPUS / f"{name}.eml").read_bytes()
    if expect.get("setup") == "closed_ticket":
        await closed_ticket(world)
    before_tickets = await models.Ticket.all().count()
    before_threads = await models.Thread.all().count()

    reply = await mailer.send(raw, mail_from=expect.get("mail_from", "envelope@example.net"))

    assert reply.code == 250, reply
    rows = await models.InboundMessage.all()
    assert len(rows) == 1
    row = rows[0]
    # Stored as received, whatever became of it.
    assert row.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert raw_path(mailer.settings, row).read_bytes() == raw
    assert row.status.value == expect["status"], row.reason
    assert row.attempts == 1
    assert row.reason
    if "reason_contains" in expect:
        assert expect["reason_contains"] in row.reason
    new_tickets = await models.Ticket.all().count() - before_tickets
    assert new_tickets == (1 if expect["new_ticket"] else 0), row.reason
    new_threads = await models.Thread.all().count() - before_threads
    if row.status is not InboundStatus.PROCESSED:
        assert new_threads == 0
        assert (row.ticket_id is None) or row.status is InboundStatus.IGNORED  # type: ignore[attr-defined]
        return
    assert new_threads == 1
    thread = await models.Thread.get(id=row.thread_id).prefetch_related("attachments")  # type: ignore[attr-defined]
    ticket = await models.Ticket.get(id=thread.ticket_id).select_related("contact")  # type: ignore[attr-defined]
    assert row.ticket_id == ticket.id  # type: ignore[attr-defined]
    if "reply_to_ticket" in expect:
        assert ticket.number == expect["reply_to_ticket"]
    if "subject" in expect:
        assert ticket.subject == expect["subject"]
    if "description" in expect:
        assert ticket.description == expect["description"]
    if "requester" in expect:
        assert ticket.contact.email == expect["requester"]
    if "contact_name" in expect:
        assert ticket.contact.name == expect["contact_name"]
    if "status_of_ticket" in expect:
        assert ticket.status.value == expect["status_of_ticket"]
    if "is_spam" in expect:
        assert ticket.is_spam is expect["is_spam"]
    if "message_id" in expect:
        assert thread.message_id == expect["message_id"]
    assert thread.is_public is expect.get("thread_public", True)
    for text in expect.get("text_contains", []):
        assert text in thread.body_text
    for text in expect.get("text_excludes", []):
        assert text not in thread.body_text
    for text in expect.get("html_contains", []):
        assert text in thread.body_html
    if "attachments" in expect:
        got = [(a.filename, a.content_type) for a in thread.attachments]
        assert got == [(n, t) for n, t, _ in expect["attachments"]]
        for attachment, (_, _, size) in zip(thread.attachments, expect["attachments"], strict=True):
            if size is not None:
                assert attachment.size == size
            assert attachment.ticket_id == ticket.id  # type: ignore[attr-defined]
    # Machines are marked on the thread's history so that nothing answers them automatically.
    added = (
        await models.Activity.filter(kind="ticket.thread_added", ticket_id=ticket.id)
        .order_by("-id")
        .first()
    )
    assert added is not None and added.changes["threadId"] == thread.id
    machine = (
        bool(expect.get("automated"))
        or "auto-reply" in row.reason
        or "delivery status" in (row.reason)
    )
    assert added.changes.get("automated", False) is machine
    # Spam makes no events.
    if ticket.is_spam:
        assert mailer.events == []
    else:
        assert [e["ticketId"] for e in mailer.events] == [ticket.id]
        if expect.get("automated"):
            assert mailer.events[0]["automated"] is True
