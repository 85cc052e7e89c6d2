"""The outbound enums OutboxStatus and SmtpSecurity, registered with their descriptions."""

from __future__ import annotations

import strawberry

from deskql.models.outbound import OutboxStatus, SmtpSecurity

strawberry.enum(
    OutboxStatus,
    description="QUEUED: waiting (first try or a retry after a temporary failure); SENDING: "
    "being handed to the SMTP server; SENT: accepted by it; FAILED: refused for good, out of "
    "retries or interrupted (see lastError); it can be re-sent.",
)


strawberry.enum(
    SmtpSecurity,
    description="PLAIN: no encryption; SSL: TLS from the first byte (port 465); TLS: STARTTLS.",
)
