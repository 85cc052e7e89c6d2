"""The hub's internal channels: the process's own messages (e.g. the token cache's
invalidations, services/auth_cache.py), a callback per channel held for the hub's whole life
and never counted as a subscription; `on_reconnect` tells them messages may have been lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from deskql.realtime import envelopes
from deskql.realtime.bus import Bus
from deskql.realtime.hub.base import HubBase

log = logging.getLogger("deskql.hub")


class InternalChannels(HubBase):
    """Part of Hub (realtime/hub/core.py): `listen` and `on_reconnect`."""

    async def listen(self, channel: str, callback: Callable[[dict[str, Any]], None]) -> None:
        """Hand every message of an internal channel to `callback` (synchronous, quick) until
        the hub stops; kept across reconnections, not a subscription (not counted)."""
        self._internal[channel] = callback
        if self.connected and channel not in self._internal_pumps:
            ready = asyncio.Event()
            self._internal_pumps[channel] = asyncio.create_task(
                self._listen_pump(self.bus, channel, ready)
            )
            await asyncio.wait_for(ready.wait(), 5.0)

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the hub is connected again after a failure (whatever was
        published meanwhile was lost), before the subscribers are told to RESYNC."""
        self._reconnected.append(callback)

    async def _listen_pump(self, bus: Bus, channel: str, ready: asyncio.Event) -> None:
        try:
            async with bus.broadcast.subscribe(channel) as subscriber:
                ready.set()
                async for event in subscriber:  # type: ignore[union-attr]
                    message = envelopes.decode(event.message)
                    callback = self._internal.get(channel)
                    if message is None or callback is None:
                        continue
                    try:
                        callback(message)
                    except Exception:  # noqa: BLE001 - one bad message must not stop the channel
                        log.exception("the listener of %s failed", channel)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.warning("backend subscription to %s failed", channel)
            self._bus_failed(bus)
