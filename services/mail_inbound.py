"""Inbound mail: store the raw message durably, then turn it into a ticket or a thread.

`store_message` runs before the SMTP server answers 250: the raw bytes are written by sha256
under settings.mail_dir (fsynced, the attachment store's logic) and an InboundMessage row
points to them. `process_message` runs after, in the same process: it parses, detects
machines and spam, threads replies and creates tickets through services.tickets.create_ticket
(the one way to create a ticket). A failure leaves the row FAILED with a reason, visible to
administrators and re-processable; nothing accepted is ever lost.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing as mp
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from deskql import models
from deskql.channels.email import detect, spam
from deskql.channels.email.parse import (
    Address,
    ParsedMail,
    decode_header_value,
    format_addresses,
    message_ids,
    parse_file,
    parse_message,
)
from deskql.models.enums import Channel, InboundStatus, TicketStatus
from deskql.services import activity, customers, mail_directory, notifications, threads, uow
from deskql.services.attachments import blob_path, clean_filename, store_blob
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.merge_split import follow_merges
from deskql.services.policies import require_admin, visible_tickets
from deskql.services.tickets import (
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    create_ticket,
    give_back_numbers,
    take_numbers_ahead,
)
from deskql.settings import Settings

log = logging.getLogger("deskql.mail")

# Called after a message is processed and its transaction committed (and so after the
# real-time envelopes of its Activity rows went out through services.uow): for tests and
# benchmarks. Never called for spam, which notifies nobody.
Observer = Callable[[dict[str, Any]], Awaitable[None]]
NO_SUBJECT = "(no subject)"


# --- the raw store --------------------------------------------------------------------------


def store_raw(root: Path, raw: bytes, max_bytes: int) -> tuple[str, int]:
    """Write raw bytes to the store (fsynced, by sha256); returns (sha256, size)."""
    return store_blob(root, io.BytesIO(raw), max_bytes)


def raw_path(settings: Settings, row: models.InboundMessage) -> Path:
    """Where an inbound message's raw bytes live."""
    return blob_path(settings.mail_dir, row.raw_sha256)


async def read_raw(settings: Settings, row: models.InboundMessage) -> bytes:
    """The raw bytes of an inbound message, as received."""
    return await asyncio.to_thread(raw_path(settings, row).read_bytes)


def _quick_headers(raw: bytes) -> tuple[str | None, str]:
    """Message-ID and Subject for the row, from the headers only (cheap, never raising)."""
    try:
        head = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        ids = message_ids(str(head.get("Message-ID") or ""))
        subject = " ".join(decode_header_value(str(head.get("Subject") or "")).split())
    except Exception:
        return None, ""
    subject = subject.encode("utf-8", "replace").decode("utf-8")
    return (ids[0][:998] if ids else None), subject[:998]


def unique_recipients(rcpt_tos: list[str]) -> list[str]:
    """The recipients in order, each once (compared case-insensitively)."""
    seen: set[str] = set()
    out = []
    for rcpt in rcpt_tos:
        key = rcpt.strip().lower()
        if key not in seen:
            seen.add(key)
            out.append(rcpt)
    return out


async def store_message(
    settings: Settings,
    *,
    raw: bytes,
    mail_from: str,
    rcpt_tos: list[str],
    support_address_id: int | None = None,
) -> models.InboundMessage:
    """Store a received message durably (file fsynced, then the row); raises on failure.

    `support_address_id` is the address RCPT accepted; without it, the recipients are looked up.
    Recipients named more than once (any case) are stored once.
    """
    rcpt_tos = unique_recipients(rcpt_tos)
    sha, size = await asyncio.to_thread(
        store_raw, settings.mail_dir, raw, max(settings.smtp_max_message_bytes, len(raw))
    )
    message_id, subject = _quick_headers(raw)
    if support_address_id is None:
        for rcpt in rcpt_tos:
            found = await mail_directory.address(rcpt)
            if found is not None:
                support_address_id = found.id
                break
    return await _intake().write(
        {
            "message_id": message_id,
            "mail_from": (mail_from or "")[:998],
            "rcpt_to": ", ".join(rcpt_tos),
            "subject": subject,
            "raw_sha256": sha,
            "size": size,
            "status": InboundStatus.RECEIVED,
            "support_address_id": support_address_id,
        }
    )


