"""Outbound email resolvers: decode ids, call services.replies, outbox, from_addresses,
templates and drafts, build payloads.

The parts: queries.py (the reads), sending.py (replies, forwards, resends, drafts),
addresses.py (from addresses), templates.py (template folders, email and ticket templates,
follow-up tags).
"""

from deskql.resolvers.outbound.addresses import (
    from_address_create,
    from_address_delete,
    from_address_resend_verification,
    from_address_update,
)
from deskql.resolvers.outbound.queries import (
    drafts,
    email_templates,
    from_addresses,
    outgoing_email,
    reply_from_choice,
    template_folders,
    ticket_templates,
    to_from_address,
)
from deskql.resolvers.outbound.sending import (
    draft_discard,
    draft_save,
    draft_send,
    outgoing_email_resend,
    ticket_forward,
    ticket_reply,
)
from deskql.resolvers.outbound.templates import (
    email_template_delete,
    email_template_save,
    tag_follow_up,
    template_folder_create,
    ticket_template_create,
)

__all__ = [
    "draft_discard",
    "draft_save",
    "draft_send",
    "drafts",
    "email_template_delete",
    "email_template_save",
    "email_templates",
    "from_address_create",
    "from_address_delete",
    "from_address_resend_verification",
    "from_address_update",
    "from_addresses",
    "outgoing_email",
    "outgoing_email_resend",
    "reply_from_choice",
    "tag_follow_up",
    "template_folder_create",
    "template_folders",
    "ticket_forward",
    "ticket_reply",
    "ticket_template_create",
    "ticket_templates",
    "to_from_address",
]
