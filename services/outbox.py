"""The durable outbox: outgoing email is a row committed with its thread, sent by a worker.

- `enqueue` runs inside the caller's transaction: the thread and its email commit together.
- The worker claims due rows (QUEUED -> SENDING, a conditional update, so two workers or two
  processes never take the same row: services/durable_queue, shared with webhooks), sends
  them with no transaction open, then records SENT, a retry with exponential backoff
  (temporary failure) or FAILED (permanent, or out of attempts).
- A crash between the SMTP hand-over and the commit of SENT leaves the row SENDING. Such a row
  is never sent again automatically (it may have been delivered): after STALE_CLAIM it turns
  FAILED with that explanation, and an agent may re-send it. The Message-ID and bytes are
  fixed at enqueue, so a re-send is the same message, which receivers can de-duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from deskql import models
from deskql.channels.email import outbound as smtp
from deskql.channels.email.mail_folder import MailFolder
from deskql.models.outbound import OutboxStatus
from deskql.services import activity, durable_queue, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.policies import visible
from deskql.settings import Settings

log = logging.getLogger("deskql.outbox")

STALE_CLAIM = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
# Parallel SMTP sessions per worker pass.
CONNECTIONS = 4


def message_domain(settings: Settings) -> str:
    """The domain of our Message-IDs: <slug>.<mail-domain>."""
    return f"{settings.org_slug}.{settings.mail_domain}".lower()


async def enqueue(
    *,
    raw: bytes,
    message_id: str,
    mail_from: str,
    to: list[str],
    cc: list[str],
    bcc: list[str],
    thread_id: int | None = None,
    from_address_id: int | None = None,
) -> models.OutboxMessage:
    """Queue an email; call inside the transaction that writes what it belongs to."""
    return await models.OutboxMessage.create(
        thread_id=thread_id,
        from_address_id=from_address_id,
        message_id=message_id,
        mail_from=mail_from,
        to_addresses=", ".join(to),
        cc_addresses=", ".join(cc),
        bcc_addresses=", ".join(bcc),
        raw_bytes=raw,
        status=OutboxStatus.QUEUED,
        next_attempt_at=datetime.now(UTC),
    )


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: base * 2^(attempts-1), at most an hour."""
    return durable_queue.backoff(settings.outbox_backoff_ms, attempts, MAX_BACKOFF)