async def _insert_rows(group: list[dict[str, Any]]) -> list[models.InboundMessage]:
    """Insert inbound rows with one `INSERT ... RETURNING` statement: atomic on its own, so
    no BEGIN and COMMIT round trips; the rows come back in the order given."""
    meta = models.InboundMessage._meta
    db = meta.db
    postgres = db.capabilities.dialect == "postgres"
    names = [n for n in meta.fields_db_projection if not meta.fields_map[n].generated]
    columns = ", ".join(f'"{meta.fields_db_projection[n]}"' for n in names)
    params: list[Any] = []
    tuples = []
    for values in group:
        obj = models.InboundMessage(**values)  # the defaults, as create() fills them
        marks = []
        for name in names:
            params.append(meta.fields_map[name].to_db_value(getattr(obj, name), obj))
            marks.append(f"${len(params)}" if postgres else "?")
        tuples.append(f"({', '.join(marks)})")
    records = await db.execute_query_dict(
        f'INSERT INTO "{meta.db_table}" ({columns}) VALUES {", ".join(tuples)} RETURNING *',
        params,
    )
    if len(records) != len(group):
        raise RuntimeError(f"{len(group)} inbound rows inserted, {len(records)} returned")
    # One statement's ids rise in the order of its VALUES (PostgreSQL's sequence, SQLite's
    # rowid); RETURNING itself promises no order. The rows are built as a query builds them.
    records.sort(key=lambda record: record["id"])
    return [models.InboundMessage._init_from_db(**record) for record in records]


class _Intake:
    """Group commit of the rows of stored messages: the rows that arrive while one commit is
    under way are written together by the next statement, one commit (one fsync) for all.

    Each caller still gets its row only after the statement holding it committed (a single
    statement outside a transaction commits on its own), so the SMTP server answers 250 only
    for what is durably stored (and 451 when that fails).
    """

    def __init__(self) -> None:
        self.pending: list[tuple[dict[str, Any], asyncio.Future[models.InboundMessage]]] = []
        self.flusher: asyncio.Task[None] | None = None

    async def write(self, values: dict[str, Any]) -> models.InboundMessage:
        """Insert one row with the next group; returns it once committed, else raises."""
        future: asyncio.Future[models.InboundMessage] = asyncio.get_running_loop().create_future()
        self.pending.append((values, future))
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self.pending:
            group, self.pending = self.pending, []
            try:
                rows = await _insert_rows([values for values, _ in group])
            except Exception:  # noqa: BLE001 - each row on its own, so one cannot fail all
                for values, future in group:
                    await self._write_one(values, future)
                continue
            for row, (_, future) in zip(rows, group, strict=True):
                if not future.done():  # the client may have gone; the row stays stored
                    future.set_result(row)

    async def _write_one(
        self, values: dict[str, Any], future: asyncio.Future[models.InboundMessage]
    ) -> None:
        try:
            (row,) = await _insert_rows([values])
        except Exception as exc:  # noqa: BLE001 - handed to the caller, which answers 451
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(row)


_intakes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Intake] = (
    weakref.WeakKeyDictionary()
)


def _intake() -> _Intake:
    loop = asyncio.get_running_loop()
    intake = _intakes.get(loop)
    if intake is None:
        intake = _intakes[loop] = _Intake()
    return intake


# --- processing ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What processing decided, written to the inbound row."""

    status: InboundStatus
    reason: str = ""
    ticket: models.Ticket | None = None
    thread: models.Thread | None = None
    spam_score: float = 0.0
    # Summaries for the observer (none for spam: it notifies nobody).
    events: list[dict[str, Any]] = field(default_factory=list)


def _subject(mail: ParsedMail) -> str:
    subject = mail.subject.strip() or NO_SUBJECT
    return subject[:SUBJECT_MAX].strip() or NO_SUBJECT


def _valid_email(value: str | None) -> str | None:
    from deskql.services import validation

    errors = Errors()
    clean = validation.email(errors, "email", (value or "").strip().strip("<>"))
    return clean if clean and not errors.items else None


async def _store_parts(settings: Settings, mail: ParsedMail) -> list[tuple[str, str, str, int]]:
    """Write the attachment bodies (before the rows that point to them)."""
    stored = []
    for index, part in enumerate(mail.attachments, start=1):
        name = clean_filename(Errors(), part.filename) or f"attachment-{index}"
        sha, size = await asyncio.to_thread(
            store_raw, settings.attachments_dir, part.data, max(len(part.data), 1)
        )
        stored.append((name, part.content_type[:255], sha, size))
    return stored


