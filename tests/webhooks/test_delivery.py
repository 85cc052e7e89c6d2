"""Webhook deliveries end to end, without GraphQL: queued with the change, sent signed to a
real receiver, retried, capped, refused, switched off, redelivered."""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from deskql import models
from deskql.models.enums import NotificationReason, Role
from deskql.models.webhooks import DeliveryStatus
from deskql.services import customers, tickets, uow
from deskql.services.webhooks import delivery, events, manage, signing
from deskql.settings import Settings
from tests.conftest import World
from tests.webhooks.conftest import Answer, Receiver, actor_of

SECRET = "s3cret-s3cret-s3cret"
ALL = list(events.EVENTS)


async def _hook(
    world: World, settings: Settings, url: str, names: list[str] = ALL
) -> models.Webhook:
    return await manage.create_webhook(
        actor_of(world.admin), settings=settings, url=url, events_=names, secret=SECRET
    )


async def _drain(settings: Settings, rounds: int = 50) -> int:
    """Run worker passes until nothing is due (waiting out short backoffs)."""
    total = 0
    async with delivery.new_client(settings) as client:
        secrets = delivery._Secrets(settings)
        for _ in range(rounds):
            n = await delivery.run_once(settings, client, secrets)
            total += n
            if (
                not n
                and not await models.WebhookDelivery.filter(status=DeliveryStatus.QUEUED).exists()
            ):
                break
            if not n:
                await asyncio.sleep(0.03)
    return total


