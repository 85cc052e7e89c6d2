"""A light graphql-transport-ws subscriber for bench/fanout_worker.py: thousands per process.

    (imported by fanout_worker.py, not run by hand)

bench/fanout.py's clients are `websockets` connections: every message wakes the reader task
of its connection, and each connection pings the server every 20 s. With 2,500 of them in a
worker, an event cost the worker about as much CPU as the server that sent it, on the same
two cores, and the last arrivals measured the clients' queue as much as the server. Here a
subscriber is an asyncio.Protocol: the opening handshake (RFC 6455 4.1, checked), then
`connection_init` with the token, `connection_ack`, `subscribe`; server frames are parsed in
`data_received`, which notes the arrival time (time.perf_counter()) and the frame's text and
wakes nobody; the JSON is judged later, at `collect` (fanout_worker.is_delivery). It answers
the server's pings (uvicorn closes a connection that does not) and sends none itself, like a
browser's WebSocket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import struct
import time
from typing import Any
from urllib.parse import urlsplit

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3
TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final frame from a client: masked, as RFC 6455 5.3 requires."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    key = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
    return head + mask + masked


def parse_frames(buffer: bytearray) -> list[tuple[bool, int, bytes]]:
    """Complete server frames (fin, opcode, payload) at the start of `buffer`, removed from
    it; an incomplete frame stays. Server frames are never masked (RFC 6455 5.1)."""
    frames = []
    pos = 0
    end = len(buffer)
    while end - pos >= 2:
        first, second = buffer[pos], buffer[pos + 1]
        if second & 0x80:
            raise ValueError("a masked frame from the server")
        size = second & 0x7F
        head = 2
        if size == 126:
            if end - pos < 4:
                break
            size = struct.unpack_from("!H", buffer, pos + 2)[0]
            head = 4
        elif size == 127:
            if end - pos < 10:
                break
            size = struct.unpack_from("!Q", buffer, pos + 2)[0]
            head = 10
        if end - pos < head + size:
            break
        payload = bytes(buffer[pos + head : pos + head + size])
        frames.append((bool(first & 0x80), first & 0x0F, payload))
        pos += head + size
    del buffer[:pos]
    return frames


class Subscriber(asyncio.Protocol):
    """One WebSocket with one `subscribe` operation; `messages` holds (arrival, text) of every
    message after `connection_ack`, `on_first` is called on the first one since `clear`."""

    def __init__(self, url: str, token: str, query: str, variables: dict[str, Any]) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.init = json.dumps({"type": "connection_init", "payload": {"token": token}}).encode()
        payload = {"query": query, "variables": variables}
        self.subscribe = json.dumps({"id": "1", "type": "subscribe", "payload": payload}).encode()
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.state = "handshake"
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.messages: list[tuple[float, str]] = []
        self.on_first: Any = None

    async def open(self, within: float) -> None:
        """Connect, shake hands, authenticate and subscribe (raises on any failure)."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(within):
            await loop.create_connection(lambda: self, self.host, self.port)
            await self.ready

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.state == "handshake":
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            self._handshake(head)
            if self.state == "failed":
                return
        try:
            frames = parse_frames(self.buffer)
        except ValueError as exc:
            self._fail(str(exc))
            return
        if not frames:
            return
        at = time.perf_counter()
        for fin, opcode, payload in frames:
            if opcode in (TEXT, CONTINUATION):
                self.fragments.append(payload)
                if fin:
                    text = b"".join(self.fragments).decode()
                    self.fragments = []
                    self._message(at, text)
            elif opcode == PING:
                self._send(PONG, payload)
            elif opcode == CLOSE:
                if self.state != "closing":
                    self._send(CLOSE, payload[:2])
                self.state = "closed"
                self._fail(f"closed by the server: {payload[:2].hex()} {payload[2:]!r}")
                assert self.transport is not None
                self.transport.close()

    def _handshake(self, head: str) -> None:
        lines = head.split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1((self.key + GUID).encode()).digest()).decode()
        if (
            not lines[0].startswith("HTTP/1.1 101")
            or headers.get("sec-websocket-accept") != expected
        ):
            self._fail(f"the handshake was refused: {lines[0]}")
            return
        if headers.get("sec-websocket-protocol") != "graphql-transport-ws":
            self._fail("the server did not accept graphql-transport-ws")
            return
        self.state = "ack"
        self._send(TEXT, self.init)

    def _message(self, at: float, text: str) -> None:
        if self.state == "ack":
            kind = json.loads(text).get("type")
            if kind != "connection_ack":
                self._fail(f"expected connection_ack, got {text[:200]}")
                return
            self.state = "open"
            self._send(TEXT, self.subscribe)
            if not self.ready.done():
                self.ready.set_result(None)
            return
        self.messages.append((at, text))
        if len(self.messages) == 1 and self.on_first is not None:
            self.on_first()

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(opcode, payload))

    def _fail(self, why: str) -> None:
        if self.state != "closed":
            self.state = "failed"
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    async def close(self) -> None:
        """Complete the operation and close the WebSocket (1000), waiting at most 5 s."""
        if self.transport is None or self.transport.is_closing():
            return
        self._send(TEXT, json.dumps({"id": "1", "type": "complete"}).encode())
        self.state = "closing"
        self._send(CLOSE, struct.pack("!H", 1000))
        try:
            async with asyncio.timeout(5):
                await self.closed
        except TimeoutError:
            self.transport.abort()


class Fleet:
    """The subscribers of one worker, with bench/fanout.py's Fleet's interface (`conns`,
    `arrivals`, `clear`, `received`, `wait_all`, `close`), counting first arrivals as they come."""

    def __init__(self) -> None:
        self.conns: list[Subscriber] = []
        self.count = 0
        self.all_in = asyncio.Event()

    @property
    def arrivals(self) -> list[list[tuple[float, str]]]:
        return [s.messages for s in self.conns]

    def _first(self) -> None:
        self.count += 1
        if self.count >= len(self.conns):
            self.all_in.set()  # one wake-up per event, not one per message

    def add(self, sub: Subscriber) -> None:
        sub.on_first = self._first
        self.conns.append(sub)

    def clear(self) -> None:
        for sub in self.conns:
            sub.messages = []
        self.count = 0
        self.all_in.clear()

    def received(self) -> int:
        return self.count

    async def wait_all(self, within: float) -> None:
        if self.count >= len(self.conns):
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_in.wait(), within)

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.conns), return_exceptions=True)


async def connect_all(
    fleet: Fleet,
    urls: list[str],
    tokens: list[str],
    query: str,
    variables: dict[str, Any],
    *,
    batch: int = 50,
    within: float = 120.0,
) -> None:
    """One subscriber per token, spread round-robin over `urls`, `batch` opening at a time."""
    for start in range(0, len(tokens), batch):
        subs = [
            Subscriber(urls[i % len(urls)], tokens[i], query, variables)
            for i in range(start, min(start + batch, len(tokens)))
        ]
        await asyncio.gather(*(s.open(within) for s in subs))
        for sub in subs:
            fleet.add(sub)
