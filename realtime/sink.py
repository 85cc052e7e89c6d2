"""Where a subscription operation's frames go, and the group's result sent straight there.

`Sink` (set per operation by the protocol handlers in serving/view.py, in SINK) knows the
operation's WebSocket, id and message type; `fan_out` lets the first subscriber of a group
execute an event (realtime/shared.py) and sends the others that result's pre-encoded JSON
through their sink, with their own values filled in for personal events
(realtime/personal.py). realtime/direct.py goes one step further for idle subscribers.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import aclosing
from contextvars import ContextVar
from typing import Any

import orjson

from deskql.realtime.personal import Mismatch, _personal_plan, personalise
from deskql.realtime.shared import EncodedData, SharedEvent, event_key, group_prefix, results


class Sink:
    """Where one subscription operation's frames go: its WebSocket, id and message type."""

    __slots__ = ("head", "protocol", "websocket")

    def __init__(self, websocket: Any, operation_id: str, message_type: str) -> None:
        self.websocket = websocket
        # The keys in the order strawberry's handlers write them, so that a result sent here
        # is byte for byte the frame strawberry sends for the member that executed it:
        # graphql-transport-ws {"id", "type": "next"}, legacy graphql-ws {"type": "data", "id"}.
        fields = (
            {"type": message_type, "id": operation_id}
            if message_type == "data"
            else {"id": operation_id, "type": message_type}
        )
        head = orjson.dumps(fields)
        self.head = head[:-1] + b',"payload":{"data":'
        self.protocol = uvicorn_protocol(websocket)

    async def send(self, data_json: bytes) -> None:
        """Send a pre-encoded `data` as this operation's next result (a text frame)."""
        await self.websocket.send_text((self.head + data_json + b"}}").decode())

    def frame(self, data_json: bytes, frames: dict[tuple[bytes, bytes], bytes]) -> bytes:
        """The WebSocket frame `send` would write for `data_json`, from `frames` if there (a
        cache the caller keeps for one event: one frame per operation id and message type)."""
        key = (self.head, data_json)
        frame = frames.get(key)
        if frame is None:
            frame = frames[key] = text_frame(self.head + data_json + b"}}")
        return frame

    def write_now(self, frame: bytes) -> bool:
        """Write a frame made by `frame` to the connection at once, if uvicorn's connection
        is one this knows and is open, writable, without a compression extension and between
        messages; False (nothing written): send it with `send` instead."""
        protocol = self.protocol
        if protocol is None or not _writable(protocol):
            return False
        protocol.transport.write(frame)
        return True


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked WebSocket text frame (as a server sends it, RFC 6455 5.2)."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


try:
    from websockets.protocol import OPEN as _OPEN
except ImportError:  # pragma: no cover - uvicorn[standard] installs websockets
    _OPEN = None

# What `_writable` reads of uvicorn's sans-I/O protocol (0.55) and of its websockets
# ServerProtocol (17): with any missing, `uvicorn_protocol` answers None (frames go by `send`).
_PROTOCOL_ATTRS = (
    "conn",
    "transport",
    "writable",
    "handshake_complete",
    "close_sent",
    "disconnected",
    "initial_response",
)
_CONN_ATTRS = ("state", "extensions", "expect_continuation_frame", "writes", "side")


def uvicorn_protocol(websocket: Any) -> Any | None:
    """The uvicorn connection under a Starlette WebSocket (its ASGI `receive` is the
    protocol's own method), if it is uvicorn's sans-I/O websockets protocol as this module
    knows it; None otherwise (another server, another implementation, a wrapped receive)."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
        from websockets.protocol import SERVER
    except ImportError:  # pragma: no cover - uvicorn[standard] is a dependency
        return None
    protocol = getattr(getattr(websocket, "_receive", None), "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    if not all(hasattr(protocol, name) for name in _PROTOCOL_ATTRS):
        return None
    conn = protocol.conn
    if not all(hasattr(conn, name) for name in _CONN_ATTRS) or conn.side is not SERVER:
        return None
    return protocol


def _writable(protocol: Any) -> bool:
    # Every condition under which uvicorn's own `send` would write a text frame at once with
    # nothing before it: accepted, not closing, not paused (a paused transport makes `send`
    # wait, and frames must keep their order), no permessage-deflate (a frame would be
    # compressed per connection), no fragmented message in progress, nothing unflushed.
    conn = protocol.conn
    return (
        protocol.handshake_complete
        and not protocol.close_sent
        and not protocol.disconnected
        and protocol.initial_response is None
        and protocol.writable.is_set()
        and not protocol.transport.is_closing()
        and conn.state is _OPEN
        and not conn.extensions
        and not conn.expect_continuation_frame
        and not conn.writes
    )


# Set by the WebSocket protocol handlers (server.py) in each operation's task.
SINK: ContextVar[Sink | None] = ContextVar("deskql_subscription_sink", default=None)


async def fan_out(
    info: Any, events: AsyncIterator[SharedEvent], *, personal: bool = False
) -> AsyncIterator[SharedEvent]:
    """The events this subscriber must run through GraphQL itself; the rest are sent as is.

    The first subscriber of a group to reach an event yields it (and executes it for the
    group); the others wait for that result and send its pre-encoded JSON straight to their
    WebSocket, skipping GraphQL execution, strawberry's per-result machinery and encoding.
    With `personal`, each member's own values are filled into a copy first (`personalise`),
    and a document without a plan is executed by every member. After a result with errors,
    or when the claimer left first, the event is yielded as usual.
    """
    async with aclosing(events), aclosing(_fan_out(info, events, personal)) as shared_events:
        async for event in shared_events:
            yield event


async def _fan_out(
    info: Any, events: AsyncIterator[SharedEvent], personal: bool
) -> AsyncIterator[SharedEvent]:
    sink = SINK.get()
    raw = info._raw_info
    prefix = plan = None
    if sink is not None:
        prefix = group_prefix(raw.schema, raw.operation, raw.fragments, raw.variable_values)
        if personal:
            plan = _personal_plan(raw.schema, raw.operation, raw.fragments)
            if plan is None:
                prefix = None  # each member executes its own event
    async for event in events:
        if prefix is None:
            yield event
            continue
        key = event_key(prefix, event)
        entry, first = results.claim(key)
        event = SharedEvent(
            make=event.make, key=event.key, actor=event.actor, group=key, personal=personal
        )
        if first:
            try:
                yield event
            finally:
                entry.abandon()
            continue
        try:
            result = await asyncio.shield(entry.future)
        except Exception:  # noqa: BLE001 - abandoned or failed: execute it here instead
            result = None
        if result is None or result.errors or not isinstance(result.data, EncodedData):
            yield event
            continue
        encoded = result.data.json
        if plan is not None:
            try:
                encoded = orjson.dumps(personalise(result.data, event.make(), plan))
            except Mismatch:
                yield event
                continue
        results.direct += 1
        try:
            await sink.send(encoded)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - the WebSocket is gone: the stream is over
            return