async def _attach(
    ticket: models.Ticket, thread: models.Thread, parts: list[tuple[str, str, str, int]]
) -> None:
    for name, ctype, sha, size in parts:
        row = await models.Attachment.create(
            ticket_id=ticket.id,
            thread_id=thread.id,
            filename=name,
            content_type=ctype,
            size=size,
            sha256=sha,
        )
        await activity.record_ticket(
            actor=None,
            kind="ticket.attachment_added",
            ticket=ticket,
            changes={"attachmentId": row.id, "filename": name, "size": size},
        )


def _sender(row: models.InboundMessage, mail: ParsedMail) -> str | None:
    """The address a message is from: From, else the envelope sender; None when neither is
    usable."""
    return _valid_email((mail.sender.email if mail.sender else None) or _valid_email(row.mail_from))


AGENTS_MEMO = "mail_inbound.agents"  # sender address -> active agent id or None


async def _read_ahead(parsed: list[tuple[models.InboundMessage, Parsed]]) -> None:
    """Read what a group's messages will look up, a statement for each kind instead of one
    per message: which senders are active agents (for `_agent_id`), the senders' contacts
    (for customers.find_or_create_contact) and their followers and their accounts' (for the
    notifications of the activities). Inside the group's transaction; inbound mail never
    writes agents, and what it writes of the rest keeps those reads up to date."""
    memo = uow.memo()
    senders = sorted(
        {
            sender
            for row, mail in parsed
            if not isinstance(mail, Exception) and (sender := _sender(row, mail)) is not None
        }
    )
    if memo is None or not senders:
        return
    found = dict(
        await models.Agent.filter(email__in=senders, is_active=True).values_list("email", "id")
    )
    memo[AGENTS_MEMO] = {sender: found.get(sender) for sender in senders}
    contacts = await customers.read_contacts(senders)
    await notifications.read_followers(
        contact_ids=[c.id for c in contacts],
        account_ids=sorted({c.account_id for c in contacts if c.account_id is not None}),  # type: ignore[attr-defined]
    )


async def _agent_id(sender: str) -> int | None:
    """The active agent with this address, if any (from `_read_ahead` when it read it)."""
    memo = uow.memo()
    known = memo.get(AGENTS_MEMO, {}) if memo is not None else {}
    if sender in known:
        return known[sender]  # type: ignore[no-any-return]
    agents = (
        await models.Agent.filter(email=sender, is_active=True)
        .limit(1)
        .values_list("id", flat=True)
    )
    return agents[0] if agents else None  # type: ignore[return-value]


def _thread_values(mail: ParsedMail, sender: str) -> dict[str, Any]:
    name = mail.sender.name if mail.sender else ""
    return {
        "from_address": f"{name} <{sender}>" if name else sender,
        "to_addresses": format_addresses(mail.to),
        "cc_addresses": format_addresses(mail.cc),
        "subject": mail.subject,
        "body_text": mail.text,
        "body_html": mail.html,
        "message_id": mail.message_id,
        "in_reply_to": " ".join(mail.in_reply_to),
        "references": " ".join(mail.references),
        # Unique: the same message delivered twice (to any process) cannot make two threads.
        "inbound_key": threads.inbound_key(mail.message_id),
    }


def _duplicate(mail: ParsedMail, twin: models.Thread) -> Outcome:
    return Outcome(
        InboundStatus.IGNORED,
        f"duplicate Message-ID {mail.message_id}: already thread {twin.id} of ticket "
        f"#{twin.ticket.number}",
        ticket=twin.ticket,
        thread=twin,
    )


def _event(kind: str, ticket: models.Ticket, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "ticketId": ticket.id,
        "departmentId": ticket.department_id,  # type: ignore[attr-defined]
        **extra,
    }


async def _department_for(address: mail_directory.AddressInfo | None) -> int | None:
    if address is not None and address.department_id is not None:
        return address.department_id
    return await mail_directory.default_department_id()


