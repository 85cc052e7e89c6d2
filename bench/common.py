"""Helpers shared by the benchmarks: uvicorn server processes on 127.0.0.1, rounds of load
from bench/loadgen.py in its own process, medians, and py-spy profiles grouped by layer."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
HOST = "127.0.0.1"


async def measure(work: Awaitable[Any]) -> tuple[float, int]:
    """Wall seconds and SQL statements of one awaited call (in the benchmark's own process)."""
    from deskql import db

    with db.count_statements() as statements:
        start = time.perf_counter()
        await work
        elapsed = time.perf_counter() - start
    return elapsed, statements.count


def run(main: Coroutine[Any, Any, Any]) -> Any:
    """Run a benchmark's main coroutine on uvloop when it is installed (as the servers do)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A uvicorn process serving one ASGI app on 127.0.0.1."""

    name: str
    app: str
    env: dict[str, str]
    log_dir: Path
    app_dir: Path = ROOT
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"server-{self.name}.log"

    def start(self, timeout: float = 30.0) -> None:
        """Start uvicorn (uvloop + httptools, no access log) and wait until it accepts."""
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            "--app-dir",
            str(self.app_dir),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, cwd=self.app_dir, env={**os.environ, **self.env}, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start in {timeout}s")

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system, all threads) the server process has used so far."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # utime and stime are fields 14 and 15 of /proc/<pid>/stat (1-based, after the name).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stop this server's process (and only it)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def load(
    server: Server,
    *,
    body: str,
    headers: dict[str, str],
    concurrency: int,
    duration: float,
    max_requests: int,
    expected_length: int | None,
    path: str = "/graphql",
    method: str = "POST",
    expected_status: int = 200,
) -> dict[str, Any]:
    """One round of load on a server from a separate process; its counts and latencies."""
    cfg = {
        "host": HOST,
        "port": server.port,
        "path": path,
        "method": method,
        "expected_status": expected_status,
        "body": body,
        "headers": headers,
        "concurrency": concurrency,
        "duration": duration,
        "max_requests": max_requests,
        "expected_length": expected_length,
    }
    cpu_before = server.cpu_seconds()
    out = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py"), json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed against {server.name}:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    cpu_after = server.cpu_seconds()
    result["cpu_ms"] = (
        (cpu_after - cpu_before) * 1000 / result["requests"]
        if cpu_before is not None and cpu_after is not None and result["requests"]
        else float("nan")
    )
    if result["errors"]:
        raise RuntimeError(
            f"{result['errors']} bad responses from {server.name}: {result['first_error']}"
        )
    return result


def median_of(rounds: list[dict[str, Any]], key: str) -> float:
    """The median of one figure over rounds."""
    return statistics.median(r[key] for r in rounds)


# Profiles ------------------------------------------------------------------------------------

# Layers, tested from the innermost frame outwards: a sample counts for the first layer one of
# its frames belongs to (so SQL under a DataLoader counts as SQL, not DataLoader).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("JSON encoding (orjson)", ("encode_json", "orjson")),
    ("SQL driver (aiosqlite/sqlite3/asyncpg)", ("aiosqlite/", "sqlite3/", "asyncpg/")),
    ("Tortoise model construction", ("_init_from_db", "tortoise/fields/", "to_python_value")),
    ("Tortoise query building", ("pypika", "tortoise/queryset.py", "tortoise/expressions.py")),
    ("Tortoise other", ("tortoise/",)),
    ("auth token lookup", ("services/auth.py",)),
    ("DataLoader", ("strawberry/dataloader.py",)),
    ("DeskQL types/loaders (from_row...)", ("schema/types.py", "schema/loaders.py")),
    (
        "strawberry field resolution / extensions",
        ("strawberry/types/", "strawberry/schema/", "strawberry/extensions/"),
    ),
    ("graphql-core parse/validate", ("graphql/language/", "graphql/validation/")),
    ("graphql-core execution", ("graphql/execution/", "graphql/pyutils/", "graphql/type/")),
    ("strawberry HTTP view", ("strawberry/http/", "strawberry/asgi/")),
    ("uvicorn/starlette HTTP", ("uvicorn/", "starlette/", "httptools")),
    ("asyncio/uvloop event loop", ("asyncio/", "uvloop", "base_events", "events.py")),
]


def py_spy_available() -> str | None:
    """Path of py-spy, if installed (`pip install py-spy`)."""
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def start_profile(py_spy: str, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Sample a process with py-spy (collapsed stacks, 100 Hz) for `seconds`."""
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def summarise_profile(path: Path, top: int = 15) -> tuple[list[tuple[str, float]], list[str]]:
    """Share of samples per layer, and the hottest innermost DeskQL-side frames."""
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        inner_first = list(reversed(frames))
        layers[_layer(inner_first)] += count
        leaves[_short(inner_first[0])] += count
    shares = [(name, 100.0 * n / total) for name, n in layers.most_common()] if total else []
    hot = [f"{100.0 * n / total:5.1f}%  {name}" for name, n in leaves.most_common(top)]
    return shares, hot


def _layer(inner_first: list[str]) -> str:
    for frame in inner_first:
        for name, needles in LAYERS:
            if any(n in frame for n in needles):
                return name
    return "other"


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py:123)"
    func, _, where = frame.partition(" (")
    return f"{func} ({where.rsplit('/', 1)[-1]}" if where else func
