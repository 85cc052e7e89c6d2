"""The key of an incoming message: the sha256 of its normalised Message-ID.

Pure and dependency-free, so that the application (services/threads.py, the inbound path) and
the migrations (0005 backfills the key of older threads) compute it with one piece of code.
"""

from __future__ import annotations

import hashlib
import re

_MSGID = re.compile(r"<([^<>\s]+)>")


def inbound_key(message_id: str | None) -> str | None:
    """The unique key of an incoming message's thread: sha256 of its normalised Message-ID.

    Normalised: the first `<local@domain>` token, the domain lower-cased (RFC 5322: the
    domain is case-insensitive, the local part is not). None without a Message-ID.
    """
    found = _MSGID.search(message_id or "")
    if found is None:
        return None
    local, at, domain = found.group(1).rpartition("@")
    value = f"<{local}{at}{domain.lower()}>" if at else f"<{domain}>"
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