async def _bounce(settings: Settings, mail: ParsedMail, sender: str) -> Outcome:
    original = await threads.find_by_message_ids(mail.bounced_message_ids)
    if original is None:
        ids = ", ".join(mail.bounced_message_ids) or "none found"
        return Outcome(
            InboundStatus.IGNORED,
            f"delivery status notification for a message that is not ours (Message-ID: {ids})",
        )
    ticket = await models.Ticket.get(id=original.ticket_id)  # type: ignore[attr-defined]
    parts = await _store_parts(settings, mail)
    values = _thread_values(mail, sender or "mailer-daemon")
    thread = await threads.add_incoming_thread(
        ticket=ticket, contact_id=None, is_public=False, automated=True, **values
    )
    await _attach(ticket, thread, parts)
    return Outcome(
        InboundStatus.PROCESSED,
        f"delivery status notification: attached privately to ticket #{ticket.number}",
        ticket=ticket,
        thread=thread,
        events=[_event("ticket.thread_added", ticket, threadId=thread.id, bounce=True)],
    )


async def _process(settings: Settings, row: models.InboundMessage, mail: ParsedMail) -> Outcome:
    """Decide what a parsed message becomes and write it; runs inside the caller's transaction."""
    address = None
    if row.support_address_id is not None:  # type: ignore[attr-defined]
        address = await mail_directory.address_by_id(row.support_address_id)  # type: ignore[attr-defined]
    if address is None:
        for rcpt in row.rcpt_to.split(","):
            address = await mail_directory.address(rcpt)
            if address is not None:
                break
    if address is not None and not address.is_fetching:
        return Outcome(
            InboundStatus.IGNORED,
            f"{address.email} is not fetching (EM-4): kept, no ticket made; turn fetching on "
            "and reprocess to make one",
        )
    verdict = detect.classify(mail, mail_domain=settings.mail_domain)
    if verdict.own_mail:
        return Outcome(InboundStatus.IGNORED, f"loop prevented: {verdict.reason}")
    sender = _sender(row, mail)
    if verdict.bounce:
        return await _bounce(settings, mail, sender or "")
    own = await mail_directory.known_support_address(sender) if sender else None
    if own is not None:
        # A ticket whose contact is our own address would answer itself: a loop, or a forgery.
        return Outcome(
            InboundStatus.IGNORED,
            f"sent from our own support address {own.email}: no ticket made (a mail loop or "
            "a forged sender)",
        )
    if sender is None:
        return Outcome(
            InboundStatus.FAILED,
            "no usable sender address: From is missing or does not parse, and the envelope "
            "sender is empty",
        )
    name = mail.sender.name if mail.sender and mail.sender.email == sender else ""
    automated = f"; {verdict.reason}: no automatic response" if verdict.automated else ""

    ticket, how = await threads.find_reply_ticket(
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        subject=mail.subject,
        sender=sender,
    )
    if ticket is not None:
        # A reply to a merged ticket lands on the ticket it was merged into (TIC-5).
        ticket = await follow_merges(ticket, lock=True)
    agent_id = await _agent_id(sender)
    parts = await _store_parts(settings, mail)
    if ticket is not None:
        contact_id = None
        if agent_id is None:
            contact = await customers.find_or_create_contact(None, email=sender, name=name)
            contact_id = contact.id
        if not verdict.automated:
            ticket = await threads.reopen(None, ticket, "the customer replied by email")
        thread = await threads.add_incoming_thread(
            ticket=ticket,
            contact_id=contact_id,
            author_agent_id=agent_id,
            automated=verdict.automated,
            **_thread_values(mail, sender),
        )
        await _attach(ticket, thread, parts)
        events = (
            [] if ticket.is_spam else [_event("ticket.thread_added", ticket, threadId=thread.id)]
        )
        return Outcome(
            InboundStatus.PROCESSED,
            f"reply to ticket #{ticket.number} (matched by {how}){automated}",
            ticket=ticket,
            thread=thread,
            events=events,
        )

    department_id = await _department_for(address)
    if department_id is None:
        return Outcome(InboundStatus.FAILED, "no department to put the ticket in: create one")
    switches = await mail_directory.switches(department_id)
    requester = Address(name, sender)
    notes: list[str] = []
    if switches.contact_from_reply_to and mail.reply_to:
        requester = mail.reply_to[0]
        notes.append(f"requester from Reply-To {requester.email} (EM-11)")
    forwarded = mail.forwarded_sender
    if (
        switches.forwarded_on_behalf
        and agent_id is not None
        and forwarded is not None
        and forwarded.email != sender
        and _valid_email(forwarded.email)
    ):
        requester = forwarded
        notes.append(f"forwarded by agent {sender} on behalf of {forwarded.email} (EM-14)")
    domain = "@" + sender.rpartition("@")[2]
    blocked = await mail_directory.blocked_among([sender, domain])
    verdict_spam = spam.score(mail, sender=sender, blocked=blocked)
    if verdict_spam.score:
        notes.append(verdict_spam.explain())
    ticket = await create_ticket(
        None,
        subject=_subject(mail),
        department_id=department_id,
        description=mail.text[:DESCRIPTION_MAX],
        contact_email=requester.email,
        contact_name=requester.name,
        channel=Channel.EMAIL,
        status=TicketStatus.OPEN,
        is_spam=verdict_spam.is_spam,
    )
    thread = await threads.add_incoming_thread(
        ticket=ticket,
        contact_id=None if agent_id is not None else ticket.contact_id,  # type: ignore[attr-defined]
        author_agent_id=agent_id,
        automated=verdict.automated,
        **_thread_values(mail, sender),
    )
    await _attach(ticket, thread, parts)
    reason = "; ".join([f"new ticket #{ticket.number}", *notes]) + automated
    events = (
        []
        if ticket.is_spam
        else [_event("ticket.created", ticket, threadId=thread.id, automated=verdict.automated)]
    )
    return Outcome(
        InboundStatus.PROCESSED,
        reason,
        ticket=ticket,
        thread=thread,
        spam_score=verdict_spam.score,
        events=events,
    )


