"""Sending webhook deliveries: the worker every server process runs (services/durable_queue).

- Claim: due deliveries of healthy webhooks (no failure in a row), QUEUED -> SENDING with
  `FOR UPDATE SKIP LOCKED` and a conditional update, so across processes each delivery is
  sent by one worker only. A webhook whose endpoint failed gets one delivery at a time (a
  probe) when its retry time comes, instead of every queued delivery failing; the probe's
  success lets the rest flow again.
- Attempt: the URL is checked again (every resolved address public, unless the setting
  allows private ones) and the request goes to the checked address; no redirect is followed;
  the whole attempt has a timeout; at most `webhook_response_cap_bytes` of the answer are
  read.
- Outcome: 2xx is DELIVERED. Anything else is retried with exponential backoff up to
  `webhook_max_attempts`, then FAILED (an administrator may redeliver it). The webhook counts
  failures in a row; at `webhook_disable_after` it is switched off and every administrator is
  notified (an Activity `webhook.disabled`).
- A worker that dies mid-attempt leaves the row SENDING: after STALE_CLAIM it turns FAILED
  (it may have been delivered), never sent again by itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tortoise.expressions import Subquery

from deskql import models
from deskql.models.webhooks import DeliveryStatus
from deskql.schema.ids import to_global_id
from deskql.services import activity, durable_queue, uow
from deskql.services.from_addresses import decrypt
from deskql.services.webhooks import events, signing, targets
from deskql.services.webhooks.targets import shown_url
from deskql.settings import Settings

log = logging.getLogger("deskql.webhooks")

STALE_CLAIM = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
# What the delivery log keeps of a response's body.
LOGGED_BODY = 1024
USER_AGENT = "DeskQL-Webhooks/1"
# Seconds between two prunings of the delivery log by a worker.
PRUNE_EVERY = 3600.0
# Seconds between two looks for webhooks due a probe (one statement fewer on most passes).
PROBE_EVERY = 0.5


def new_client(settings: Settings) -> httpx.AsyncClient:
    """The HTTP client of a worker: no redirects, no proxies from the environment."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(settings.webhook_timeout_ms / 1000),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


async def _claim(settings: Settings, *, probes: bool = True) -> list[int]:
    """Deliveries this call won: due ones of healthy webhooks, and (with `probes`) one probe
    per recovering webhook whose retry time has come."""
    now = datetime.now(UTC)
    healthy = Subquery(models.Webhook.filter(is_active=True, consecutive_failures=0).values("id"))
    won = await durable_queue.claim(
        models.WebhookDelivery.filter(webhook_id__in=healthy, next_attempt_at__lte=now),
        limit=settings.webhook_batch_size,
        queued=DeliveryStatus.QUEUED,
        sending=DeliveryStatus.SENDING,
    )
    if not probes:
        return won
    recovering = await models.Webhook.filter(
        is_active=True, consecutive_failures__gt=0, retry_at__lte=now
    ).values_list("id", "retry_at")
    lease = now + timedelta(milliseconds=settings.webhook_timeout_ms) + timedelta(seconds=30)
    for hook_id, retry_at in recovering:
        # One process takes the probe: the one whose conditional update moved retry_at.
        if not await models.Webhook.filter(id=hook_id, retry_at=retry_at).update(retry_at=lease):
            continue
        probe = await durable_queue.claim(
            models.WebhookDelivery.filter(webhook_id=hook_id),
            limit=1,
            queued=DeliveryStatus.QUEUED,
            sending=DeliveryStatus.SENDING,
            # A fresh delivery first, so a long outage does not use up one delivery's attempts.
            order=("attempts", "id"),
        )
        if not probe:
            # Nothing to probe with: the next event queued is the probe, without waiting.
            await models.Webhook.filter(id=hook_id, retry_at=lease).update(retry_at=retry_at)
        won += probe
    return won


class _NoSecret(Exception):
    """The stored secret does not decrypt with this server's key: nothing is sent unsigned."""


