"""Call-event intake benchmark (ACT-2): DeskQL's `POST /telephony/events` beside a bare
Starlette POST endpoint (the floor: HTTP and a body read, nothing else), in one run.

    .venv/bin/python bench/telephony.py [--database-url postgres://.../NAME --reset]
                                        [--calls 500] [--senders 16]

The load: `--calls` calls of 4 signed events each (ringing, answered, ended, and one of them
sent twice); a fifth of the calls arrive out of order (ended first); call ids and numbers are
distinct, a fifth of the numbers belong to seeded contacts (written as people type them), the
others are unknown callers that become contacts. Events are interleaved so one call's events
go to different senders. `--senders` keep-alive connections post them as fast as answers
come, from a separate process (raw HTTP/1.1 over asyncio streams with bench/loadgen's response
reader; each event is signed, HMAC of timestamp and body, just before the run starts). Order:
floor, DeskQL, floor; the floor's figure is the mean of its two runs. Then the database must
hold exactly `--calls` calls, every one ENDED and COMPLETED.
Servers: uvicorn (uvloop, httptools), one process each, on ports 8240-8259.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

SECRET = "bench-telephony-secret"
PORTS = iter(range(8241, 8260))


def bare_app() -> Any:
    """(a) the floor: reads the body, answers a fixed JSON document."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    payload = b'{"call":"Q2FsbDox","created":false,"duplicate":false}'

    async def events(request: Request) -> Response:
        await request.body()
        return Response(payload, media_type="application/json")

    return Starlette(routes=[Route("/telephony/events", events, methods=["POST"])])


def number(i: int) -> str:
    """The i-th caller's number (E.164, US 415 area, distinct for i < 10,000)."""
    return f"+1415{5550000 + i:07d}"


def events_for(calls: int, seed: int = 7) -> list[dict[str, Any]]:
    """The event load: 4 per call, one duplicated, a fifth out of order, interleaved."""
    rng = random.Random(seed)
    per_call: list[list[dict[str, Any]]] = []
    for i in range(calls):
        call_id = f"bench-{i}"
        base = {"callId": call_id, "from": number(i), "direction": "inbound"}
        evs = [
            {**base, "type": "ringing", "eventId": f"{call_id}:r"},
            {**base, "type": "answered", "eventId": f"{call_id}:a"},
            {**base, "type": "ended", "eventId": f"{call_id}:e", "durationSeconds": 30 + i % 300},
        ]
        evs.append(dict(rng.choice(evs)))  # a re-delivery
        if i % 5 == 0:
            evs = [evs[2], *evs[:2], evs[3]]  # ended before ringing
        per_call.append(evs)
    # Round-robin over calls: a call's 4 events are far apart in the stream.
    return [per_call[c][k] for k in range(4) for c in range(calls)]


# --- the client process ----------------------------------------------------------------------


async def _send_all(port: int, events: list[dict[str, Any]], senders: int) -> dict[str, Any]:
    """Post every event over `senders` keep-alive connections (raw HTTP/1.1, bench/loadgen's
    reader): requests are signed and built up front, so the client costs little per event."""
    import orjson
    from loadgen import _read_response

    from deskql.channels.telephony.signature import headers

    requests: list[bytes] = []
    for event in events:
        body = orjson.dumps(event)
        head = {
            "Host": f"127.0.0.1:{port}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            **headers(SECRET, body),
        }
        lines = "".join(f"{k}: {v}\r\n" for k, v in head.items())
        requests.append(f"POST /telephony/events HTTP/1.1\r\n{lines}\r\n".encode() + body)
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    async def sender() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                request = queue.get_nowait()
                start = time.perf_counter()
                writer.write(request)
                status, _ = await _read_response(reader)
                latencies.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*[sender() for _ in range(senders)])
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "sent": len(events),
        "statuses": statuses,
        "elapsed": elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def client_main(port: int, calls: int, senders: int) -> None:
    """Send the load to a server; print a JSON summary."""
    out = asyncio.run(_send_all(port, events_for(calls), senders))
    print(json.dumps(out))