async def process_message(
    settings: Settings,
    *,
    inbound_id: int,
    on_processed: Observer | None = None,
    row: models.InboundMessage | None = None,
    parsing: Awaitable[Parsed] | None = None,
) -> models.InboundMessage:
    """Turn a stored message into a ticket or thread; failures leave it FAILED with a reason.

    Duplicates are decided by the database, not by this process: the thread's unique
    `inbound_key` (sha256 of the Message-ID) makes a second delivery's transaction fail with
    IntegrityError, which rolls back all it wrote (ticket, thread, history), and the message
    is recorded IGNORED with the thread that has it, even when two `deskql smtp` processes
    take the same message at once.
    """
    if row is None or row.id != inbound_id:  # `row`: the one store_message just wrote
        row = await models.InboundMessage.get(id=inbound_id)
    mail = await _parse(settings, row, parsing)
    outcome = await _settle(settings, row, mail)
    await _observe(on_processed, row, outcome)
    return row


async def process_messages(
    settings: Settings,
    *,
    items: list[tuple[int, models.InboundMessage | None]],
    on_processed: Observer | None = None,
    parsing: dict[int, Awaitable[Parsed]] | None = None,
) -> list[models.InboundMessage]:
    """Process several stored messages with one commit (a group commit), each with the outcome
    `process_message` would give it; (inbound id, row or None). `parsing`: parses already
    under way (`parse_stored`), by inbound id.

    The group is first written without savepoints (two round trips fewer per nested block);
    when one of its messages raises, that transaction rolls back and the group is written
    again with a savepoint per message, so one bad message never fails the others. The events
    of all go out after the commit. If the transaction fails as a whole (the database went
    away), nothing of it stays and each message is processed on its own.
    """
    parsing = parsing or {}
    if len(items) < 2:
        return [
            await process_message(
                settings, inbound_id=pk, on_processed=on_processed, row=row, parsing=parsing.get(pk)
            )
            for pk, row in items
        ]
    missing = [pk for pk, row in items if row is None or row.id != pk]
    loaded = (
        {r.id: r for r in await models.InboundMessage.filter(id__in=missing)} if missing else {}
    )
    rows = [
        loaded[pk] if row is None or row.id != pk else row
        for pk, row in items
        if pk in loaded or (row is not None and row.id == pk)
    ]
    mails = await asyncio.gather(*(_parse(settings, row, parsing.get(row.id)) for row in rows))
    parsed = list(zip(rows, mails, strict=True))
    try:
        try:
            outcomes = await _settle_all(settings, parsed)
        except (_Unsettled, uow.NestedFailed) as exc:  # rolled back: again, with savepoints
            log.debug(
                "a group of %d inbound messages goes again with savepoints: %s", len(rows), exc
            )
            async with uow.transaction():
                await _read_ahead(parsed)
                outcomes = [
                    await _settle(settings, row, mail, grouped=True) for row, mail in parsed
                ]
    except Exception as exc:
        if isinstance(exc, GroupAborted):  # another transaction needs what this group locked
            log.info("a group of %d inbound messages rolled back: %s", len(rows), exc)
        else:
            log.exception("a group of %d inbound messages failed; each on its own", len(rows))
        return [
            await process_message(settings, inbound_id=row.id, on_processed=on_processed)
            for row in rows
        ]
    for row, outcome in zip(rows, outcomes, strict=True):
        await _observe(on_processed, row, outcome)
    return rows


