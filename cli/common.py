"""Shared by the subcommands: exit codes, failing with one line, running, ports, TORTOISE_ORM."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from deskql import db
from deskql.settings import ROOT, Settings

EXIT_REFUSED = 1


EXIT_MIGRATIONS_PENDING = 2


EXIT_USAGE = 2


EXIT_UNAVAILABLE = 2  # the database cannot be reached, or a port is taken


DEFAULT_SCHEMA_FILE = ROOT / "schema.graphql"


DEFAULT_HELP_SCHEMA_FILE = ROOT / "help.graphql"


def __getattr__(name: str) -> Any:
    # `tortoise makemigrations` loads its config as "module.VARIABLE"; build ours on demand.
    if name == "TORTOISE_ORM":
        return db.tortoise_config(Settings.from_env())
    raise AttributeError(name)


def _fail(message: str, code: int = EXIT_REFUSED) -> int:
    print(f"deskql: {message}", file=sys.stderr)
    return code


def _run(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    """Run an async command, turning the expected failures into a message and an exit code."""
    from tortoise.exceptions import DBConnectionError

    from deskql.services.errors import ClientError, ValidationFailed

    async def guarded() -> int:
        try:
            return await work()
        finally:
            await db.close_db()

    try:
        return asyncio.run(guarded())
    except db.MigrationsPending as exc:
        return _fail(str(exc), EXIT_MIGRATIONS_PENDING)
    except ValidationFailed as exc:
        for err in exc.errors:
            where = f"{err.field}: " if err.field else ""
            print(f"deskql: {where}{err.message} ({err.code.value})", file=sys.stderr)
        return EXIT_REFUSED
    except ClientError as exc:
        return _fail(str(exc))
    except db.DatabaseUnavailable as exc:
        return _fail(str(exc), EXIT_UNAVAILABLE)
    except DBConnectionError as exc:
        return _fail(f"cannot connect to the database {db.redacted(settings.db_url)}: {exc}")


async def _open(settings: Settings) -> None:
    """Connect (migrating when the settings allow it) and make sure the organisation exists."""
    from deskql.services import auth
    from deskql.services.organisation import ensure_organisation

    auth.configure_hasher(
        settings.password_time_cost,
        settings.password_memory_kib,
        settings.password_hash_concurrency,
    )
    await db.init_db(settings)
    await ensure_organisation(settings)


# --- serve -------------------------------------------------------------------------------


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on right now (in use, not ours), or None."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # The same option uvicorn and asyncio set: a port in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None
