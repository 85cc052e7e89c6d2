"""The background worker pattern shared by the outboxes (outgoing email, reminders): a loop
in the server's event loop that claims due rows from the database (so any number of processes
may run it), runs until nothing is due, then sleeps until woken, until the next row is due or
until its interval passes. A failed pass is logged and the loop goes on."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("deskql.worker")


class PollingWorker:
    """Subclasses implement `run_once` (claim and handle due rows; how many) and may override
    `on_start`, `on_idle` (each quiet interval) and `next_due` (seconds until the next row)."""

    name = "worker"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Handle the rows due now; return how many (0 ends the pass)."""
        raise NotImplementedError

    async def on_start(self) -> None:
        """Called once before the first pass."""

    async def on_idle(self) -> None:
        """Called when an interval passed without a wake-up."""

    async def next_due(self) -> float | None:
        """Seconds until the next row is due (None: unknown, wait the interval)."""
        return None

    def start(self) -> None:
        """Start the loop in the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop the loop; a row being handled finishes or is recovered later."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def wake(self) -> None:
        """Look for due rows now."""
        self._event.set()

    async def _wait(self) -> float:
        wait = self.interval
        try:
            due = await self.next_due()
        except Exception:  # noqa: BLE001 - an estimate only; the interval still applies
            due = None
        if due is not None:
            wait = max(0.0, min(wait, due))
        return wait

    async def _loop(self) -> None:
        await self.on_start()
        while True:
            try:
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("%s pass failed", self.name)
            wait = await self._wait()
            try:
                await asyncio.wait_for(self._event.wait(), wait)
            except TimeoutError:
                await self.on_idle()
            self._event.clear()