class _Unsettled(Exception):
    """A message of a group written without savepoints raised: the group goes again."""


async def _settle_all(
    settings: Settings, parsed: list[tuple[models.InboundMessage, Parsed]]
) -> list[Outcome]:
    """Write a group in one transaction without savepoints, the outcomes of all with one
    statement; raises _Unsettled (rolled back) when a message raises, GroupAborted on a
    deadlock or serialization failure."""
    outcomes: list[Outcome] = []
    async with uow.transaction(savepoints=False):
        await _read_ahead(parsed)
        take_numbers_ahead(len(parsed))  # at most one new ticket a message
        for row, mail in parsed:
            if isinstance(mail, Exception):
                raise _Unsettled(f"message {row.id} could not be read or parsed")
            try:
                outcomes.append(await _process(settings, row, mail))
            except Exception as exc:
                if _lock_conflict(exc):
                    raise GroupAborted(str(exc)) from exc
                raise _Unsettled(f"message {row.id}: {type(exc).__name__}: {exc}") from exc
        await give_back_numbers()
        values = [
            _outcome_values(outcome, row.attempts + 1)
            for (row, _), outcome in zip(parsed, outcomes, strict=True)
        ]
        await _write_outcomes([row.id for row, _ in parsed], values)
    for (row, _), row_values in zip(parsed, values, strict=True):  # committed: keep in step
        for key, value in row_values.items():
            setattr(row, key, value)
    return outcomes


Parsed = ParsedMail | Exception  # the parsed message, or what went wrong reading or parsing it

# Parsing is pure CPU (the email package, ~40% of the processing of a message with a 100 KB
# attachment): it runs in a separate process, off the event loop that serves SMTP, GraphQL and
# the database. Spawned, never forked: this process has threads and a running loop.
_parser: ProcessPoolExecutor | None = None


def _parser_pool() -> ProcessPoolExecutor:
    global _parser
    if _parser is None:
        _parser = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    return _parser


async def shutdown_parser() -> None:
    """End the parser process (and its multiprocessing helpers): on shutdown, so no child of
    a stopped server keeps running. A later parse starts a new one."""
    global _parser
    pool, _parser = _parser, None
    if pool is not None:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


async def parse_stored(settings: Settings, row: models.InboundMessage) -> Parsed:
    """Read and parse a stored message in the parser process; never raises."""
    global _parser
    path = str(raw_path(settings, row))
    try:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                _parser_pool(), parse_file, path
            )
        except BrokenProcessPool:  # the parser process died (killed?): a new one next time
            _parser = None
            log.warning("the mail parser process died; parsing message %s here", row.id)
            return parse_message(await read_raw(settings, row))
    except Exception as exc:  # noqa: BLE001 - recorded FAILED by _settle
        return exc


async def _parse(
    settings: Settings, row: models.InboundMessage, parsing: Awaitable[Parsed] | None = None
) -> Parsed:
    return await parsing if parsing is not None else await parse_stored(settings, row)


class GroupAborted(Exception):
    """A deadlock or serialization failure inside a group: the group must roll back whole
    (its earlier messages hold the locks the other transaction waits for)."""


