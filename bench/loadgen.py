"""A small HTTP/1.1 load generator, run as its own process by bench/ticket_list.py.

It keeps `concurrency` keep-alive connections to one server on 127.0.0.1 and sends the same
request on each (a POST of `body`, or `method` GET to `path`), back to back, until `duration`
seconds have passed or `max_requests` were sent. Every response must have the expected status
(`expected_status`, 200 by default) and a body of the expected length; anything else is
counted as an error. Prints one JSON line: requests, errors, elapsed seconds, and latencies in ms.

Usage: python bench/loadgen.py '<json config>'
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

REQUEST_TIMEOUT = 10.0


def _loopback(host: str) -> str:
    # This tool only ever sends traffic to a server on this machine.
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"loadgen only targets the loopback interface, not {host!r}")
    return host


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise RuntimeError("response without Content-Length")
    body = await reader.readexactly(length)
    return status, body


async def _worker(
    cfg: dict[str, Any],
    request: bytes,
    deadline: float,
    budget: list[int],
    latencies: list[float],
    errors: list[str],
) -> None:
    reader, writer = await asyncio.open_connection(cfg["host"], cfg["port"])
    expected_len = cfg.get("expected_length")
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            start = time.perf_counter()
            writer.write(request)
            status, body = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
            latencies.append(time.perf_counter() - start)
            if status != cfg.get("expected_status", 200):
                errors.append(f"status {status}: {body[:200]!r}")
            elif expected_len is not None and len(body) != expected_len:
                errors.append(f"body of {len(body)} bytes, expected {expected_len}")
    finally:
        writer.close()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def run(cfg: dict[str, Any]) -> dict[str, Any]:
    """Drive the server for one round; returns counts and latency percentiles."""
    _loopback(cfg["host"])
    body = cfg["body"].encode()
    method = cfg.get("method", "POST")
    headers = {"Host": f"{cfg['host']}:{cfg['port']}"}
    if method == "POST":
        headers.update({"Content-Type": "application/json", "Content-Length": str(len(body))})
    else:
        body = b""
    headers.update(cfg.get("headers", {}))
    head = "{} {} HTTP/1.1\r\n{}\r\n\r\n".format(
        method, cfg["path"], "\r\n".join(f"{k}: {v}" for k, v in headers.items())
    )
    request = head.encode() + body
    latencies: list[float] = []
    errors: list[str] = []
    budget = [int(cfg["max_requests"])]
    start = time.perf_counter()
    deadline = start + float(cfg["duration"])
    await asyncio.gather(
        *(
            _worker(cfg, request, deadline, budget, latencies, errors)
            for _ in range(int(cfg["concurrency"]))
        )
    )
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "elapsed": elapsed,
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": _percentile(ordered, 0.50) * 1000,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
    }


def main() -> None:
    cfg = json.loads(sys.argv[1])
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        pass
    print(json.dumps(asyncio.run(run(cfg))))


if __name__ == "__main__":
    main()
