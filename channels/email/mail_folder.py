"""The local mail folder: where outgoing email goes when no relay is configured (the embedded
default), one `.eml` file a message, the way development mail catchers keep them, so that a
newcomer sees what DeskQL sent instead of a queue retrying 127.0.0.1:25 for ever.

`MailFolder` has the `send`/`quit` of outbound.Connection, so the outbox sends through it
unchanged. Each file is the message as it would go on the wire, preceded by
X-Envelope-From / X-Envelope-To headers (Bcc recipients appear only there).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from deskql.channels.email.outbound import Envelope, SendFailed

log = logging.getLogger("deskql.outbox")


def _write(folder: Path, envelope: Envelope) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(envelope.raw).hexdigest()[:16]
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{digest}.eml"
    head = (
        f"X-Envelope-From: {envelope.mail_from}\r\n"
        f"X-Envelope-To: {', '.join(envelope.recipients)}\r\n"
    ).encode("utf-8", "replace")
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(head + envelope.raw)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return path


class MailFolder:
    """Delivers messages into a folder instead of an SMTP server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.client = None  # never a connection to lose (outbox reads it after a failure)

    async def send(self, envelope: Envelope) -> dict[str, str]:
        """Write the message to a new .eml file; every recipient "accepts" it."""
        try:
            path = await asyncio.to_thread(_write, self.folder, envelope)
        except OSError as exc:
            raise SendFailed(f"cannot write to the mail folder: {exc}", temporary=True) from exc
        log.info(
            "email to %s written to %s (no relay configured: set DESKQL_RELAY_HOST to send it)",
            ", ".join(envelope.recipients),
            path,
        )
        return {}

    async def quit(self) -> None:
        """Nothing to close."""