def _lock_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure (SQLSTATE class 40): safe to run again."""
    seen: BaseException | None = exc
    while seen is not None:
        if str(getattr(seen, "sqlstate", "") or "").startswith("40"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _settle(
    settings: Settings,
    row: models.InboundMessage,
    mail: ParsedMail | Exception,
    *,
    grouped: bool = False,
) -> Outcome:
    """Process one parsed message and write its outcome: in its own transaction, or in a
    savepoint of the caller's (`grouped`: a group commit)."""
    attempts = row.attempts + 1
    try:
        if isinstance(mail, Exception):
            raise mail
        for attempt in (1, 2):
            try:
                # One transaction: the ticket or thread, their history and the message's new
                # status commit together (and on PostgreSQL on one connection).
                async with uow.transaction():
                    outcome = await _process(settings, row, mail)
                    await _finish(row, outcome, attempts)
                return outcome
            except IntegrityError:
                twin = await threads.find_by_inbound_key(threads.inbound_key(mail.message_id))
                if twin is not None:  # the same message made a thread first: a duplicate
                    outcome = _duplicate(mail, twin)
                    await _finish(row, outcome, attempts)
                    return outcome
                # A concurrent delivery created the same contact or tag first: once more.
                if attempt == 2:
                    raise
            except Exception as exc:
                if not _lock_conflict(exc):
                    raise
                if grouped:
                    raise GroupAborted(str(exc)) from exc
                if attempt == 2:  # PostgreSQL chose this transaction as a deadlock's victim
                    raise
        raise AssertionError("unreachable")
    except GroupAborted:
        raise
    except ValidationFailed as exc:
        outcome = Outcome(InboundStatus.FAILED, f"refused: {exc}")
    except Exception as exc:  # kept FAILED for an administrator to see and reprocess
        log.exception("processing inbound message %s failed", row.id)
        outcome = Outcome(InboundStatus.FAILED, f"processing failed: {type(exc).__name__}: {exc}")
    await _finish(row, outcome, attempts)
    return outcome


async def _observe(
    on_processed: Observer | None, row: models.InboundMessage, outcome: Outcome
) -> None:
    if on_processed is None:
        return
    for event in outcome.events:
        try:
            await on_processed(event | {"inboundMessageId": row.id})
        except Exception:  # an observer's failure changes nothing that was committed
            log.exception("observer of %s failed", event.get("type"))


async def _write_outcomes(ids: list[int], values: list[dict[str, Any]]) -> None:
    """Write outcomes on their inbound rows: one UPDATE run for each row with executemany (in
    one round trip on PostgreSQL, where asyncpg pipelines it)."""
    meta = models.InboundMessage._meta
    db = meta.db
    names = list(values[0])
    marks = (
        [f"${i}" for i in range(1, len(names) + 2)]
        if db.capabilities.dialect == "postgres"
        else ["?"] * (len(names) + 1)
    )
    columns = ", ".join(
        f'"{meta.fields_db_projection[name]}" = {mark}'
        for name, mark in zip(names, marks, strict=False)
    )
    await db.execute_many(
        f'UPDATE "{meta.db_table}" SET {columns} WHERE "id" = {marks[-1]}',
        [
            [meta.fields_map[name].to_db_value(row_values[name], None) for name in names] + [pk]
            for pk, row_values in zip(ids, values, strict=True)
        ],
    )


def _outcome_values(outcome: Outcome, attempts: int) -> dict[str, Any]:
    """The columns of the inbound row an outcome sets."""
    return {
        "status": outcome.status,
        "reason": outcome.reason[:10_000],
        "spam_score": outcome.spam_score,
        "ticket_id": outcome.ticket.id if outcome.ticket else None,
        "thread_id": outcome.thread.id if outcome.thread else None,
        "attempts": attempts,
        "processed_at": datetime.now(UTC),
    }


async def _finish(row: models.InboundMessage, outcome: Outcome, attempts: int) -> None:
    """Write the outcome on the inbound row (and keep the row object in step)."""
    values = _outcome_values(outcome, attempts)
    await models.InboundMessage.filter(id=row.id).update(**values)
    for key, value in values.items():
        setattr(row, key, value)


async def pending_ids() -> list[int]:
    """Messages stored but not processed (a restart after a crash picks them up)."""
    return await models.InboundMessage.filter(status=InboundStatus.RECEIVED).values_list(
        "id", flat=True
    )


# --- administration --------------------------------------------------------------------------


def list_inbound(actor: Actor, *, status: InboundStatus | None = None) -> QuerySet[Any]:
    """Inbound messages, newest first, optionally by status (administrators only)."""
    require_admin(actor, "read inbound messages")
    qs = models.InboundMessage.all()
    if status is not None:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


