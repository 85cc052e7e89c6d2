"""Parsing stored messages in a separate process (`parse_stored`), restarted when it dies."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from collections.abc import Awaitable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from deskql import models
from deskql.channels.email.parse import (
    ParsedMail,
    parse_file,
    parse_message,
)
from deskql.services.mail_inbound.store import log, raw_path, read_raw
from deskql.settings import Settings

Parsed = ParsedMail | Exception  # the parsed message, or what went wrong reading or parsing it


# Parsing is pure CPU (the email package, ~40% of the processing of a message with a 100 KB
# attachment): it runs in a separate process, off the event loop that serves SMTP, GraphQL and
# the database. Spawned, never forked: this process has threads and a running loop.
_parser: ProcessPoolExecutor | None = None


def _parser_pool() -> ProcessPoolExecutor:
    global _parser
    if _parser is None:
        _parser = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    return _parser


async def shutdown_parser() -> None:
    """End the parser process (and its multiprocessing helpers): on shutdown, so no child of
    a stopped server keeps running. A later parse starts a new one."""
    global _parser
    pool, _parser = _parser, None
    if pool is not None:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


async def parse_stored(settings: Settings, row: models.InboundMessage) -> Parsed:
    """Read and parse a stored message in the parser process; never raises."""
    global _parser
    path = str(raw_path(settings, row))
    try:
        try:
            return await asyncio.get_running_loop().run_in_executor(
                _parser_pool(), parse_file, path
            )
        except BrokenProcessPool:  # the parser process died (killed?): a new one next time
            _parser = None
            log.warning("the mail parser process died; parsing message %s here", row.id)
            return parse_message(await read_raw(settings, row))
    except Exception as exc:  # noqa: BLE001 - recorded FAILED by _settle
        return exc


async def _parse(
    settings: Settings, row: models.InboundMessage, parsing: Awaitable[Parsed] | None = None
) -> Parsed:
    return await parsing if parsing is not None else await parse_stored(settings, row)
