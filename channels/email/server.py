"""The SMTP server: aiosmtpd in the application's own event loop (STACK_NOTES).

`start_smtp` opens it with `loop.create_server(lambda: SMTP(handler, ...), host, port)`; the
threaded Controller would run its own loop, where the ORM has no connection. RCPT refuses
unknown recipients with 550; DATA answers 250 only once the raw message is stored (file
fsynced, row written) and 451 when storing fails; processing follows in this process through
a small queue of workers, so SMTP answers never wait for ticket creation.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from deskql import models
from deskql.services import mail_directory, mail_inbound, support_addresses
from deskql.services.mail_inbound import Observer
from deskql.serving import metrics
from deskql.settings import Settings

log = logging.getLogger("deskql.smtp")

# RFC 5321 allows 1000 octets a line, but real mail breaks it (a 1,001-character line must
# not lose a customer's message): accept lines up to 64 KiB, refuse longer ones with 500.
LINE_LIMIT = 64 * 1024
GROUP_SIZE = 16
PARSE_AHEAD = 64  # messages parsed ahead of processing at most (their attachments in memory)


class DeskQLSMTP(SMTP):
    """aiosmtpd's SMTP with a tolerant line length."""

    line_length_limit = LINE_LIMIT


class InboundProcessor:
    """Processes stored messages in the background, `workers` at a time."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_processed: Observer | None = None,
        workers: int | None = None,
        group_size: int | None = None,
    ):
        self.settings = settings
        self.on_processed = on_processed
        # One worker writing groups of what queued up (group commit: one transaction, one
        # commit for up to GROUP_SIZE messages). SQLite: the process's one connection makes
        # more workers only queue for its lock. PostgreSQL (bench/smtp_inbound.py, ratio to
        # the sink): one worker with groups 0.111, four workers with a transaction per message
        # 0.072 (commit and round-trip latency); four workers with groups serialised on the
        # ticket-number lock and deadlocked on new contacts (0.059, two deadlocks). With groups
        # written without savepoints, read ahead and numbered at once, one worker: about 0.15.
        self.workers = workers if workers is not None else 1
        self.group_size = group_size if group_size is not None else GROUP_SIZE
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.received_at: dict[int, float] = {}  # inbound id -> monotonic time of DATA
        # Rows just stored, so that processing does not read them back.
        self._rows: dict[int, models.InboundMessage] = {}
        # Parses started ahead (in the parser process), so a group's messages are parsed while
        # the group before it is written; at most PARSE_AHEAD at a time, oldest first. Queued
        # messages beyond that wait in `_unparsed` and start as earlier groups are taken.
        self._parsing: dict[int, asyncio.Task[mail_inbound.Parsed]] = {}
        self._unparsed: deque[int] = deque()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start the workers and queue what a previous run stored but did not process."""
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        for pk in await mail_inbound.pending_ids():
            self.queue.put_nowait(pk)

    def submit(
        self,
        inbound_id: int,
        received_at: float | None = None,
        row: models.InboundMessage | None = None,
    ) -> None:
        """Queue a stored message for processing (`row`: as store_message returned it)."""
        if received_at is not None:
            self.received_at[inbound_id] = received_at
        if row is not None:
            self._rows[inbound_id] = row
            self._unparsed.append(inbound_id)
            self._parse_ahead()
        self.queue.put_nowait(inbound_id)

    def _start_parse(self, inbound_id: int) -> None:
        row = self._rows.get(inbound_id)
        if row is not None and inbound_id not in self._parsing:
            self._parsing[inbound_id] = asyncio.get_running_loop().create_task(
                mail_inbound.parse_stored(self.settings, row)
            )

    def _parse_ahead(self) -> None:
        """Start parsing the oldest queued messages while fewer than PARSE_AHEAD are parsing
        or parsed and not yet taken."""
        while self._unparsed and len(self._parsing) < PARSE_AHEAD:
            self._start_parse(self._unparsed.popleft())

    async def drain(self) -> None:
        """Wait until every queued message is processed."""
        await self.queue.join()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Finish the queue (up to `grace_seconds`), then stop the workers."""
        try:
            async with asyncio.timeout(grace_seconds):
                await self.queue.join()
        except TimeoutError:
            log.warning("stopping with %d inbound messages queued", self.queue.qsize())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._rows.clear()
        self._unparsed.clear()
        for parsing in self._parsing.values():
            parsing.cancel()
        self._parsing.clear()
        await mail_inbound.shutdown_parser()

    async def _work(self) -> None:
        while True:
            # Group commit: what queued up while the last group was processed goes in one
            # transaction (one commit, one fsync); a lone message is processed at once.
            batch = [await self.queue.get()]
            while len(batch) < self.group_size and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            for pk in batch:  # the group's own parses first, then the next ones' behind them
                self._start_parse(pk)
            items = [(pk, self._rows.pop(pk, None)) for pk in batch]
            parsing = {pk: task for pk in batch if (task := self._parsing.pop(pk, None))}
            self._parse_ahead()
            try:
                await mail_inbound.process_messages(
                    self.settings, items=items, on_processed=self.on_processed, parsing=parsing
                )
            except Exception:  # processing records failures; this is the database gone
                log.exception("inbound messages %s could not be processed", batch)
            finally:
                for _ in batch:
                    self.queue.task_done()


class InboundHandler:
    """aiosmtpd handler: check recipients, store, hand over to the processor."""

    def __init__(self, settings: Settings, processor: InboundProcessor) -> None:
        self.settings = settings
        self.processor = processor

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            known = await mail_directory.address(address)
        except Exception:
            log.exception("looking up recipient %s failed", address)
            return "451 4.3.0 Temporary failure looking up the recipient; try again later"
        if known is None:
            return f"550 5.1.1 <{address}>: no such support address here"
        if not envelope.rcpt_tos:  # the first accepted recipient decides the department
            envelope.deskql_address_id = known.id  # type: ignore[attr-defined]
        if address.strip().lower() in {r.strip().lower() for r in envelope.rcpt_tos}:
            return "250 2.1.5 OK (duplicate recipient, stored once)"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        started = time.monotonic()
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # decode_data is off, but be safe
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            row = await mail_inbound.store_message(
                self.settings,
                raw=raw,
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                support_address_id=getattr(envelope, "deskql_address_id", None),
            )
        except Exception:
            log.exception("storing an inbound message failed")
            return "451 4.3.0 Could not store the message; please try again later"
        self.processor.submit(row.id, started, row=row)
        return f"250 2.0.0 OK: stored as inbound message {row.id}"


class CountedReplies:
    """The handler's RCPT and DATA replies, counted by reply code for /metrics."""

    def __init__(self, handler: InboundHandler) -> None:
        self.handler = handler

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = await self.handler.handle_RCPT(server, session, envelope, address, options)
        metrics.count_inbound_reply("RCPT", reply)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        reply = await self.handler.handle_DATA(server, session, envelope)
        metrics.count_inbound_reply("DATA", reply)
        return reply


