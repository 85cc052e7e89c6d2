"""Inbound mail edge cases of issue 17, point 5: mail from our own support address makes no
ticket (recorded IGNORED in the inbound audit); a recipient repeated in RCPT is stored once."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.models.enums import InboundStatus
from tests.channels.conftest import SUPPORT, Mailer


def mail(sender: str, mid: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: Hello\r\nMessage-ID: {mid}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    ).encode()


async def test_mail_from_our_own_support_address_is_ignored(mailer: Mailer) -> None:
    reply = await mailer.send(mail(f"Support <{SUPPORT.upper()}>", "<own-1@elsewhere.example>"))
    assert reply.code == 250
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.IGNORED
    assert f"sent from our own support address {SUPPORT}" in row.reason
    assert await models.Ticket.all().count() == 0
    assert not await models.Contact.filter(email=SUPPORT).exists()


async def test_repeated_recipient_is_stored_once(mailer: Mailer, world: Any) -> None:
    reply = await mailer.send(
        mail("Melissa Doe <melissa@example.com>", "<rep-1@example.com>"),
        rcpt=[SUPPORT] * 200 + [SUPPORT.upper()],
    )
    assert reply.code == 250
    assert all(code == 250 for code, _ in reply.rcpt)
    row = await models.InboundMessage.get()
    assert row.rcpt_to == SUPPORT
    assert row.status is InboundStatus.PROCESSED
    assert await models.Ticket.all().count() == 1
