"""Inbound mail: store the raw message durably, then turn it into a ticket or a thread.

`store_message` runs before the SMTP server answers 250: the raw bytes are written by sha256
under settings.mail_dir (fsynced, the attachment store's logic) and an InboundMessage row
points to them. `process_message` runs after, in the same process: it parses, detects
machines and spam, threads replies and creates tickets through services.tickets.create_ticket
(the one way to create a ticket). A failure leaves the row FAILED with a reason, visible to
administrators and re-processable; nothing accepted is ever lost.

The parts: store.py (the raw store, `store_message` and the intake), parsing.py (`parse_stored`
in a separate process), process.py (one message turned into a ticket or a thread),
settle.py (`process_message`, `process_messages`: outcomes written, conflicts retried),
admin.py (listing, reprocessing, the original content, spam). Module-level state and private
functions are looked up where they are defined or imported: patch them there (e.g.
deskql.services.mail_inbound.settle._process), not on this package.
"""

from deskql.services import threads
from deskql.services.mail_inbound.admin import (
    list_inbound,
    mark_spam,
    original_content,
    pending_ids,
    reprocess,
    unmark_spam,
)
from deskql.services.mail_inbound.parsing import Parsed, parse_stored, shutdown_parser
from deskql.services.mail_inbound.process import AGENTS_MEMO, NO_SUBJECT, Outcome
from deskql.services.mail_inbound.settle import (
    GroupAborted,
    Observer,
    process_message,
    process_messages,
)
from deskql.services.mail_inbound.store import (
    raw_path,
    read_raw,
    store_message,
    store_raw,
    unique_recipients,
)

__all__ = [
    "AGENTS_MEMO",
    "GroupAborted",
    "NO_SUBJECT",
    "Observer",
    "Outcome",
    "Parsed",
    "list_inbound",
    "mark_spam",
    "original_content",
    "parse_stored",
    "pending_ids",
    "process_message",
    "process_messages",
    "raw_path",
    "read_raw",
    "reprocess",
    "shutdown_parser",
    "store_message",
    "store_raw",
    "threads",
    "unique_recipients",
    "unmark_spam",
]