def _authenticator(settings: Settings) -> Any:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode("utf-8", "replace") == settings.smtp_auth_user
            and auth_data.password.decode("utf-8", "replace") == settings.smtp_auth_password
        )
        # handled=False: the server answers 535 itself (the default, True, answers nothing).
        return AuthResult(success=ok, handled=False)

    return authenticate


def smtp_factory(settings: Settings, handler: InboundHandler) -> Any:
    """A protocol factory for `loop.create_server`: one SMTP instance per connection."""
    tls: ssl.SSLContext | None = None
    if settings.smtp_tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key or None)
    auth = bool(settings.smtp_auth_user)

    counted = CountedReplies(handler)

    def factory() -> SMTP:
        return DeskQLSMTP(
            counted,
            hostname=settings.smtp_hostname,  # never the blocking getfqdn() per connection
            data_size_limit=settings.smtp_max_message_bytes,
            tls_context=tls,
            authenticator=_authenticator(settings) if auth else None,
            auth_required=auth,
            auth_require_tls=tls is not None,
        )

    return factory


class SMTPService:
    """The running SMTP server and its processor, started and stopped by a lifespan."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_processed: Observer | None = None,
        workers: int | None = None,
    ) -> None:
        self.settings = settings
        self.processor = InboundProcessor(settings, on_processed=on_processed, workers=workers)
        self.handler = InboundHandler(settings, self.processor)
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port it listens on (useful with port 0)."""
        assert self.server is not None and self.server.sockets
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Ensure the default support address (EM-1), start processing, then listen."""
        await support_addresses.ensure_default_address(self.settings)
        await self.processor.start()
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            smtp_factory(self.settings, self.handler),
            self.settings.smtp_host,
            self.settings.smtp_port,
        )
        log.info("SMTP listening on %s:%s", self.settings.smtp_host, self.port)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop listening, then finish processing what was accepted (rows left RECEIVED are
        picked up by the next start)."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        await self.processor.stop(grace_seconds)


@asynccontextmanager
async def smtp_running(settings: Settings) -> AsyncIterator[SMTPService | None]:
    """Run the SMTP server for the duration of a lifespan, when settings.smtp_enabled."""
    if not settings.smtp_enabled:
        yield None
        return
    service = SMTPService(settings)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
