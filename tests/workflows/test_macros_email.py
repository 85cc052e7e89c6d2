"""A macro's SEND_EMAIL action (AUT-1 with issue 6): a template reply through the reply path and
the outbox to a real aiosmtpd sink on 127.0.0.1; refusals (unknown placeholder, disabled or
unverified From address, a contact without email) that leave the ticket unchanged and queue
nothing; and the per-ticket savepoints (a send refused or a bulk write failing mid-run)."""

from __future__ import annotations

from typing import Any

import pytest

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.services import auth, macros, replies
from deskql.services.errors import ErrorCode, FieldError, ValidationFailed
from deskql.settings import Settings
from tests.conftest import World
from tests.outbound.conftest import (
    Sink,
    deliver_all,
    email_ticket,
    relay_settings,
)


async def template(world: World, **kw: Any) -> models.EmailTemplate:
    return await models.EmailTemplate.create(
        name=kw.pop("name", "Ack"),
        department_id=world.support.id,
        subject=kw.pop("subject", "About {{ticket.subject}}"),
        body_text=kw.pop("body_text", "Hello {{contact.first_name}}, ticket {{ticket.status}}."),
        **kw,
    )


async def email_macro(world: World, tpl: models.EmailTemplate, **send: Any) -> models.Macro:
    admin = await auth.load_actor(world.admin.id)
    return await macros.create_macro(
        admin,
        department_id=world.support.id,
        name="Ack and hold",
        actions=[
            {"type": "SET_STATUS", "status": "ON_HOLD"},
            {"type": "SEND_EMAIL", "template_id": tpl.id, **send},
        ],
    )


async def outbound() -> tuple[int, int]:
    return (
        await models.Thread.filter(direction="OUTGOING").count(),
        await models.OutboxMessage.all().count(),
    )


async def test_send_email_reaches_the_sink(world: World, settings: Settings, sink: Sink) -> None:
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    row = await email_macro(world, await template(world))
    alice = await auth.load_actor(world.alice.id)
    out = await macros.apply_macro(alice, settings=cfg, macro_id=row.id, ticket_ids=[ticket.id])
    result = out.results[0]
    assert result.applied, result.errors
    # Committed with the ticket's change, sent only by the worker after the commit.
    assert sink.received == []
    thread = await models.Thread.get(ticket_id=ticket.id, direction="OUTGOING")
    assert result.changes["emails"] == [
        {"templateId": row.actions[1]["template_id"], "threadId": thread.id}
    ]
    assert (await models.Ticket.get(id=ticket.id)).status is TicketStatus.ON_HOLD
    activity = await models.Activity.get(ticket_id=ticket.id, kind="ticket.macro_applied")
    assert activity.changes["emails"][0]["threadId"] == thread.id
    await deliver_all(cfg)
    assert len(sink.received) == 1
    mail = sink.received[0]
    assert "melissa@example.com" in mail.rcpt_tos
    msg = mail.message
    assert msg["Subject"] == "About Printer jam [#1]"
    # The template sees the ticket as the macro left it.
    assert msg.get_body(("plain",)).get_content().strip() == "Hello Melissa, ticket ON_HOLD."
    assert msg["In-Reply-To"] == "<orig-1@example.com>"


async def test_unknown_placeholder_refuses_and_queues_nothing(world, settings, sink) -> None:
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    tpl = await template(world)
    row = await email_macro(world, tpl)
    # The template was changed behind the validation (e.g. a placeholder since withdrawn).
    await models.EmailTemplate.filter(id=tpl.id).update(body_text="Hi {{contact.password}}")
    before = await outbound()
    admin = await auth.load_actor(world.admin.id)
    with pytest.raises(ValidationFailed) as exc:
        await macros.apply_macro(admin, settings=cfg, macro_id=row.id, ticket_ids=[ticket.id])
    assert [(e.field, e.code) for e in exc.value.errors] == [
        ("actions.1.templateId", ErrorCode.INVALID)
    ]
    assert "contact.password" in exc.value.errors[0].message
    assert await outbound() == before
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.status is TicketStatus.OPEN and fresh.version == 1
    await deliver_all(cfg)
    assert sink.received == []


@pytest.mark.parametrize(
    ("change", "message"),
    [({"is_disabled": True}, "disabled"), ({"is_verified": False}, "not verified")],
)
async def test_unusable_from_address_refuses(
    world, settings, sink, change: dict[str, Any], message: str
) -> None:
    cfg = relay_settings(settings, sink)
    ticket = await email_ticket(world)
    sender = await models.FromAddress.create(
        department_id=world.support.id, email="billing@zylker.com", is_verified=True
    )
    row = await email_macro(world, await template(world), from_address_id=sender.id)
    await models.FromAddress.filter(id=sender.id).update(**change)
    before = await outbound()
    admin = await auth.load_actor(world.admin.id)
    with pytest.raises(ValidationFailed) as exc:
        await macros.apply_macro(admin, settings=cfg, macro_id=row.id, ticket_ids=[ticket.id])
    assert [(e.field, e.code) for e in exc.value.errors] == [
        ("actions.1.fromAddressId", ErrorCode.INVALID)
    ]
    assert message in exc.value.errors[0].message
    assert await outbound() == before
    assert (await models.Ticket.get(id=ticket.id)).version == 1
    assert not await models.Activity.filter(kind="ticket.macro_applied").exists()


