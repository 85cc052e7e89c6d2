"""Exactly one delivery per event per webhook across two server processes on PostgreSQL:
two processes run the delivery worker against the same database at the same time."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from deskql import models
from deskql.models.webhooks import DeliveryStatus
from deskql.services import tickets
from deskql.services.webhooks import manage
from deskql.settings import Settings
from tests.conftest import World
from tests.webhooks.conftest import Receiver, actor_of

pytestmark = pytest.mark.skipif(
    not os.environ.get("DESKQL_DATABASE_URL", "").startswith("postgres"),
    reason="several processes share a database on PostgreSQL only",
)
COUNT = 200
SCRIPT = Path(__file__).with_name("worker_process.py")


async def test_two_processes_deliver_each_event_once(
    world: World, hook_settings: Settings, receiver: Receiver
):
    admin = actor_of(world.admin)
    await manage.create_webhook(
        admin,
        settings=hook_settings,
        url=receiver.url,
        events_=["ticket.created"],
        secret="0123456789abcdef",
    )
    for i in range(COUNT):
        await tickets.create_ticket(
            admin, subject=f"T{i}", department_id=world.support.id, contact_id=world.contact.id
        )
    assert await models.WebhookDelivery.all().count() == COUNT
    go = Path(hook_settings.var_dir) / "go"
    go.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        DESKQL_DATABASE_URL=hook_settings.database_url,
        DESKQL_VAR_DIR=str(hook_settings.var_dir),  # the key that decrypts the secret
        DESKQL_WEBHOOK_ALLOW_PRIVATE="true",
        DESKQL_WEBHOOK_BATCH_SIZE="5",
    )
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT), str(go), env=env, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    await asyncio.sleep(1.0)  # both connected and waiting
    go.touch()
    outs = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    sent = [int(out.decode().strip().splitlines()[-1]) for out, _ in outs]
    assert sum(sent) == COUNT and all(sent), sent  # both processes took a share
    ids = Counter(r.headers["x-deskql-event-id"] for r in receiver.requests)
    assert len(receiver.requests) == COUNT and set(ids.values()) == {1}
    assert await models.WebhookDelivery.filter(status=DeliveryStatus.DELIVERED).count() == COUNT