async def reprocess(actor: Actor, *, settings: Settings, inbound_id: int) -> models.InboundMessage:
    """Process a FAILED or IGNORED message again (administrators only)."""
    require_admin(actor, "reprocess inbound messages")
    row = await models.InboundMessage.filter(id=inbound_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such inbound message", ErrorCode.NOT_FOUND)
    if row.status not in (InboundStatus.FAILED, InboundStatus.IGNORED):
        raise ValidationFailed.one(
            "id",
            f"only FAILED or IGNORED messages are reprocessed; this one is {row.status.value}",
            ErrorCode.INVALID,
        )
    await activity.record(
        actor=actor,
        kind="inbound_message.reprocessed",
        subject_type="InboundMessage",
        subject_id=row.id,
        changes={"status": row.status.value, "reason": row.reason[:500]},
    )
    return await process_message(settings, inbound_id=row.id)


async def original_content(actor: Actor, *, settings: Settings, thread_id: int) -> str | None:
    """The raw source of the message a thread came from (TIC-12), if the actor may see it."""
    row = await models.InboundMessage.filter(thread_id=thread_id).order_by("id").first()
    if row is None or row.ticket_id is None:  # type: ignore[attr-defined]
        return None
    if not await visible_tickets(actor).filter(id=row.ticket_id).exists():  # type: ignore[attr-defined]
        return None
    raw = await read_raw(settings, row)
    return raw.decode("utf-8", errors="replace")


# --- spam (TIC-7) ---------------------------------------------------------------------------


async def _require_ticket(actor: Actor, ticket_id: int) -> models.Ticket:
    ticket = await visible_tickets(actor).filter(id=ticket_id).select_related("contact").first()
    if ticket is None:
        raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
    return ticket


async def _set_spam(actor: Actor, ticket: models.Ticket, value: bool) -> models.Ticket:
    if ticket.is_spam != value:
        from tortoise.expressions import F

        await models.Ticket.filter(id=ticket.id).update(
            is_spam=value, version=F("version") + 1, updated_at=datetime.now(UTC)
        )
        ticket = await models.Ticket.get(id=ticket.id)
        await activity.record_ticket(
            actor=actor,
            kind="ticket.updated",
            ticket=ticket,
            changes={"isSpam": {"old": not value, "new": value}},
        )
    return ticket


async def mark_spam(actor: Actor, *, ticket_id: int, block_sender: bool = False) -> models.Ticket:
    """Mark a ticket as spam by hand; optionally blocklist its contact's address (TIC-7)."""
    ticket = await _require_ticket(actor, ticket_id)
    email = ticket.contact.email if ticket.contact else ""
    if block_sender and not email:
        raise ValidationFailed.one(
            "blockSender", "the ticket has no contact address to block", ErrorCode.INVALID
        )
    async with uow.transaction():
        fresh = await _set_spam(actor, ticket, True)
        if block_sender and not await models.BlockedSender.exists(pattern=email):
            blocked = await models.BlockedSender.create(pattern=email, created_by_id=actor.agent_id)
            await activity.record(
                actor=actor,
                kind="blocked_sender.added",
                subject_type="BlockedSender",
                subject_id=blocked.id,
                ticket_id=ticket.id,
                contact_id=ticket.contact_id,  # type: ignore[attr-defined]
                changes={"pattern": email},
            )
    mail_directory.invalidate()  # the blocklist changed
    return fresh


async def unmark_spam(
    actor: Actor, *, ticket_id: int, unblock_sender: bool = False
) -> models.Ticket:
    """Take a ticket out of the spam view; optionally remove its contact from the blocklist."""
    ticket = await _require_ticket(actor, ticket_id)
    email = ticket.contact.email if ticket.contact else ""
    async with uow.transaction():
        fresh = await _set_spam(actor, ticket, False)
        if unblock_sender and email:
            blocked = await models.BlockedSender.filter(pattern=email).first()
            if blocked is not None:
                await blocked.delete()
                await activity.record(
                    actor=actor,
                    kind="blocked_sender.removed",
                    subject_type="BlockedSender",
                    subject_id=blocked.id,
                    ticket_id=ticket.id,
                    contact_id=ticket.contact_id,  # type: ignore[attr-defined]
                    changes={"pattern": email},
                )
    mail_directory.invalidate()  # the blocklist changed
    return fresh
