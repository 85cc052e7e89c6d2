"""One client process of bench/fanout_procs.py: holds its share of the subscribers.

    .venv/bin/python bench/fanout_worker.py   (started by fanout_procs.py, not by hand)

Talks JSON lines: the first line on stdin is its configuration
(`{"urls": [...], "tokens": [...], "query": ..., "variables": {...}, "client": "light"}`); it
raises its open files limit to the hard limit, opens one graphql-transport-ws subscriber per
token (spread over the urls: with client "light", the default, bench/fanout_client.py's
protocol-level subscribers; with "websockets", bench/fanout.py's `graphql_client`,
`connect_all` and `Fleet`), and answers `{"ready": n}`. Then, per command line:

  {"cmd": "arm"}                -> forgets the arrivals so far; {"armed": n}
  {"cmd": "collect", "within": s} -> waits (at most s seconds) until every subscriber has a
                                   message; {"received": k, "errors": e, "total": n,
                                   "first": t, "last": t} (times: time.perf_counter(), i.e.
                                   CLOCK_MONOTONIC on Linux, the same clock in every process)
  {"cmd": "close"}              -> closes its WebSockets; {"closed": n}; exits

A message counts as received only if it is a `next` frame with `data` and no `errors`; any
other message (an `error` frame, a result with errors) is counted in `errors`, not received.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import fanout  # noqa: E402
import fanout_client  # noqa: E402


def raise_nofile() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_000_000)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def is_delivery(message: str | bytes) -> bool:
    """Whether a frame is a subscription result with data and without errors."""
    try:
        frame = json.loads(message)
    except ValueError:
        return False
    payload = frame.get("payload") if isinstance(frame, dict) else None
    return (
        frame.get("type") == "next"
        and isinstance(payload, dict)
        and payload.get("data") is not None
        and not payload.get("errors")
    )


def tally(fleet: Any) -> dict[str, Any]:
    """Received deliveries, error frames and the first/last arrival time since the last arm."""
    times: list[float] = []
    errors = 0
    for arrivals in fleet.arrivals:
        if not arrivals:
            continue
        at, message = arrivals[0]
        if is_delivery(message):
            times.append(at)
        else:
            errors += 1
    return {
        "received": len(times),
        "errors": errors,
        "total": len(fleet.conns),
        "first": min(times) if times else None,
        "last": max(times) if times else None,
    }


def reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    config = json.loads(await reader.readline())
    limit = raise_nofile()
    if limit < len(config["tokens"]) + 64:
        raise SystemExit(f"open files limit {limit} is too low for {len(config['tokens'])}")
    urls: list[str] = config["urls"]
    fleet: Any
    if config.get("client", "light") == "light":
        fleet = fanout_client.Fleet()
        await fanout_client.connect_all(
            fleet,
            urls,
            config["tokens"],
            config["query"],
            config["variables"],
            batch=config.get("batch", 50),
        )
    else:
        makers = [
            (
                lambda url=urls[i % len(urls)], token=token: fanout.graphql_client(
                    url, token, config["query"], config["variables"]
                )
            )
            for i, token in enumerate(config["tokens"])
        ]
        fleet = fanout.Fleet()
        await fanout.connect_all(fleet, makers, batch=config.get("batch", 50))
    reply({"ready": len(fleet.conns)})
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "arm":
            fleet.clear()
            reply({"armed": len(fleet.conns)})
        elif command["cmd"] == "collect":
            await fleet.wait_all(float(command["within"]))
            reply(tally(fleet))
        elif command["cmd"] == "close":
            break
    await fleet.close()
    reply({"closed": len(fleet.conns)})


if __name__ == "__main__":
    # 5,000 WebSockets per process: Python's default GC threshold made full collections land
    # in the measured latencies (see bench/fanout.py).
    gc.set_threshold(50_000)
    common.run(main())
