"""Outbound email: building MIME messages (header-injection safe) and handing them to an SMTP
server with aiosmtplib, with failures classified as temporary (retry) or permanent.

Building happens once, when a reply is queued: every attempt sends the same bytes with the
same Message-ID, so a receiver (our own inbound channel included) can drop a duplicate.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib

# SMTPUTF8-free wire format with CRLF line ends; long headers are folded, never broken.
_POLICY = policy.SMTP.clone(max_line_length=78)


class HeaderInjection(ValueError):
    """A header value carried a CR or LF: refused rather than sent."""


@dataclass(frozen=True)
class OutAttachment:
    """A file to attach: its name, MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Transport:
    """Where and how to send: the relay of the settings or a From address's own server."""

    host: str
    port: int
    security: str = "PLAIN"  # PLAIN, SSL (implicit TLS) or TLS (STARTTLS)
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    # Tests and the benchmark talk to self-signed local servers.
    verify_certificates: bool = True

    @property
    def key(self) -> tuple[str, int, str, str]:
        """Messages with the same key can share one connection."""
        return (self.host, self.port, self.security, self.username)


class SendFailed(Exception):
    """Sending failed; `temporary` says whether trying again later may succeed."""

    def __init__(self, message: str, *, temporary: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.code = code


def _safe(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"{what} contains a line break")
    return value


def _address(display_name: str, email: str, what: str) -> str:
    _safe(display_name, what)
    _safe(email, what)
    local, _, domain = email.rpartition("@")
    # Address() quotes and RFC 2047-encodes the display name as needed.
    return str(Address(display_name=display_name, username=local, domain=domain))


def build_message(
    *,
    from_name: str,
    from_email: str,
    to: list[str],
    cc: list[str],
    subject: str,
    body_text: str,
    body_html: str = "",
    message_id: str,
    in_reply_to: str = "",
    references: str = "",
    attachments: list[OutAttachment] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """The raw bytes of an email; raises HeaderInjection on CR/LF in any header value.

    Bcc recipients are never written into the message: they are envelope recipients only.
    """
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = _address(from_name, from_email, "the From name")
    if to:
        msg["To"] = ", ".join(_address("", a, "a To address") for a in to)
    if cc:
        msg["Cc"] = ", ".join(_address("", a, "a Cc address") for a in cc)
    msg["Subject"] = _safe(subject, "the subject")
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = _safe(message_id, "the Message-ID")
    if in_reply_to:
        msg["In-Reply-To"] = _safe(in_reply_to, "In-Reply-To")
    if references:
        msg["References"] = _safe(references, "References")
    for name, value in (extra_headers or {}).items():
        msg[_safe(name, "a header name")] = _safe(value, name)
    msg.set_content(body_text or "")
    if body_html:
        msg.add_alternative(body_html, subtype="html")
    for att in attachments or []:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(
            att.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=_safe(att.filename, "an attachment name"),
        )
    return msg.as_bytes(policy=_POLICY)


def display(name: str, email: str) -> str:
    """ "Name <email>" for showing on a thread (not for headers)."""
    return formataddr((name, email)) if name else email


def _tls_context(transport: Transport) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not transport.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _classify(exc: BaseException, transport: Transport) -> SendFailed:
    """A SendFailed with a message an administrator can act on."""
    where = f"{transport.host}:{transport.port} ({transport.security})"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendFailed(
            f"{where} refused the SMTP credentials: {exc.code} {exc.message}",
            temporary=False,
            code=exc.code,
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        temporary = all(400 <= c < 500 for c in codes)
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        return SendFailed(f"{where} refused every recipient: {detail}", temporary=temporary)
    if isinstance(exc, aiosmtplib.SMTPResponseException) and not isinstance(
        exc, aiosmtplib.SMTPServerDisconnected
    ):
        temporary = 400 <= exc.code < 500
        return SendFailed(
            f"{where} answered {exc.code} {exc.message}", temporary=temporary, code=exc.code
        )
    if isinstance(exc, ssl.SSLError) or "SSL" in type(exc).__name__ or _ssl_cause(exc):
        return SendFailed(
            f"TLS handshake with {where} failed ({exc}); is the port a plain SMTP port? Use "
            "PLAIN or TLS (STARTTLS) security for it",
            temporary=False,
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return SendFailed(f"{where}: {exc}", temporary=False)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError) and transport.security in {
        "PLAIN",
        "TLS",
    }:
        return SendFailed(
            f"{where} sent no SMTP greeting within {transport.timeout:g}s; if it is an SSL "
            "port (465), use SSL security",
            temporary=True,
        )
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return SendFailed(f"cannot reach {where}: {exc or type(exc).__name__}", temporary=True)
    return SendFailed(f"{where}: {type(exc).__name__}: {exc}", temporary=True)


def _ssl_cause(exc: BaseException) -> bool:
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class Envelope:
    """One message to hand over: sender, recipients and the raw bytes."""

    mail_from: str
    recipients: list[str]
    raw: bytes


class Connection:
    """One SMTP session that sends several messages (the worker reuses it per batch)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.client: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        """Connect, negotiate TLS as configured and log in; raises SendFailed."""
        t = self.transport
        client = aiosmtplib.SMTP(
            hostname=t.host,
            port=t.port,
            timeout=t.timeout,
            use_tls=t.security == "SSL",
            start_tls=True if t.security == "TLS" else False,
            tls_context=_tls_context(t) if t.security != "PLAIN" else None,
        )
        try:
            await client.connect()
            if t.username:
                await client.login(t.username, t.password)
        except Exception as exc:  # noqa: BLE001 - every failure is classified
            client.close()
            raise _classify(exc, t) from exc
        self.client = client

    async def send(self, envelope: Envelope) -> dict[str, str]:
        """Send one message; returns the recipients refused (others got it); raises
        SendFailed when none did."""
        if self.client is None:
            await self.open()
        assert self.client is not None
        try:
            refused, _ = await self.client.sendmail(
                envelope.mail_from, envelope.recipients, envelope.raw
            )
        except Exception as exc:  # noqa: BLE001 - every failure is classified
            failure = _classify(exc, self.transport)
            if isinstance(exc, aiosmtplib.SMTPServerDisconnected | OSError | TimeoutError):
                self.close()
            else:
                try:
                    await self.client.rset()
                except Exception:  # noqa: BLE001 - a broken session is simply dropped
                    self.close()
            raise failure from exc
        return {addr: f"{resp.code} {resp.message}" for addr, resp in refused.items()}

    def close(self) -> None:
        """Drop the connection (without QUIT when it is broken)."""
        if self.client is not None:
            self.client.close()
            self.client = None

    async def quit(self) -> None:
        """End the session politely."""
        if self.client is not None:
            try:
                await self.client.quit()
            except Exception:  # noqa: BLE001
                pass
            self.close()
