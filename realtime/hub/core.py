"""The Hub: its parts joined (realtime/hub/base.py's state, channels, internal channels,
reconnect), and starting and stopping it."""

from __future__ import annotations

import asyncio
import contextlib

from deskql.realtime.hub.channels import Channels
from deskql.realtime.hub.internal import InternalChannels
from deskql.realtime.hub.reconnect import Reconnect


class Hub(Channels, InternalChannels, Reconnect):
    """One per process: the only place that talks to the broadcast backend."""

    async def start(self) -> None:
        """Connect the backend and start watching it."""
        self._stopping = False
        await self._connect_with_backoff(first=True)
        self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        """Release every backend subscription and disconnect."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
        await self._stop_pumps()
        for subs in list(self._locals.values()):
            for sub in list(subs):
                sub.drop()
        self._locals.clear()
        self._prepare.clear()
        self._internal.clear()
        self._reconnected.clear()
        await self._disconnect_bus()
