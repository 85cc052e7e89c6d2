"""Exactly one delivery per event per webhook when several workers claim at the same time.

Meaningful on PostgreSQL (DESKQL_DATABASE_URL=postgres://...), where the workers' claims run
in concurrent transactions on separate connections (SELECT ... FOR UPDATE SKIP LOCKED plus a
conditional update); on SQLite the process's one connection serialises them."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace

from deskql import models
from deskql.models.webhooks import DeliveryStatus
from deskql.services import tickets
from deskql.services.webhooks import delivery, manage
from deskql.settings import Settings
from tests.conftest import World
from tests.webhooks.conftest import Receiver, actor_of

COUNT = 120


async def _worker(settings: Settings) -> int:
    """Claim and send until nothing is queued; returns how many this worker sent."""
    sent = 0
    async with delivery.new_client(settings) as client:
        secrets = delivery._Secrets(settings)
        while True:
            n = await delivery.run_once(settings, client, secrets)
            sent += n
            if n == 0:
                if not await models.WebhookDelivery.filter(
                    status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
                ).exists():
                    return sent
                await asyncio.sleep(0.01)


async def test_concurrent_workers_deliver_each_event_once(
    world: World, hook_settings: Settings, receiver: Receiver
):
    settings = replace(hook_settings, webhook_batch_size=7)  # many small competing claims
    admin = actor_of(world.admin)
    hooks = [
        await manage.create_webhook(
            admin,
            settings=settings,
            url=receiver.url + str(i),
            events_=["ticket.created"],
            secret="0123456789abcdef",
        )
        for i in range(2)
    ]
    for i in range(COUNT // 2):
        await tickets.create_ticket(
            admin, subject=f"T{i}", department_id=world.support.id, contact_id=world.contact.id
        )
    assert await models.WebhookDelivery.all().count() == COUNT

    counts = await asyncio.gather(*(_worker(settings) for _ in range(4)))
    assert sum(counts) == COUNT
    assert sum(1 for c in counts if c) >= 2, counts  # the workers really competed
    got = Counter((r.path, r.headers["x-deskql-event-id"]) for r in receiver.requests)
    assert len(receiver.requests) == COUNT
    assert set(got.values()) == {1}
    paths = Counter(r.path for r in receiver.requests)
    assert paths == {"/hook0": COUNT // 2, "/hook1": COUNT // 2}
    assert await models.WebhookDelivery.filter(status=DeliveryStatus.DELIVERED).count() == COUNT
    numbers = {json.loads(r.body)["data"]["ticket"]["number"] for r in receiver.requests}
    assert len(numbers) == COUNT // 2
    assert all(h.id for h in hooks)
