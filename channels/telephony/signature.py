"""Signed call events: HMAC-SHA256 over "<timestamp>.<raw body>" with the shared secret,
sent as `X-DeskQL-Timestamp: <unix seconds>` and `X-DeskQL-Signature: sha256=<hex>` (the
scheme of Stripe's and Slack's webhooks). A timestamp outside the replay window is refused,
so a captured request cannot be played again later."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "x-deskql-timestamp"
SIGNATURE_HEADER = "x-deskql-signature"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for a body sent at a time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers a sender adds (for providers' adapters and tests)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {"X-DeskQL-Timestamp": str(ts), "X-DeskQL-Signature": sign(secret, ts, body)}


def check(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    window: int,
    now: float | None = None,
) -> str | None:
    """Why the request is not authentic, or None when it is."""
    if not secret:
        return "telephony events are not enabled (no DESKQL_TELEPHONY_SECRET)"
    if not timestamp or not signature:
        return "missing X-DeskQL-Timestamp or X-DeskQL-Signature"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed timestamp"
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > window:
        return f"timestamp outside the {window} s replay window"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        return "wrong signature"
    return None
