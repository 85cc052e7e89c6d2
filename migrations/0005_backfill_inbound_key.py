"""Backfill Thread.inbound_key for the threads incoming mail made before 0004.

0004 added the unique `inbound_key` (sha256 of the normalised Message-ID) that keeps the same
message delivered twice from making two threads, but threads stored before it have NULL, so a
re-delivery of one of their messages was not refused. This gives them their key:

- which threads: direction INCOMING and channel EMAIL (services/threads.add_incoming_thread
  is the only writer of such threads: new tickets, replies and bounces of the inbound path)
  with a Message-ID that yields a key (channels.email.message_key.inbound_key, the app's own
  function) and no key yet;
- duplicates that 0004 could not prevent (two old threads of one Message-ID) keep one key:
  the oldest thread (lowest id) gets it, the others keep NULL; a key some thread already has
  (a thread stored after 0004) is never given again, so the old threads of that message keep
  NULL;
- in batches of BATCH threads by id (keyset: `id > last ORDER BY id LIMIT BATCH`), so a large
  database is never loaded whole; each batch is one UPDATE;
- idempotent: running it again finds nothing to do (every candidate either has its key or its
  key is taken).

The whole migration is one transaction (atomic), recorded applied with it. A process of the
previous version storing the same message during the migration makes the migration fail on
the unique key and roll back; `deskql migrate` again then completes.

Reverse: a no-op, on purpose. The keys are correct for the 0004 schema (its code writes and
reads the same keys), so unapplying 0005 leaves them; applying it again changes nothing.
"""

from __future__ import annotations

from tortoise import migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps
from tortoise.models import Model

from deskql.channels.email.message_key import inbound_key

BATCH = 1000


async def backfill_inbound_keys(
    thread_model: type[Model], client: BaseDBAsyncClient, *, batch: int = BATCH
) -> int:
    """Give old incoming email threads their inbound_key (oldest of a Message-ID only); how many."""
    updated = 0
    last_id = 0
    while True:
        rows = (
            await thread_model.filter(
                id__gt=last_id,
                direction="INCOMING",
                channel="EMAIL",
                inbound_key__isnull=True,
                message_id__isnull=False,
            )
            .using_db(client)
            .order_by("id")
            .limit(batch)
            .values_list("id", "message_id")
        )
        if not rows:
            return updated
        last_id = rows[-1][0]
        keyed = [(pk, key) for pk, key in ((pk, inbound_key(mid)) for pk, mid in rows) if key]
        if not keyed:
            continue
        taken = set(
            await thread_model.filter(inbound_key__in=sorted({key for _, key in keyed}))
            .using_db(client)
            .values_list("inbound_key", flat=True)
        )
        fills = []
        for pk, key in keyed:  # in id order: the oldest thread of a Message-ID comes first
            if key in taken:
                continue
            taken.add(key)
            fills.append(thread_model(id=pk, inbound_key=key))
        if fills:
            await thread_model.bulk_update(fills, fields=["inbound_key"], using_db=client)
            updated += len(fills)


async def forwards(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Backfill with the historical Thread model, on the migration's transaction."""
    await backfill_inbound_keys(apps.get_model("models", "Thread"), schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0004_workflows")]

    initial = False

    operations = [
        ops.RunPython(forwards, reverse_code=ops.RunPython.noop),
    ]
