"""The raw store and the intake: a message's bytes stored and its InboundMessage rows written."""

from __future__ import annotations

import asyncio
import io
import logging
import weakref
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from deskql import models
from deskql.channels.email.parse import (
    decode_header_value,
    message_ids,
)
from deskql.models.enums import InboundStatus
from deskql.services import mail_directory
from deskql.services.attachments import blob_path, store_blob
from deskql.settings import Settings

log = logging.getLogger("deskql.mail")


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
