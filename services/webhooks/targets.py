"""Where a webhook may point: http(s) URLs whose every resolved address is public.

Checked when a webhook is created or changed, and again before every attempt (DNS may change
between the two: a name that resolved to a public address may later resolve to 127.0.0.1).
The attempt then connects to the very address that was checked (`Target.connect_url`), so a
second lookup by the HTTP client cannot pick another one. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

URL_MAX = 2000


class TargetRefused(Exception):
    """The URL is not one a webhook may call; `private` tells the kind of refusal."""

    def __init__(self, message: str, *, private: bool = False) -> None:
        super().__init__(message)
        self.private = private


@dataclass(frozen=True)
class Target:
    """A checked URL: the host name for the Host header and TLS, the address to connect to."""

    url: str
    host: str
    address: str
    connect_url: str


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL; TargetRefused otherwise (no network)."""
    url = (url or "").strip()
    if not url:
        raise TargetRefused("a URL is required")
    if len(url) > URL_MAX:
        raise TargetRefused(f"the URL is longer than {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https URLs are allowed, not {scheme or 'none'!r}")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed; use the signing secret")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def is_public(address: str) -> bool:
    """Whether an IP address is a public unicast one (not private, loopback, link-local,
    multicast, reserved, unspecified, shared, documentation, nor an IPv6 form of those)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not ip.is_multicast


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Check a URL and resolve its host; refuses when any address it resolves to is not
    public (unless `allow_private`): an attacker's name with one public and one private
    address must not reach the private one."""
    scheme, host, port = parse(url)
    try:
        addresses = [str(ipaddress.ip_address(host))]  # a literal address: no lookup
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise TargetRefused(f"the host {host!r} does not resolve: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused(f"the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused(
                    f"{host} resolves to {address}, a private, loopback or link-local "
                    "address; webhooks may only call public addresses",
                    private=True,
                )
    address = addresses[0]
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    parts = urlsplit(url.strip())
    connect_url = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(url=url.strip(), host=host, address=address, connect_url=connect_url)


def host_header(url: str) -> str:
    """The Host header of a URL (its host, and its port when not the scheme's default)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme.lower() == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def shown_url(url: str) -> str:
    """A URL as the history (Activity rows) shows it: without its query, where integrators
    put tokens, since Activity rows without a department may be read by every agent."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "…" if parts.query else "", ""))