async def test_from_address_of_another_department_is_refused_at_create(world) -> None:
    other = await models.FromAddress.create(
        department_id=world.sales.id, email="sales@zylker.com", is_verified=True
    )
    tpl = await template(world)
    with pytest.raises(ValidationFailed) as exc:
        await email_macro(world, tpl, from_address_id=other.id)
    assert [(e.field, e.code) for e in exc.value.errors] == [
        ("actions.1.fromAddressId", ErrorCode.NOT_FOUND)
    ]


async def test_contact_without_email_fails_alone(world, settings, sink) -> None:
    cfg = relay_settings(settings, sink)
    good = await email_ticket(world)
    phone_only = await models.Contact.create(first_name="Pat", last_name="Phone")
    from deskql.services import tickets

    admin = await auth.load_actor(world.admin.id)
    bad = await tickets.create_ticket(
        admin, subject="Call me", department_id=world.support.id, contact_id=phone_only.id
    )
    row = await email_macro(world, await template(world))
    out = await macros.apply_macro(
        admin, settings=cfg, macro_id=row.id, ticket_ids=[bad.id, good.id]
    )
    failed, sent = out.results
    assert [(e.field, e.code) for e in failed.errors] == [("actions.1.to", ErrorCode.REQUIRED)]
    assert sent.applied
    assert (await models.Ticket.get(id=bad.id)).status is TicketStatus.OPEN
    assert not await models.Thread.filter(ticket_id=bad.id, direction="OUTGOING").exists()
    await deliver_all(cfg)
    assert len(sink.received) == 1


async def test_send_refused_mid_run_rolls_back_that_ticket(
    world, settings, sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = relay_settings(settings, sink)
    first = await email_ticket(world)
    second = await email_ticket(world)
    row = await email_macro(world, await template(world))
    real = replies.send_reply

    async def refuse_second(actor: Any, **kw: Any) -> Any:
        if kw["ticket_id"] == second.id:
            raise ValidationFailed([FieldError("to", "the relay refused", ErrorCode.INVALID)])
        return await real(actor, **kw)

    monkeypatch.setattr(replies, "send_reply", refuse_second)
    admin = await auth.load_actor(world.admin.id)
    out = await macros.apply_macro(
        admin, settings=cfg, macro_id=row.id, ticket_ids=[first.id, second.id]
    )
    ok, refused = out.results
    assert ok.applied
    assert [(e.field, e.code) for e in refused.errors] == [("actions.1.to", ErrorCode.INVALID)]
    # Its status change (written before the send) was rolled back with the savepoint.
    fresh = await models.Ticket.get(id=second.id)
    assert fresh.status is TicketStatus.OPEN and fresh.version == 1
    assert await models.Activity.filter(kind="ticket.macro_applied").values_list(
        "ticket_id", flat=True
    ) == [first.id]
    await deliver_all(cfg)
    assert len(sink.received) == 1


async def test_bulk_write_failure_falls_back_per_ticket(
    world, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tortoise.exceptions import IntegrityError

    from deskql.services import tickets

    admin = await auth.load_actor(world.admin.id)
    made = [
        await tickets.create_ticket(
            admin, subject=f"T{i}", department_id=world.support.id, contact_id=world.contact.id
        )
        for i in range(3)
    ]
    row = await macros.create_macro(
        admin,
        department_id=world.support.id,
        name="Note",
        actions=[
            {"type": "SET_STATUS", "status": "ESCALATED"},
            {"type": "ADD_COMMENT", "body": "noted"},
        ],
    )
    real = models.Comment.bulk_create
    poisoned = made[1].id

    def flaky(objects: list[models.Comment], *a: Any, **kw: Any) -> Any:
        if any(o.ticket_id == poisoned for o in objects):  # type: ignore[attr-defined]
            raise IntegrityError("simulated constraint failure")
        return real(objects, *a, **kw)

    monkeypatch.setattr(models.Comment, "bulk_create", flaky)
    out = await macros.apply_macro(
        admin, settings=settings, macro_id=row.id, ticket_ids=[t.id for t in made]
    )
    assert [r.applied for r in out.results] == [True, False, True]
    assert out.results[1].errors[0].code is ErrorCode.CONFLICT
    statuses = {t.id: t.status for t in await models.Ticket.filter(id__in=[t.id for t in made])}
    assert statuses == {
        made[0].id: TicketStatus.ESCALATED,
        made[1].id: TicketStatus.OPEN,
        made[2].id: TicketStatus.ESCALATED,
    }
    assert sorted(await models.Comment.all().values_list("ticket_id", flat=True)) == [
        made[0].id,
        made[2].id,
    ]