async def _ticket(world: World, **kwargs: object) -> models.Ticket:
    return await tickets.create_ticket(
        actor_of(world.admin),
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_change_is_delivered_signed(
    world: World, hook_settings: Settings, receiver: Receiver
):
    hook = await _hook(world, hook_settings, receiver.url)
    ticket = await _ticket(world)
    rows = await models.WebhookDelivery.filter(webhook_id=hook.id)
    assert [r.event for r in rows] == ["ticket.created"]
    assert rows[0].status is DeliveryStatus.QUEUED

    assert await _drain(hook_settings) == 1
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req.method == "POST" and req.path == "/hook"
    assert req.headers["content-type"] == "application/json"
    assert req.headers["x-deskql-event"] == "ticket.created"
    assert signing.verify(SECRET, req.body, req.headers["x-deskql-signature"])
    assert not signing.verify("another-secret-of-16", req.body, req.headers["x-deskql-signature"])
    assert not signing.verify(SECRET, req.body + b" ", req.headers["x-deskql-signature"])
    body = json.loads(req.body)
    assert body["type"] == "ticket.created"
    assert body["id"] == req.headers["x-deskql-event-id"] == rows[0].event_id
    assert body["data"]["ticket"]["number"] == ticket.number
    assert body["data"]["ticket"]["subject"] == "Printer on fire"
    row = await models.WebhookDelivery.get(id=rows[0].id)
    assert row.status is DeliveryStatus.DELIVERED
    assert row.response_code == 200 and row.response_body == "ok" and row.attempts == 1


async def test_rolled_back_change_queues_nothing(world: World, hook_settings: Settings):
    await _hook(world, hook_settings, "http://127.0.0.1:9/hook")
    with pytest.raises(RuntimeError):
        async with uow.transaction():
            await _ticket(world)
            raise RuntimeError("boom")
    assert await models.WebhookDelivery.all().count() == 0


async def test_events_mapped_from_changes(world: World, hook_settings: Settings):
    admin = actor_of(world.admin)
    hook = await _hook(world, hook_settings, "http://127.0.0.1:9/hook")
    only_contacts = await _hook(
        world, hook_settings, "http://127.0.0.1:9/other", ["contact.created"]
    )
    ticket = await _ticket(world)
    ticket = await tickets.update_ticket(
        admin,
        ticket_id=ticket.id,
        version=ticket.version,
        changes={"priority": models.TicketPriority.HIGH},
    )
    ticket = await tickets.update_ticket(
        admin,
        ticket_id=ticket.id,
        version=ticket.version,
        changes={"assignee_agent_id": world.alice.id},
    )
    await tickets.add_comment(admin, ticket_id=ticket.id, body="looking")
    contact = await customers.create_contact(admin, last_name="Ng", email="ng@example.com")
    await customers.update_contact(admin, contact_id=contact.id, changes={"phone": "123"})
    names = (
        await models.WebhookDelivery.filter(webhook_id=hook.id)
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert names == [
        "ticket.created",
        "ticket.updated",
        "ticket.updated",
        "ticket.assigned",
        "comment.added",
        "contact.created",
        "contact.updated",
    ]
    assert await models.WebhookDelivery.filter(webhook_id=only_contacts.id).values_list(
        "event", flat=True
    ) == ["contact.created"]
    assigned = await models.WebhookDelivery.get(webhook_id=hook.id, event="ticket.assigned")
    data = json.loads(assigned.body)["data"]
    from deskql.schema.ids import to_global_id

    assert data["changes"]["assignee_agent_id"]["new"] == to_global_id("Agent", world.alice.id)
    assert data["ticket"]["assigneeAgentId"] == to_global_id("Agent", world.alice.id)
    contact_body = json.loads(
        (await models.WebhookDelivery.get(webhook_id=hook.id, event="contact.updated")).body
    )
    assert contact_body["data"]["contact"]["phone"] == "123"


async def test_rating_is_delivered_with_the_rating(world: World, hook_settings: Settings):
    from deskql.models.helpcenter import RatingValue
    from deskql.schema.ids import to_global_id
    from deskql.services.helpcenter import ratings
    from deskql.services.helpcenter.access import ContactActor

    hook = await _hook(world, hook_settings, "http://127.0.0.1:9/hook", ["ticket.rated"])
    ticket = await _ticket(world, status=models.TicketStatus.CLOSED)
    customer = ContactActor(world.contact.id, None, False)
    first = await ratings.rate(customer, ticket_id=ticket.id, value=RatingValue.BAD)
    await ratings.rate(customer, ticket_id=ticket.id, value=RatingValue.GOOD, comment="Dzięki 谢谢")
    rows = await models.WebhookDelivery.filter(webhook_id=hook.id).order_by("id")
    assert [r.event for r in rows] == ["ticket.rated", "ticket.rated"]
    bodies = [json.loads(r.body) for r in rows]
    assert bodies[0]["type"] == "ticket.rated"
    assert bodies[0]["data"]["changes"] == {"rating": "BAD"}
    assert bodies[1]["data"]["changes"] == {
        "rating": "GOOD",
        "comment": "Dzięki 谢谢",
        "previous": "BAD",
    }
    rating = bodies[1]["data"]["rating"]
    assert rating["id"] == to_global_id("TicketRating", first.id)
    assert rating["value"] == "GOOD" and rating["comment"] == "Dzięki 谢谢"
    assert rating["contactId"] == to_global_id("Contact", world.contact.id)
    assert bodies[1]["data"]["ticket"]["id"] == to_global_id("Ticket", ticket.id)
    assert bodies[1]["data"]["actorId"] is None


async def test_inactive_webhook_gets_nothing_until_switched_on(
    world: World, hook_settings: Settings, receiver: Receiver
):
    admin = actor_of(world.admin)
    hook = await _hook(world, hook_settings, receiver.url)
    await _ticket(world)  # queued while active
    await manage.update_webhook(
        admin, settings=hook_settings, webhook_id=hook.id, changes={"is_active": False}
    )
    await _ticket(world)  # not queued: switched off
    assert await _drain(hook_settings) == 0
    assert receiver.requests == []
    await manage.update_webhook(
        admin, settings=hook_settings, webhook_id=hook.id, changes={"is_active": True}
    )
    assert await _drain(hook_settings) == 1
    assert len(receiver.requests) == 1


async def test_server_error_is_retried_with_backoff(
    world: World, hook_settings: Settings, receiver: Receiver
):
    hook = await _hook(world, hook_settings, receiver.url)
    receiver.answers = [Answer(status=500, body=b"oops")]
    await _ticket(world)
    async with delivery.new_client(hook_settings) as client:
        await delivery.run_once(hook_settings, client, delivery._Secrets(hook_settings))
    row = await models.WebhookDelivery.get(webhook_id=hook.id)
    assert row.status is DeliveryStatus.QUEUED
    assert row.response_code == 500 and row.response_body == "oops"
    assert row.last_error == "answered 500"
    assert row.next_attempt_at > datetime.now(UTC) - timedelta(seconds=1)
    fresh = await models.Webhook.get(id=hook.id)
    assert fresh.consecutive_failures == 1 and fresh.retry_at is not None
    await _drain(hook_settings)
    row = await models.WebhookDelivery.get(id=row.id)
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 2
    assert len(receiver.requests) == 2
    assert (await models.Webhook.get(id=hook.id)).consecutive_failures == 0


async def test_out_of_attempts_fails_and_redelivery_sends_same_event(
    world: World, hook_settings: Settings, receiver: Receiver
):
    settings = replace(hook_settings, webhook_max_attempts=2, webhook_disable_after=100)
    hook = await _hook(world, settings, receiver.url)
    receiver.answers = [Answer(status=503), Answer(status=503)]
    await _ticket(world)
    await _drain(settings)
    row = await models.WebhookDelivery.get(webhook_id=hook.id)
    assert row.status is DeliveryStatus.FAILED and row.attempts == 2
    again = await manage.redeliver(actor_of(world.admin), delivery_id=row.id)
    assert again.id != row.id and again.event_id == row.event_id and again.body == row.body
    await _drain(settings)
    assert len(receiver.requests) == 3
    assert receiver.requests[-1].headers["x-deskql-event-id"] == row.event_id
    assert (await models.WebhookDelivery.get(id=again.id)).status is DeliveryStatus.DELIVERED
    assert await models.Activity.filter(kind="webhook.redelivered", subject_id=hook.id).exists()


async def test_huge_answer_is_read_up_to_the_cap(
    world: World, hook_settings: Settings, receiver: Receiver
):
    hook = await _hook(world, hook_settings, receiver.url)
    receiver.default = Answer(size=3 * 1024 * 1024)
    await _ticket(world)
    tracemalloc.start()
    try:
        await _drain(hook_settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    row = await models.WebhookDelivery.get(webhook_id=hook.id)
    assert row.status is DeliveryStatus.DELIVERED and row.response_code == 200
    assert len(row.response_body) == delivery.LOGGED_BODY
    assert peak < 1024 * 1024, f"reading a 3 MB answer took {peak} bytes"


async def test_hanging_endpoint_times_out(
    world: World, hook_settings: Settings, receiver: Receiver
):
    settings = replace(hook_settings, webhook_timeout_ms=300)
    hook = await _hook(world, settings, receiver.url)
    receiver.answers = [Answer(hang=True)]
    await _ticket(world)
    started = time.monotonic()
    async with delivery.new_client(settings) as client:
        await delivery.run_once(settings, client, delivery._Secrets(settings))
    assert time.monotonic() - started < 2
    row = await models.WebhookDelivery.get(webhook_id=hook.id)
    assert row.status is DeliveryStatus.QUEUED and row.response_code is None
    assert "no answer within 0.3 s" in row.last_error


async def test_redirect_is_not_followed(world: World, hook_settings: Settings, receiver: Receiver):
    hook = await _hook(world, hook_settings, receiver.url)
    receiver.answers = [
        Answer(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data"}),
    ]
    await _ticket(world)
    async with delivery.new_client(hook_settings) as client:
        await delivery.run_once(hook_settings, client, delivery._Secrets(hook_settings))
    row = await models.WebhookDelivery.get(webhook_id=hook.id)
    assert row.response_code == 302 and row.status is DeliveryStatus.QUEUED
    assert "redirects are not followed" in row.last_error
    assert "169.254.169.254" in row.last_error
    assert len(receiver.requests) == 1


async def test_private_target_refused_at_delivery(
    world: World, hook_settings: Settings, receiver: Receiver
):
    hook = await _hook(world, hook_settings, receiver.url)  # allowed when created
    await _ticket(world)
    strict = replace(hook_settings, webhook_allow_private=False)
    async with delivery.new_client(strict) as client:
        await delivery.run_once(strict, client, delivery._Secrets(strict))
    row = await models.WebhookDelivery.get(webhook_id=hook.id)
    assert row.status is DeliveryStatus.QUEUED and row.response_code is None
    assert row.last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1")
    assert receiver.requests == []


async def test_repeated_failures_switch_off_and_tell_admins(
    world: World, hook_settings: Settings, receiver: Receiver
):
    other_admin = await models.Agent.create(
        email="ops@zylker.com", last_name="Ops", role=Role.ADMINISTRATOR
    )
    hook = await _hook(world, hook_settings, receiver.url)
    receiver.default = Answer(status=500)
    for _ in range(3):
        await _ticket(world)
    await _drain(hook_settings)
    fresh = await models.Webhook.get(id=hook.id)
    assert not fresh.is_active
    assert fresh.consecutive_failures == hook_settings.webhook_disable_after
    assert "3 failed attempts in a row" in fresh.disabled_reason
    act = await models.Activity.get(kind="webhook.disabled", subject_id=hook.id)
    notified = await models.Notification.filter(activity_id=act.id).values_list(
        "agent_id", "reason"
    )
    assert sorted(notified) == sorted(
        [
            (world.admin.id, NotificationReason.ADMINISTRATOR),
            (other_admin.id, NotificationReason.ADMINISTRATOR),
        ]
    )
    # While switched off nothing is attempted; the unsent deliveries wait.
    attempts = len(receiver.requests)
    await _ticket(world)
    await _drain(hook_settings)
    assert len(receiver.requests) == attempts


async def test_outage_sends_one_probe_at_a_time(
    world: World, hook_settings: Settings, receiver: Receiver
):
    settings = replace(hook_settings, webhook_disable_after=100, webhook_backoff_ms=100)
    hook = await _hook(world, settings, receiver.url)
    await receiver.stop()  # the endpoint is down
    for _ in range(5):
        await _ticket(world)
    async with delivery.new_client(settings) as client:
        secrets = delivery._Secrets(settings)
        assert await delivery.run_once(settings, client, secrets) == 5  # all fail together
        assert (await models.Webhook.get(id=hook.id)).consecutive_failures == 1
        await asyncio.sleep(0.15)
        assert await delivery.run_once(settings, client, secrets) == 1  # one probe
        assert await delivery.run_once(settings, client, secrets) == 0  # backing off
        await receiver.start()
        await asyncio.sleep(0.25)
    await _drain(settings)
    assert sorted(r.headers["x-deskql-event-id"] for r in receiver.requests) == sorted(
        await models.WebhookDelivery.filter(webhook_id=hook.id).values_list("event_id", flat=True)
    )
    assert await models.WebhookDelivery.filter(status=DeliveryStatus.DELIVERED).count() == 5


async def test_worker_delivers_after_commit(
    world: World, hook_settings: Settings, receiver: Receiver
):
    settings = replace(hook_settings, webhook_interval_ms=60_000)  # only the wake-up can do it
    await _hook(world, settings, receiver.url)
    worker = delivery.DeliveryWorker(settings)
    worker.start()
    try:
        await asyncio.sleep(0.05)
        await _ticket(world)
        await receiver.wait_for(1, within=5)
    finally:
        await worker.stop()
    assert events._wake == []


async def test_macro_run_is_delivered(world: World, hook_settings: Settings):
    from deskql.services import macros

    hook = await _hook(world, hook_settings, "http://127.0.0.1:9/hook", ["ticket.updated"])
    admin = actor_of(world.admin)
    one, two = await _ticket(world), await _ticket(world)
    macro = await macros.create_macro(
        admin,
        department_id=world.support.id,
        name="Close",
        actions=[{"type": "SET_STATUS", "status": "CLOSED"}],
    )
    await macros.apply_macro(
        admin, settings=hook_settings, macro_id=macro.id, ticket_ids=[one.id, two.id]
    )
    rows = await models.WebhookDelivery.filter(webhook_id=hook.id)
    assert sorted(json.loads(r.body)["data"]["ticket"]["number"] for r in rows) == sorted(
        [one.number, two.number]
    )
    assert {json.loads(r.body)["data"]["ticket"]["status"] for r in rows} == {"CLOSED"}


async def test_history_hides_the_query_and_old_deliveries_are_pruned(
    world: World, hook_settings: Settings, receiver: Receiver
):
    hook = await _hook(world, hook_settings, receiver.url + "?token=abc")
    created = await models.Activity.get(kind="webhook.created", subject_id=hook.id)
    assert created.changes["url"] == receiver.url + "?…"
    assert "abc" not in json.dumps(created.changes)

    await _ticket(world)
    await _drain(hook_settings)
    assert receiver.requests[0].path == "/hook?token=abc"  # the real URL is called
    await _ticket(world)  # stays QUEUED: no worker pass
    old = datetime.now(UTC) - timedelta(days=hook_settings.webhook_log_days + 1)
    await models.WebhookDelivery.all().update(created_at=old)
    assert await delivery.prune(hook_settings) == 1  # the delivered one; queued ones stay
    assert await models.WebhookDelivery.filter(status=DeliveryStatus.QUEUED).count() == 1


async def test_nothing_is_sent_unsigned_when_the_secret_does_not_decrypt(
    world: World, hook_settings: Settings, receiver: Receiver
):
    hook = await _hook(world, hook_settings, receiver.url)
    await models.Webhook.filter(id=hook.id).update(secret_encrypted="not-a-fernet-token")
    await _ticket(world)
    async with delivery.new_client(hook_settings) as client:
        await delivery.run_once(hook_settings, client, delivery._Secrets(hook_settings))
    row = await models.WebhookDelivery.get(webhook_id=hook.id)
    assert row.status is DeliveryStatus.QUEUED and "cannot be decrypted" in row.last_error
    assert receiver.requests == []
