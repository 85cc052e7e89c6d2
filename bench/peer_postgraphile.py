"""Peer benchmark: DeskQL beside PostGraphile v4 on the same PostgreSQL data, in one run.

    .venv/bin/python bench/peer_postgraphile.py --reset [--tickets 5000]
        [--database-url postgres://postgres@127.0.0.1:5432/deskql_bench_peer]
        [--concurrency 8] [--rounds 5] [--duration 10] [--actor agent|admin]

1. Installs PostGraphile with `npm ci` into bench/peer/ (versions pinned by the committed
   package-lock.json) unless it is there already.
2. Creates the schema with DeskQL's own migrations (`db.init_db(migrate=True)`), an
   organisation, two departments, agents and teams through the services, then `--tickets`
   tickets and half as many contacts with `generate_series` SQL (the seed is not measured).
   `--reset` DROPS and recreates the database first; without it an empty database is seeded
   and one this script seeded before with the same `--tickets` is reused.
3. Starts DeskQL (`deskql.server:create_app` under uvicorn, one worker) and PostGraphile (one
   Node process, `--disable-query-log`, no watch, default mutations off) on that database.
4. Checks both answer the same page (50 tickets by number, newest first, spam left out: nine
   scalar fields, the contact's name and the assignee's name, fields mapped between the two
   schemas) and stops with the difference if they do not.
5. Drives both with bench/loadgen.py at the same concurrency, in alternating rounds, first
   `{ __typename }`, then the page, and prints req/s, p50/p99 and the server process's CPU per
   request (medians over rounds). The last line is
   `ratio deskql/postgraphile: <throughput ratio> (p99 <ms> vs <ms>)`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import httpx  # noqa: E402
from peer_data import (  # noqa: E402
    DESKQL_QUERY,
    PEER_QUERY,
    TYPENAME_QUERY,
    check_same,
    seed,
)

PEER_DIR = BENCH / "peer"
POSTGRAPHILE = PEER_DIR / "node_modules" / ".bin" / "postgraphile"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/deskql_bench_peer"


def install_postgraphile() -> None:
    """`npm ci` in bench/peer/ unless PostGraphile is installed; stop if npm cannot."""
    if POSTGRAPHILE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("blocked: npm is not installed (PostGraphile needs Node 18+ and npm)")
    print("installing PostGraphile into bench/peer/ with npm ci ...")
    out = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0 or not POSTGRAPHILE.exists():
        raise SystemExit(
            "blocked: `npm ci` in bench/peer/ failed (is the npm registry reachable?):\n"
            + (out.stderr or out.stdout)[-2000:]
        )


# Servers -----------------------------------------------------------------------------------------


@dataclass
class PostGraphile(common.Server):
    """PostGraphile v4's CLI as one Node process (measured like a uvicorn server)."""

    database_url: str = ""

    def start(self, timeout: float = 120.0) -> None:
        """Start `postgraphile` and wait until it accepts connections (after introspection)."""
        cmd = [
            str(POSTGRAPHILE),
            "--connection", self.database_url,
            "--schema", "public",
            "--host", common.HOST,
            "--port", str(self.port),
            "--append-plugins", "@graphile-contrib/pg-simplify-inflector",
            "--disable-query-log",
            "--disable-graphiql",
            "--disable-default-mutations",
        ]  # fmt: skip
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=PEER_DIR, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if post(self, json.dumps({"query": TYPENAME_QUERY}), {}).startswith(b'{"data"'):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start in {timeout}s")


def backend_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to the database (but this
    one), read from /proc: the server must run on this machine ({} otherwise)."""
    import asyncpg

    async def pids() -> list[int]:
        conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [r["pid"] for r in rows]
        finally:
            await conn.close()

    used: dict[int, float] = {}
    for pid in asyncio.run(pids()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def post(server: common.Server, body: str, headers: dict[str, str]) -> bytes:
    """One request, to check a server's answer."""
    resp = httpx.post(
        f"http://{common.HOST}:{server.port}/graphql",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    )
    resp.raise_for_status()
    return resp.content


# Main --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--reset", action="store_true", help="DROP and recreate the database first")
    p.add_argument("--tickets", type=int, default=5000, help="tickets to seed (default 5000)")
    p.add_argument("--page", type=int, default=50, help="tickets per response (default 50)")
    p.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per server (default 5)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per round (default 10)")
    p.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (default 3)")
    p.add_argument("--max-requests", type=int, default=1_000_000, help="cap per round")
    p.add_argument(
        "--actor",
        choices=("agent", "admin"),
        default="agent",
        help="DeskQL's token: an agent of every department (default) or an administrator",
    )
    p.add_argument("--skip-typename", action="store_true", help="only measure the ticket page")
    args = p.parse_args(argv)
    if not 1 <= args.page <= 100 or args.page * 2 > args.tickets:
        p.error("--page must be 1 to 100 and --tickets at least twice --page")
    return args