def run_client(port: int, calls: int, senders: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            str(port),
            "--calls",
            str(calls),
            "--senders",
            str(senders),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the benchmark -----------------------------------------------------------------------------


async def seed(settings: Any, calls: int, reset: bool) -> None:
    from deskql import db, models
    from deskql.services import organisation

    if not settings.is_embedded_db and reset:
        await db.recreate_postgres_database(settings.database_url)
    await db.init_db(settings, migrate=True)
    await organisation.ensure_organisation(settings)
    await organisation.create_department(None, name="Support")
    # A fifth of the callers are known, their numbers written as people type them.
    await models.Contact.bulk_create(
        [
            models.Contact(
                last_name=f"Known {i}",
                phone=f"(415) 555-{i:04d}",
            )
            for i in range(0, calls, 5)
        ]
    )
    await db.close_db()


async def verify(settings: Any, calls: int) -> dict[str, int]:
    from deskql import db, models

    await db.init_db(settings)
    try:
        return {
            "calls": await models.Call.filter(provider_call_id__startswith="bench-").count(),
            "ended": await models.Call.filter(
                provider_call_id__startswith="bench-", status="ENDED", outcome="COMPLETED"
            ).count(),
            "matched_known": await models.Call.filter(
                contact__last_name__startswith="Known "
            ).count(),
            "activities": await models.Activity.filter(subject_type="Call").count(),
        }
    finally:
        await db.close_db()


def main() -> None:
    from common import Server

    from deskql.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="DROP and recreate the database")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--senders", type=int, default=16)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-tel-"))
    settings = Settings.from_env(var_dir=tmp, database_url=args.database_url)
    asyncio.run(seed(settings, args.calls, args.reset))
    env = {
        "DESKQL_VAR_DIR": str(tmp),
        "DESKQL_DATABASE_URL": args.database_url,
        "DESKQL_TELEPHONY_SECRET": SECRET,
        "DESKQL_SMTP_ENABLED": "false",
        "DESKQL_AUTO_MIGRATE": "false",
    }
    deskql = Server("deskql", "deskql.server:create_app", env, tmp, port=next(PORTS))
    floor = Server("floor", "telephony:bare_app", {}, tmp, app_dir=BENCH, port=next(PORTS))
    results: dict[str, list[dict[str, Any]]] = {"floor": [], "deskql": []}
    try:
        floor.start()
        deskql.start()
        for name, server in (("floor", floor), ("deskql", deskql), ("floor", floor)):
            out = run_client(server.port, args.calls, args.senders)
            out["rate"] = out["sent"] / out["elapsed"]
            results[name].append(out)
            print(
                f"{name:7s} {out['rate']:8.0f} events/s  p50 {out['p50_ms']:6.1f} ms  "
                f"p99 {out['p99_ms']:7.1f} ms  statuses {out['statuses']}"
            )
    finally:
        deskql.stop()
        floor.stop()
    counts = asyncio.run(verify(settings, args.calls))
    shutil.rmtree(tmp, ignore_errors=True)
    floor_rate = sum(r["rate"] for r in results["floor"]) / len(results["floor"])
    ours = results["deskql"][0]
    print(
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; "
        f"{ours['sent']} events, {args.senders} senders"
    )
    print(
        f"DeskQL {ours['rate']:.0f} events/s vs floor {floor_rate:.0f} events/s: "
        f"ratio {ours['rate'] / floor_rate:.3f} (DeskQL / floor)"
    )
    print(
        f"calls logged: {counts['calls']} (want exactly {args.calls}); ended and completed: "
        f"{counts['ended']}; on known contacts: {counts['matched_known']}; call activities: "
        f"{counts['activities']}"
    )
    ok = ours["statuses"] == {"200": ours["sent"]} and counts["calls"] == args.calls
    ok = ok and counts["ended"] == args.calls
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        p = argparse.ArgumentParser()
        p.add_argument("--client", type=int)
        p.add_argument("--calls", type=int)
        p.add_argument("--senders", type=int)
        a = p.parse_args()
        client_main(a.client, a.calls, a.senders)
    else:
        main()
