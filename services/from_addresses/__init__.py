"""From addresses (EM-6..EM-9): per department, verified by a single-use expiring link, or sent
through the company's own SMTP server with its password encrypted at rest.

The parts: crypto.py (SMTP passwords encrypted at rest), senders.py (which address a reply
goes from), manage.py (create, verify, update, delete). Constants are read where they are
defined: patch them there, not on this package.
"""

from deskql.services.from_addresses.crypto import decrypt, encrypt, secret_seed
from deskql.services.from_addresses.manage import (
    DISPLAY_NAME_MAX,
    LIMITS,
    SMTP_PORTS,
    create_from_address,
    delete_from_address,
    resend_verification,
    update_from_address,
    verify_token,
)
from deskql.services.from_addresses.senders import (
    ReplySender,
    default_sender,
    default_support_address,
    is_usable,
    list_from_addresses,
    reply_senders,
    require_default_sender_enabled,
    sender_for,
    sender_of,
    spf_record,
    uses_own_smtp,
)

__all__ = [
    "DISPLAY_NAME_MAX",
    "LIMITS",
    "ReplySender",
    "SMTP_PORTS",
    "create_from_address",
    "decrypt",
    "default_sender",
    "default_support_address",
    "delete_from_address",
    "encrypt",
    "is_usable",
    "list_from_addresses",
    "reply_senders",
    "require_default_sender_enabled",
    "resend_verification",
    "secret_seed",
    "sender_for",
    "sender_of",
    "spf_record",
    "update_from_address",
    "uses_own_smtp",
    "verify_token",
]