def measure_pair(
    args: argparse.Namespace,
    label: str,
    pair: list[tuple[common.Server, str, dict[str, str]]],
) -> dict[str, dict[str, float]]:
    """Alternating rounds on both servers; prints and returns the medians."""
    lengths = {s.name: len(post(s, body, headers)) for s, body, headers in pair}

    def one_round(
        server: common.Server, body: str, headers: dict[str, str], seconds: float
    ) -> dict[str, Any]:
        before = backend_cpu(args.database_url)
        result = common.load(
            server,
            body=body,
            headers=headers,
            concurrency=args.concurrency,
            duration=seconds,
            max_requests=args.max_requests,
            expected_length=lengths[server.name],
        )
        after = backend_cpu(args.database_url)
        # Only the server under load uses the database during its round (the other is idle).
        used = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
        result["db_cpu_ms"] = used * 1000 / result["requests"] if after else float("nan")
        return result

    for server, body, headers in pair:
        one_round(server, body, headers, args.warmup)
    rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s, _, _ in pair}
    for r in range(args.rounds):
        order = pair if r % 2 == 0 else list(reversed(pair))
        for server, body, headers in order:
            rounds[server.name].append(one_round(server, body, headers, args.duration))
        print(
            f"  {label} round {r + 1}: "
            + "   ".join(f"{s.name} {rounds[s.name][-1]['rps']:7.0f}/s" for s, _, _ in pair)
        )
    med = {
        name: {
            k: common.median_of(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms", "db_cpu_ms")
        }
        for name, rs in rounds.items()
    }
    print(
        f"  {'':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} "
        f"{'DB CPU ms/req':>14}"
    )
    for name, m in med.items():
        print(
            f"  {name:14} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} "
            f"{m['cpu_ms']:11.3f} {m['db_cpu_ms']:14.3f}"
        )
    return med


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    install_postgraphile()
    # SIGTERM ends the run like Ctrl-C does: through the `finally` that stops both servers.
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-peer-"))
    servers: list[common.Server] = []
    try:
        print(f"database {args.database_url}, {args.tickets} tickets")
        token = asyncio.run(seed(args.database_url, tmp, args.tickets, args.reset, args.actor))
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": args.database_url,
            "DESKQL_SMTP_ENABLED": "false",
        }
        deskql = common.Server("deskql", "deskql.server:create_app", env, tmp)
        peer = PostGraphile("postgraphile", "", {}, tmp, database_url=args.database_url)
        for server in (deskql, peer):
            servers.append(server)
            server.start()
        auth = {"Authorization": f"Bearer {token}"}
        ours_body = json.dumps({"query": DESKQL_QUERY % args.page})
        peer_body = json.dumps({"query": PEER_QUERY % args.page})
        rows = check_same(post(deskql, ours_body, auth), post(peer, peer_body, {}), args.page)
        print(
            f"same {args.page} tickets from both (numbers {rows[0]['number']}..{rows[-1]['number']}"
            f", first: {rows[0]})"
        )
        typename = json.dumps({"query": TYPENAME_QUERY})
        for server, headers in ((deskql, auth), (peer, {})):
            if json.loads(post(server, typename, headers)) != {"data": {"__typename": "Query"}}:
                raise SystemExit(f"{server.name} answers {{ __typename }} otherwise")
        print(
            f"{args.concurrency} connections, medians of {args.rounds} alternating rounds x "
            f"{args.duration:g} s (after {args.warmup:g} s of warm-up each); CPU: the server "
            "process's, and DB CPU: the PostgreSQL backends' on this database, per request"
        )
        tn = None
        if not args.skip_typename:
            print("{ __typename }:")
            tn = measure_pair(args, "typename", [(deskql, typename, auth), (peer, typename, {})])
        print(f"a page of {args.page} tickets:")
        pg = measure_pair(args, "page", [(deskql, ours_body, auth), (peer, peer_body, {})])
        print(f"total time {time.monotonic() - began:.0f} s")
        if tn is not None:
            print(cpu_line(" { __typename }", tn))
        print(cpu_line("", pg))
        if tn is not None:
            print(ratio_line(" { __typename }", tn))
        print(ratio_line("", pg))
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def cpu_line(what: str, med: dict[str, dict[str, float]]) -> str:
    """PostGraphile's CPU per request (server + database) as a share of DeskQL's: the steadier
    comparison when other work shares the machine (it moves much less than req/s)."""
    a, b = med["deskql"], med["postgraphile"]
    a_all, b_all = a["cpu_ms"] + a["db_cpu_ms"], b["cpu_ms"] + b["db_cpu_ms"]
    return (
        f"cpu per request postgraphile/deskql{what}: server {b['cpu_ms'] / a['cpu_ms']:.2f}, "
        f"server + database {b_all / a_all:.2f} ({b_all:.2f} ms vs {a_all:.2f} ms)"
    )


def ratio_line(what: str, med: dict[str, dict[str, float]]) -> str:
    """`ratio deskql/postgraphile<what>: <throughput ratio> (p99 <ms> vs <ms>)`."""
    a, b = med["deskql"], med["postgraphile"]
    return (
        f"ratio deskql/postgraphile{what}: {a['rps'] / b['rps']:.2f} "
        f"(p99 {a['p99_ms']:.1f} ms vs {b['p99_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: both servers stopped")
