"""A process that only runs the webhook delivery worker until nothing is queued, then prints
how many deliveries it sent (tests/webhooks/test_processes.py starts two of them)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from deskql import (
    db,  # noqa: E402
    models,  # noqa: E402
)
from deskql.models.webhooks import DeliveryStatus  # noqa: E402
from deskql.services.webhooks import delivery  # noqa: E402
from deskql.settings import Settings  # noqa: E402


async def main() -> None:
    settings = Settings.from_env()
    await db.init_db(settings, migrate=False)
    sent = 0
    try:
        async with delivery.new_client(settings) as client:
            secrets = delivery._Secrets(settings)
            # Wait for the go signal (a file) so both processes start claiming together.
            go = Path(sys.argv[1])
            while not await asyncio.to_thread(go.exists):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            while True:
                n = await delivery.run_once(settings, client, secrets)
                sent += n
                if n == 0:
                    pending = models.WebhookDelivery.filter(
                        status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
                    )
                    if not await pending.exists():
                        break
                    await asyncio.sleep(0.01)
    finally:
        await db.close_db()
    print(sent)


if __name__ == "__main__":
    asyncio.run(main())