class _Secrets:
    """Decrypted signing secrets by (webhook, stored token): the key file is read once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._plain: dict[tuple[int, str], str] = {}

    def of(self, hook: models.Webhook) -> str:
        key = (hook.id, hook.secret_encrypted)
        if key not in self._plain:
            self._plain[key] = decrypt(self.settings, hook.secret_encrypted)
        return self._plain[key]


async def _post(
    client: httpx.AsyncClient,
    target: targets.Target,
    headers: dict[str, str],
    body: bytes,
    cap: int,
) -> tuple[int, bytes, str]:
    """POST to the checked address; (status, at most `cap` bytes of the body, Location)."""
    extensions: dict[str, Any] = {}
    if target.connect_url.startswith("https:"):
        extensions["sni_hostname"] = target.host  # TLS checks the name, not the address
    request = client.build_request(
        "POST", target.connect_url, content=body, headers=headers, extensions=extensions
    )
    response = await client.send(request, stream=True)
    try:
        data = bytearray()
        async for chunk in response.aiter_raw():
            data += chunk
            if len(data) >= cap:
                break  # the rest is never read: the connection is closed instead
    finally:
        await response.aclose()
    return response.status_code, bytes(data[:cap]), response.headers.get("location", "")


@dataclass
class Outcome:
    """How one attempt went."""

    row: models.WebhookDelivery
    code: int | None
    answer: bytes
    error: str
    duration_ms: int
    claimed_at: datetime | None = None


async def attempt(
    settings: Settings,
    client: httpx.AsyncClient,
    secrets: _Secrets,
    row: models.WebhookDelivery,
) -> Outcome:
    """Send one claimed delivery (no transaction open); `record` writes the outcome."""
    hook: models.Webhook = row.webhook
    body = row.body.encode()
    code: int | None = None
    answer = b""
    error = ""
    started = time.monotonic()
    try:
        secret = secrets.of(hook)
        if not secret:
            raise _NoSecret
        target = await targets.resolve(hook.url, allow_private=settings.webhook_allow_private)
        headers = {
            "Host": targets.host_header(hook.url),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",
            "X-DeskQL-Event": row.event,
            "X-DeskQL-Event-Id": row.event_id,
            "X-DeskQL-Delivery": to_global_id("WebhookDelivery", row.id),
            signing.HEADER: signing.header(secret, body),
        }
        code, answer, location = await asyncio.wait_for(
            _post(client, target, headers, body, settings.webhook_response_cap_bytes),
            settings.webhook_timeout_ms / 1000,
        )
        if 300 <= code < 400:
            error = f"answered {code}: redirects are not followed (Location: {location[:300]})"
        elif not 200 <= code < 300:
            error = f"answered {code}"
    except _NoSecret:
        error = (
            "the signing secret cannot be decrypted (DESKQL_SECRET_KEY changed?): set a new "
            "secret with webhookUpdate"
        )
    except targets.TargetRefused as exc:
        error = f"refused: {exc}"
    except TimeoutError:
        error = f"no answer within {settings.webhook_timeout_ms / 1000:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the other deliveries
        log.exception("webhook delivery %s failed", row.id)
        error = f"{type(exc).__name__}: {exc}"
    duration = int((time.monotonic() - started) * 1000)
    return Outcome(row, code, answer, error, duration, row.claimed_at)


FIELDS = (
    "status",
    "claimed_at",
    "response_code",
    "response_body",
    "last_error",
    "duration_ms",
    "delivered_at",
    "next_attempt_at",
)


async def record(settings: Settings, outcomes: list[Outcome]) -> None:
    """Write the outcomes of a batch of attempts: one UPDATE for all the rows, in one
    transaction with the failure counts of their webhooks."""
    now = datetime.now(UTC)
    recovered: set[int] = set()
    rows: list[models.WebhookDelivery] = []
    for item in outcomes:
        row = item.row
        row.claimed_at = None
        row.response_code = item.code
        row.response_body = item.answer[:LOGGED_BODY].decode("utf-8", "replace")
        row.last_error = item.error
        row.duration_ms = item.duration_ms
        if not item.error:
            row.status = DeliveryStatus.DELIVERED
            row.delivered_at = now
            if row.webhook.consecutive_failures:
                recovered.add(row.webhook.id)
        elif row.attempts < settings.webhook_max_attempts:
            row.status = DeliveryStatus.QUEUED
            row.next_attempt_at = now + durable_queue.backoff(
                settings.webhook_backoff_ms, row.attempts, MAX_BACKOFF
            )
        else:
            row.status = DeliveryStatus.FAILED
        rows.append(row)
    async with uow.transaction():
        # These rows are this worker's (claimed SENDING moments ago; only a claim older than
        # STALE_CLAIM is ever taken from a worker), so they are written by id.
        await models.WebhookDelivery.bulk_update(rows, fields=list(FIELDS))
        if recovered:
            await models.Webhook.filter(id__in=sorted(recovered)).update(
                consecutive_failures=0, retry_at=None, last_failure_at=None
            )
        for item in outcomes:
            if item.error and item.row.webhook.id not in recovered:
                started = item.claimed_at or now
                await _count_failure(settings, item.row.webhook.id, started, now, item.error)


async def _count_failure(
    settings: Settings, hook_id: int, started: datetime, now: datetime, error: str
) -> None:
    """One more failure in a row for the webhook (attempts that started before the last
    counted failure belong to the same outage), and its switching off at the limit."""
    hook = await models.Webhook.filter(id=hook_id).select_for_update().first()
    if hook is None:
        return
    if hook.last_failure_at is not None and started < hook.last_failure_at:
        return
    failures = hook.consecutive_failures + 1
    values: dict[str, Any] = {
        "consecutive_failures": failures,
        "last_failure_at": now,
        "retry_at": now + durable_queue.backoff(settings.webhook_backoff_ms, failures, MAX_BACKOFF),
    }
    disable = hook.is_active and failures >= settings.webhook_disable_after
    if disable:
        values["is_active"] = False
        values["disabled_reason"] = (
            f"switched off after {failures} failed attempts in a row; the last: {error}"
        )
    await models.Webhook.filter(id=hook.id).update(**values)
    if disable:
        await activity.record(
            actor=None,
            kind="webhook.disabled",
            subject_type="Webhook",
            subject_id=hook.id,
            changes={"url": shown_url(hook.url), "failures": failures, "error": error[:500]},
        )
        log.warning("webhook %s (%s) switched off: %s", hook.id, hook.url, error)


async def run_once(
    settings: Settings, client: httpx.AsyncClient, secrets: _Secrets, *, probes: bool = True
) -> int:
    """Send the due deliveries once (and probes of failing webhooks, with `probes`); returns
    how many were attempted."""
    # One connection for the claim and the read of what was claimed (a server under load
    # makes each pool checkout wait behind the requests' transactions).
    async with uow.transaction(savepoints=False):
        claimed = await _claim(settings, probes=probes)
        rows = (
            await models.WebhookDelivery.filter(id__in=claimed).select_related("webhook")
            if claimed
            else []
        )
    if not rows:
        return 0
    # A few requests at a time per webhook: more made httpx's pool the bottleneck (50 at once
    # sent 4x fewer per second than 2-4 at once to a local receiver, bench/webhooks.py), and
    # a slow endpoint holds only its own slots.
    gates: dict[int, asyncio.Semaphore] = {}

    async def one(row: models.WebhookDelivery) -> Outcome:
        gate = gates.setdefault(row.webhook.id, asyncio.Semaphore(settings.webhook_concurrency))
        async with gate:
            return await attempt(settings, client, secrets, row)

    outcomes = await asyncio.gather(*(one(row) for row in rows))
    await record(settings, list(outcomes))
    return len(rows)


async def deliver_now(settings: Settings, delivery_id: int) -> None:
    """Send one QUEUED delivery from this request (a test ping); nothing when a worker took
    it first."""
    won = await durable_queue.claim(
        models.WebhookDelivery.filter(id=delivery_id),
        limit=1,
        queued=DeliveryStatus.QUEUED,
        sending=DeliveryStatus.SENDING,
    )
    if not won:
        return
    row = await models.WebhookDelivery.get(id=delivery_id).select_related("webhook")
    async with new_client(settings) as client:
        outcome = await attempt(settings, client, _Secrets(settings), row)
    await record(settings, [outcome])


async def prune(settings: Settings) -> int:
    """Delete ended deliveries older than `webhook_log_days` (the log does not grow forever)."""
    if settings.webhook_log_days <= 0:
        return 0
    before = datetime.now(UTC) - timedelta(days=settings.webhook_log_days)
    return await models.WebhookDelivery.filter(
        status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=before
    ).delete()


async def recover_stale() -> int:
    """Deliveries left SENDING by a crashed worker become FAILED (never re-sent by themselves)."""
    return await durable_queue.recover_stale(
        models.WebhookDelivery,
        sending=DeliveryStatus.SENDING,
        failed=DeliveryStatus.FAILED,
        older_than=STALE_CLAIM,
        message="interrupted while sending: it may have been delivered, so it is not sent "
        "again automatically; redeliver it if it did not arrive",
    )


class DeliveryWorker(durable_queue.QueueWorker):
    """Sends queued webhook deliveries in the background; woken after each commit that
    queued some (services.webhooks.events.wake)."""

    name = "webhooks"
    # After a wake-up, let the commits of a burst of changes land: bigger, fewer batches.
    settle = 0.01

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.webhook_interval_ms, events._wake)
        self.settings = settings
        self.client = new_client(settings)
        self.secrets = _Secrets(settings)
        self._pruned = -PRUNE_EVERY
        self._probed = -PROBE_EVERY

    async def run_once(self) -> int:
        """Send the due deliveries once; look for probes to send at most every PROBE_EVERY."""
        now = time.monotonic()
        probes = now - self._probed >= PROBE_EVERY
        if probes:
            self._probed = now
        return await run_once(self.settings, self.client, self.secrets, probes=probes)

    async def recover(self) -> int:
        """Deliveries a crashed worker left SENDING become FAILED; old ones are pruned."""
        now = time.monotonic()
        if now - self._pruned > PRUNE_EVERY:
            self._pruned = now
            await prune(self.settings)
        return await recover_stale()

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self.client.aclose()
