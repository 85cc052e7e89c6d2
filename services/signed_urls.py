"""Signed, expiring, single-use URLs for browsers (DESIGN: signed links for browsers).

A browser following a link to an export or a print view sends no bearer token. The API hands
out a URL whose query carries the actor, an expiry, a random nonce and an HMAC-SHA256 over
the path, the actor, the expiry, the nonce and every other parameter, keyed by the
deployment's secret (DESKQL_SECRET_KEY, or the key generated under var/), the way S3 presigns.
Nothing in it outlives it: it works until `exp`, once.

`verify` checks the signature (constant time) and the expiry; `consume` records the nonce
(models.SignedUrlUse, a unique column) so a second GET of the same URL is a replay, on any
process sharing the database. The actor's access is checked again by the page itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from tortoise.exceptions import IntegrityError

from deskql import models
from deskql.services.from_addresses import secret_seed
from deskql.settings import Settings

RESERVED = ("actor", "exp", "nonce", "sig")


class SignedUrlError(Exception):
    """A signed URL that must not be honoured; `reason` is EXPIRED, INVALID or REPLAYED."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Signed:
    """What a verified URL grants."""

    actor_id: int
    params: dict[str, str]
    nonce: str
    expires_at: datetime


def _key(settings: Settings) -> bytes:
    # A key of its own, derived from the secret (domain separation from the Fernet key).
    return hmac.new(secret_seed(settings), b"deskql signed urls v1", hashlib.sha256).digest()


def _message(path: str, actor_id: int, exp: int, nonce: str, params: dict[str, str]) -> bytes:
    extra = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return f"{path}\n{actor_id}\n{exp}\n{nonce}\n{extra}".encode()


def _signature(settings: Settings, message: bytes) -> str:
    return hmac.new(_key(settings), message, hashlib.sha256).hexdigest()


def sign(
    settings: Settings,
    *,
    path: str,
    actor_id: int,
    params: dict[str, str] | None = None,
    seconds: int | None = None,
) -> tuple[str, datetime]:
    """A signed path with query (relative to the server) and when it expires."""
    extra = dict(params or {})
    if set(extra) & set(RESERVED):
        raise ValueError(f"reserved parameter names: {RESERVED}")
    ttl = settings.signed_url_seconds if seconds is None else seconds
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl)
    exp = int(expires_at.timestamp())
    nonce = secrets.token_urlsafe(16)
    sig = _signature(settings, _message(path, actor_id, exp, nonce, extra))
    query = urlencode({**extra, "actor": actor_id, "exp": exp, "nonce": nonce, "sig": sig})
    return f"{path}?{query}", expires_at


def absolute(settings: Settings, signed_path: str) -> str:
    """A signed path as a full URL on the public base URL."""
    return settings.base_url + signed_path


def verify(settings: Settings, *, path: str, query: dict[str, str]) -> Signed:
    """The grant of a signed URL; SignedUrlError when tampered with or expired."""
    try:
        actor_id = int(query["actor"])
        exp = int(query["exp"])
        nonce = query["nonce"]
        sig = query["sig"]
    except (KeyError, ValueError):
        raise SignedUrlError("INVALID", "the link is not signed") from None
    params = {k: v for k, v in query.items() if k not in RESERVED}
    expected = _signature(settings, _message(path, actor_id, exp, nonce, params))
    if not hmac.compare_digest(expected, sig):
        raise SignedUrlError("INVALID", "the link's signature does not match")
    expires_at = datetime.fromtimestamp(exp, UTC)
    if datetime.now(UTC) >= expires_at:
        raise SignedUrlError("EXPIRED", "the link has expired; ask for a new one")
    return Signed(actor_id, params, nonce, expires_at)


async def consume(signed: Signed) -> None:
    """Use the URL up: SignedUrlError(REPLAYED) when it was used before."""
    now = datetime.now(UTC)
    try:
        await models.SignedUrlUse.create(nonce=signed.nonce, expires_at=signed.expires_at)
    except IntegrityError:
        raise SignedUrlError("REPLAYED", "the link was used already; ask for a new one") from None
    # Nonces of expired links can go: their signatures fail on expiry anyway.
    await models.SignedUrlUse.filter(expires_at__lt=now - timedelta(minutes=5)).delete()