def _split(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


async def _transport(settings: Settings, row: models.OutboxMessage) -> smtp.Transport:
    from deskql.services.from_addresses import decrypt  # from_addresses queues through this module

    timeout = float(settings.relay_timeout_seconds)
    if row.from_address_id is not None:  # type: ignore[attr-defined]
        addr = await models.FromAddress.filter(id=row.from_address_id).first()  # type: ignore[attr-defined]
        if addr is not None and addr.smtp_host:
            return smtp.Transport(
                host=addr.smtp_host,
                port=addr.smtp_port,
                security=addr.smtp_security.value,
                username=addr.smtp_username,
                password=decrypt(settings, addr.smtp_password_encrypted),
                timeout=timeout,
                verify_certificates=settings.relay_verify_certificates,
            )
    if not settings.relay_configured:  # host "": the local mail folder (channels/email/mail_folder)
        return smtp.Transport(host="", port=0, timeout=timeout)
    return smtp.Transport(
        host=settings.relay_host,
        port=settings.relay_port,
        security=settings.relay_security,
        username=settings.relay_user,
        password=settings.relay_password,
        timeout=timeout,
        verify_certificates=settings.relay_verify_certificates,
    )


async def _claim(limit: int) -> list[int]:
    """Take up to `limit` due rows (QUEUED -> SENDING) and return the ids this call won."""
    due = models.OutboxMessage.filter(next_attempt_at__lte=datetime.now(UTC))
    return await durable_queue.claim(
        due, limit=limit, queued=OutboxStatus.QUEUED, sending=OutboxStatus.SENDING
    )


async def _finish(
    settings: Settings, row: models.OutboxMessage, failure: smtp.SendFailed | None, note: str = ""
) -> None:
    now = datetime.now(UTC)
    attempts = row.attempts  # read after the claim, so this attempt included
    if failure is None:
        values = {"status": OutboxStatus.SENT, "sent_at": now, "last_error": note}
    elif failure.temporary and attempts < settings.outbox_max_attempts:
        values = {
            "status": OutboxStatus.QUEUED,
            "next_attempt_at": now + backoff(settings, attempts),
            "last_error": str(failure),
        }
    else:
        values = {"status": OutboxStatus.FAILED, "last_error": str(failure)}
    if values["status"] is not OutboxStatus.FAILED or row.thread_id is None:  # type: ignore[attr-defined]
        # SENT and retries are shown by the row itself (outgoingEmail.status): one write.
        await models.OutboxMessage.filter(id=row.id, status=OutboxStatus.SENDING).update(
            claimed_at=None, **values
        )
        return
    async with uow.transaction():
        await models.OutboxMessage.filter(id=row.id, status=OutboxStatus.SENDING).update(
            claimed_at=None, **values
        )
        # A final failure is news for the ticket's people: an Activity row and notifications.
        await _record_failure(row, values["last_error"])


async def _record_failure(row: models.OutboxMessage, error: str) -> None:
    thread = await models.Thread.filter(id=row.thread_id).first()  # type: ignore[attr-defined]
    if thread is None:
        return
    ticket = await models.Ticket.get(id=thread.ticket_id)  # type: ignore[attr-defined]
    await activity.record_ticket(
        actor=None,
        kind="ticket.email_failed",
        ticket=ticket,
        changes={"threadId": thread.id, "messageId": row.message_id, "error": error},
    )


async def _send_group(
    settings: Settings, transport: smtp.Transport, rows: list[models.OutboxMessage]
) -> None:
    conn: smtp.Connection | MailFolder = (
        smtp.Connection(transport) if transport.host else MailFolder(settings.outgoing_mail_dir)
    )
    # A server that cannot be reached (or whose TLS or login fails) fails the rest of the
    # group at once, instead of making each row wait for its own timeout.
    broken: smtp.SendFailed | None = None
    try:
        for row in rows:
            failure: smtp.SendFailed | None = None
            note = ""
            if broken is not None:
                await _finish(settings, row, broken)
                continue
            try:
                recipients = (
                    _split(row.to_addresses) + _split(row.cc_addresses) + _split(row.bcc_addresses)
                )
                refused = await conn.send(
                    smtp.Envelope(row.mail_from, recipients, bytes(row.raw_bytes or b""))
                )
                if refused:
                    note = "refused: " + "; ".join(f"{a}: {r}" for a, r in refused.items())
            except smtp.SendFailed as exc:
                failure = exc
                if conn.client is None:
                    broken = exc
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the other rows
                log.exception("sending outbox message %s failed", row.id)
                failure = smtp.SendFailed(f"{type(exc).__name__}: {exc}", temporary=True)
            await _finish(settings, row, failure, note)
    finally:
        await conn.quit()


async def recover_stale(settings: Settings) -> int:
    """Rows left SENDING by a crashed worker become FAILED (never re-sent by themselves)."""
    return await durable_queue.recover_stale(
        models.OutboxMessage,
        sending=OutboxStatus.SENDING,
        failed=OutboxStatus.FAILED,
        older_than=STALE_CLAIM,
        message="interrupted while sending: it may have been delivered, so it is not "
        "sent again automatically; re-send it if it did not arrive",
    )


async def run_once(settings: Settings, *, limit: int | None = None) -> int:
    """Send the due messages once; returns how many were attempted."""
    claimed = await _claim(limit or settings.outbox_batch_size)
    if not claimed:
        return 0
    rows = await models.OutboxMessage.filter(id__in=claimed).order_by("id")
    groups: dict[tuple[str, int, str, str], tuple[smtp.Transport, list[models.OutboxMessage]]]
    groups = {}
    for row in rows:
        transport = await _transport(settings, row)
        groups.setdefault(transport.key, (transport, []))[1].append(row)
    jobs = []
    for transport, group in groups.values():
        # Spread one transport's rows over a few sessions.
        n = min(CONNECTIONS, len(group))
        jobs += [_send_group(settings, transport, group[i::n]) for i in range(n)]
    await asyncio.gather(*jobs)
    return len(rows)


class OutboxWorker(durable_queue.QueueWorker):
    """Sends queued email in the background; `wake()` after a commit sends at once."""

    name = "outbox"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.outbox_interval_ms, _workers)
        self.settings = settings

    async def run_once(self) -> int:
        """Send the due messages once."""
        return await run_once(self.settings)

    async def recover(self) -> int:
        """Rows a crashed worker left SENDING become FAILED."""
        return await recover_stale(self.settings)


_workers: list[OutboxWorker] = []


def wake() -> None:
    """Tell this process's workers that something was queued (call after the commit)."""
    for worker in _workers:
        worker.wake()


async def get_for_thread(actor: Actor, *, thread_id: int) -> models.OutboxMessage | None:
    """The latest email of a thread the actor may see."""
    if not await visible(actor, models.Thread).filter(id=thread_id).exists():
        return None
    return await models.OutboxMessage.filter(thread_id=thread_id).order_by("-id").first()


async def resend(actor: Actor, *, outbox_id: int) -> models.OutboxMessage:
    """Queue a FAILED email again, the same bytes and Message-ID."""
    row = await models.OutboxMessage.filter(id=outbox_id).first()
    thread_ok = (
        row is not None
        and row.thread_id is not None  # type: ignore[attr-defined]
        and await visible(actor, models.Thread).filter(id=row.thread_id).exists()  # type: ignore[attr-defined]
    )
    if row is None or not (thread_ok or actor.is_admin):
        raise ValidationFailed.one("id", "no such outgoing email", ErrorCode.NOT_FOUND)
    if row.status is not OutboxStatus.FAILED:
        raise ValidationFailed.one(
            "id",
            f"only a FAILED email can be re-sent; this one is {row.status.value}",
            ErrorCode.CONFLICT,
        )
    async with uow.transaction():
        await models.OutboxMessage.filter(id=row.id, status=OutboxStatus.FAILED).update(
            status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=datetime.now(UTC)
        )
        if row.thread_id is not None:  # type: ignore[attr-defined]
            thread = await models.Thread.get(id=row.thread_id)  # type: ignore[attr-defined]
            ticket = await models.Ticket.get(id=thread.ticket_id)  # type: ignore[attr-defined]
            await activity.record_ticket(
                actor=actor,
                kind="ticket.email_resent",
                ticket=ticket,
                changes={"threadId": thread.id, "messageId": row.message_id},
            )
    wake()
    return await models.OutboxMessage.get(id=row.id)
