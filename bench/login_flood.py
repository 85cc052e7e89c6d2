"""Login flood (issue 17, point 2): 200 wrong-password sign-ins from 20 concurrent clients
against a real `deskql serve`, with the throttle and the bounded hashing, beside the same
server configured as before them, in one run.

    .venv/bin/python bench/login_flood.py [--attempts 200] [--concurrency 20] [--port 8110]

Two `deskql serve --demo` processes (SQLite each, SMTP off, argon2 at its default cost: 64 MiB,
t=3), on --port and --port+1:
  (0) DeskQL as it ships: sign-in throttled (5 free failures per email, then a block that
      doubles, here at most 4 s so the run stays short) and at most 2 password hashes at once;
  (r) the reference, as before the change: no throttle (free failures set beyond reach) and
      hashing bounded only by the default thread pool (min(32, CPUs + 4) threads).
Each gets the same flood on the demo administrator's email, one server at a time. Printed per
server: the answers by code, the flood's duration, the password hashes computed (answers that
were checked), the process's peak memory (VmHWM) and its growth over the resident size before
the flood; then, on (0), how long after the flood the administrator signs in with the right
password (waiting for the block the flood left to pass).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EMAIL, PASSWORD = "admin@zylker.com", "deskql-demo"
LOGIN = (
    "mutation($i: LoginInput!) { login(input: $i) { token retryAfterSeconds "
    "errors { code message } } }"
)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            out[key] = int(value.split()[0])
    return out


def start(name: str, port: int, env_extra: dict[str, str], base: Path) -> subprocess.Popen:
    var = base / name
    var.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKQL_")}
    env.update(DESKQL_VAR_DIR=str(var), DESKQL_SMTP_ENABLED="false", **env_extra)
    log = (base / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "deskql.cli", "serve", "--demo", "--host", "127.0.0.1", "--port",
         str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip


async def wait_up(port: int, proc: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(900):
            if proc.poll() is not None:
                raise SystemExit(f"server on {port} exited with {proc.returncode}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"server on {port} did not start")


async def login(client: httpx.AsyncClient, url: str, password: str) -> dict:
    body = {"query": LOGIN, "variables": {"i": {"email": EMAIL, "password": password}}}
    resp = await client.post(url, json=body, timeout=300)
    return resp.json()["data"]["login"]


async def flood(port: int, pid: int, attempts: int, concurrency: int) -> dict:
    url = f"http://127.0.0.1:{port}/graphql"
    before = memory_kib(pid)
    codes: Counter[str] = Counter()
    retry: list[int] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(attempts):
        queue.put_nowait(i)

    async def client_loop() -> None:
        async with httpx.AsyncClient() as client:
            while not queue.empty():
                i = queue.get_nowait()
                answer = await login(client, url, f"wrong password {i}")
                code = answer["errors"][0]["code"] if answer["errors"] else "OK"
                codes[code] += 1
                if answer["retryAfterSeconds"]:
                    retry.append(answer["retryAfterSeconds"])

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    after = memory_kib(pid)
    return {
        "codes": dict(codes),
        "seconds": elapsed,
        "rss_before_mib": before["VmRSS"] / 1024,
        "peak_mib": after["VmHWM"] / 1024,
        "growth_mib": (after["VmHWM"] - before["VmRSS"]) / 1024,
        "last_retry": retry[-1] if retry else 0,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--port", type=int, default=8110)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="deskql-bench-login-"))
    servers = {
        "0": (
            args.port,
            {"DESKQL_LOGIN_BLOCK_MAX_MS": "4000", "DESKQL_PASSWORD_HASH_CONCURRENCY": "2"},
        ),
        "r": (
            args.port + 1,
            {
                "DESKQL_LOGIN_FREE_FAILURES": "1000000000",
                "DESKQL_LOGIN_ADDRESS_FREE_FAILURES": "1000000000",
                "DESKQL_PASSWORD_HASH_CONCURRENCY": "1000",
            },
        ),
    }
    procs = {}
    try:
        for name, (port, extra) in servers.items():
            procs[name] = start(name, port, extra, base)
        for name, (port, _) in servers.items():
            await wait_up(port, procs[name])
        results = {}
        for name in ("r", "0"):
            port = servers[name][0]
            results[name] = await flood(port, procs[name].pid, args.attempts, args.concurrency)
        # The legitimate administrator, once the block the flood left has passed.
        url = f"http://127.0.0.1:{servers['0'][0]}/graphql"
        flood_end = time.perf_counter()
        tries = 0
        async with httpx.AsyncClient() as client:
            while True:
                tries += 1
                answer = await login(client, url, PASSWORD)
                if answer["token"]:
                    break
                await asyncio.sleep(answer["retryAfterSeconds"] or 0.5)
        signed_in_after = time.perf_counter() - flood_end
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(base, ignore_errors=True)

    print(f"login flood: {args.attempts} wrong passwords for one email, "
          f"{args.concurrency} concurrent clients, argon2 64 MiB t=3")  # fmt: skip
    for name, label in (("0", "(0) throttled, 2 hashes at once"), ("r", "(r) as before")):
        r = results[name]
        checked = r["codes"].get("INVALID_CREDENTIALS", 0)
        print(
            f"  {label:32s}: {r['seconds']:6.1f} s, answers {r['codes']}, "
            f"{checked} passwords hashed; peak memory {r['peak_mib']:.0f} MiB "
            f"(+{r['growth_mib']:.0f} MiB over {r['rss_before_mib']:.0f} MiB before the flood)"
        )
    print(
        f"  (0)/(r) peak growth: {results['0']['growth_mib'] / max(results['r']['growth_mib'], 1):.2f}; "  # noqa: E501
        f"hashes {results['0']['codes'].get('INVALID_CREDENTIALS', 0)} vs "
        f"{results['r']['codes'].get('INVALID_CREDENTIALS', 0)}"
    )
    print(
        f"  the administrator signed in on (0) {signed_in_after:.1f} s after the flood "
        f"(try {tries}; the flood's last retryAfterSeconds was {results['0']['last_retry']})"
    )


if __name__ == "__main__":
    asyncio.run(main())
