"""The `deskql` command: serve, smtp, migrate, makemigrations, create-agent, demo, export-schema.

Every subcommand reads its configuration from DESKQL_* variables (settings.py). Expected
failures (a database that is behind, refused input) print one line and exit non-zero without
a traceback: 1 for refused input, 2 for a database that needs `deskql migrate`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Check the ports and the database (and load the demo data), then serve with uvicorn."""
    settings = replace(
        settings,
        host=args.host if args.host is not None else settings.host,
        port=args.port if args.port is not None else settings.port,
        log_level=args.log_level or settings.log_level,
    )
    from deskql.serving.logs import configure_logging

    configure_logging(settings)
    problem = port_problem(settings.host, settings.port)
    if problem:
        return _fail(f"{problem} (choose another with --port or DESKQL_PORT)", EXIT_UNAVAILABLE)
    if settings.smtp_enabled:
        problem = port_problem(settings.smtp_host, settings.smtp_port)
        if problem:
            return _fail(
                f"SMTP: {problem} (set DESKQL_SMTP_PORT, or DESKQL_SMTP_ENABLED=false)",
                EXIT_UNAVAILABLE,
            )

    async def prepare() -> int:
        from deskql import models
        from deskql.services import demo

        await _open(settings)
        if not args.demo:
            return 0
        if await models.Agent.all().count() == 0:
            summary = await demo.load_demo()
            print(f"Loaded the demo data: {summary.describe()}")
        if await models.Agent.exists(email=demo.ADMIN_EMAIL):
            print(demo.sign_in_hint())
        else:
            print("The database already has agents of its own; the demo data was not loaded.")
        return 0

    code = _run(settings, prepare)
    if code:
        return code

    import uvicorn

    from deskql.server import create_app

    # Logging is ours (configure_logging): uvicorn's loggers propagate to it, and the
    # request lines of serving/observe.py replace its access log. The banner (URLs, SMTP,
    # where mail goes) is logged by the application once it has started.
    try:
        app = create_app(settings)
    except ValueError as exc:  # e.g. a persisted query allow-list that does not check out
        return _fail(f"bad configuration: {exc}", EXIT_USAGE)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        log_level=settings.log_level,
    )
    return 0


# --- smtp --------------------------------------------------------------------------------


def cmd_smtp(args: argparse.Namespace, settings: Settings) -> int:
    """Run only the inbound SMTP server with the database (scale-out: beside `deskql serve`)."""
    settings = replace(
        settings,
        smtp_enabled=True,
        smtp_host=args.host if args.host is not None else settings.smtp_host,
        smtp_port=args.port if args.port is not None else settings.smtp_port,
    )
    from deskql.serving.logs import configure_logging

    configure_logging(settings)
    problem = port_problem(settings.smtp_host, settings.smtp_port)
    if problem:
        return _fail(
            f"{problem} (choose another with --port or DESKQL_SMTP_PORT)", EXIT_UNAVAILABLE
        )

    async def work() -> int:
        import signal

        from deskql.channels.email.server import SMTPService
        from deskql.realtime.bus import Bus
        from deskql.realtime.hub import DEFAULT_QUEUE_SIZE, Hub
        from deskql.services import uow

        await _open(settings)
        # Activity from mail goes out on the broadcast backend like everything else.
        hub = Hub(
            settings.broadcast_url, bus=Bus(settings.broadcast_url), queue_size=DEFAULT_QUEUE_SIZE
        )
        await hub.start()
        uow.set_publisher(hub.publish_many)
        service = SMTPService(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await service.start()
            print(f"DeskQL SMTP server: {settings.smtp_host}:{service.port}", flush=True)
            await stop.wait()
        finally:
            await service.stop()
            uow.clear_publisher(hub.publish_many)
            await hub.stop()
        return 0

    return _run(settings, work)


# --- migrate, makemigrations -------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the pending migrations and create the organisation."""

    async def work() -> int:
        from tortoise import Tortoise

        from deskql.services.organisation import ensure_organisation

        await Tortoise.init(config=db.tortoise_config(settings), _enable_global_fallback=True)
        applied = await db.apply_migrations(settings)
        org = await ensure_organisation(settings)
        if applied:
            for name in applied:
                print(f"applied {name}")
        else:
            print("up to date")
        print(f"organisation: {org.name} ({org.slug}, {org.edition.value})")
        return 0

    return _run(settings, work)


def cmd_makemigrations(args: argparse.Namespace, settings: Settings) -> int:
    """Write a migration for the model changes, with Tortoise's autodetector."""
    from tortoise.cli import cli as tortoise_cli
    from tortoise.cli import utils as tortoise_utils

    # Tortoise imports the config as "module.VARIABLE": this module's TORTOISE_ORM (above).
    ctx = tortoise_cli.CLIContext(config="deskql.cli.TORTOISE_ORM", config_file=None)
    try:
        asyncio.run(tortoise_cli.makemigrations(ctx, (db.APP_LABEL,), bool(args.empty), args.name))
    except tortoise_utils.CLIError as exc:
        return _fail(str(exc))
    return 0


# --- create-agent ------------------------------------------------------------------------


def cmd_create_agent(args: argparse.Namespace, settings: Settings) -> int:
    """Create an agent (and any department named that does not exist yet)."""

    async def work() -> int:
        from deskql import models
        from deskql.models.enums import Role, TokenKind
        from deskql.services import auth, organisation, uow

        await _open(settings)
        created: list[str] = []
        # One transaction: a refused agent leaves no new department behind.
        async with uow.transaction():
            dept_ids: list[int] = []
            for name in args.department or []:
                dept = await models.Department.filter(name=name.strip()).first()
                if dept is None:
                    dept = await organisation.create_department(None, name=name)
                    created.append(dept.name)
                dept_ids.append(dept.id)
            agent = await organisation.create_agent(
                None,
                email=args.email,
                first_name=args.first_name,
                last_name=args.last_name,
                role=Role(args.role.upper()),
                department_ids=dept_ids,
                password=args.password,
            )
        for name in created:
            print(f"created department {name}")
        depts = ", ".join(args.department or []) or "none"
        print(f"created agent {agent.email} ({agent.role.value.lower()}), departments: {depts}")
        if args.password is None:
            print("no password set: the agent signs in with an API token only")
        if args.token:
            _, plain = await auth.issue_token(
                agent_id=agent.id, kind=TokenKind.API, name="deskql create-agent"
            )
            print(f"token: {plain}")
        return 0

    return _run(settings, work)


# --- demo --------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Load the demo data set; refuses a database that has agents unless --force."""

    async def work() -> int:
        from deskql import models
        from deskql.services import demo

        await _open(settings)
        agents = await models.Agent.all().count()
        if agents and not args.force:
            return _fail(
                f"the database already has {agents} agent(s); the demo data is meant for an "
                "empty one (use --force to add it anyway)"
            )
        summary = await demo.load_demo()
        print(f"Loaded the demo data: {summary.describe()}")
        print(demo.sign_in_hint())
        return 0

    return _run(settings, work)


# --- reindex ------------------------------------------------------------------------------


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the search index from the records (one transaction, batches of ids)."""

    async def work() -> int:
        from deskql.services.search import index

        await _open(settings)
        total = await index.rebuild(batch=args.batch)
        print(f"Reindexed {total} record(s) for search")
        return 0

    return _run(settings, work)


# --- export-schema -----------------------------------------------------------------------


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    """Write the GraphQL schema (SDL) to a file, or to standard output for `-`."""
    from deskql.schema.root import schema_sdl

    sdl = schema_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
        return 0
    path = Path(args.output)
    path.write_text(sdl, encoding="utf-8")
    print(f"wrote {path} ({len(sdl.splitlines())} lines)")
    if path.resolve() == DEFAULT_SCHEMA_FILE.resolve():
        # The help center's own schema (/help/graphql) is committed beside it.
        from deskql.schema.help.root import help_schema_sdl

        help_sdl = help_schema_sdl()
        DEFAULT_HELP_SCHEMA_FILE.write_text(help_sdl, encoding="utf-8")
        print(f"wrote {DEFAULT_HELP_SCHEMA_FILE} ({len(help_sdl.splitlines())} lines)")
    return 0


# --- the parser --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `deskql` command."""
    parser = argparse.ArgumentParser(
        prog="deskql",
        description="DeskQL, a help desk server with a GraphQL API. "
        "Configuration comes from DESKQL_* environment variables.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the GraphQL API over HTTP and WebSocket")
    serve.add_argument("--host", default=None, help="interface to bind (default DESKQL_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default DESKQL_PORT)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load the demo data first when the database has no agents",
    )
    serve.add_argument(
        "--log-level",
        default=None,
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level (default DESKQL_LOG_LEVEL, info)",
    )
    serve.set_defaults(func=cmd_serve)

    smtp = sub.add_parser(
        "smtp", help="run only the inbound SMTP server (mail to tickets), for scale-out"
    )
    smtp.add_argument("--host", default=None, help="interface to bind (default DESKQL_SMTP_HOST)")
    smtp.add_argument("--port", type=int, default=None, help="port (default DESKQL_SMTP_PORT)")
    smtp.set_defaults(func=cmd_smtp)

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=cmd_migrate)

    mk = sub.add_parser("makemigrations", help="write a migration for changed models")
    mk.add_argument("--empty", action="store_true", help="write an empty migration")
    mk.add_argument("-n", "--name", default=None, help="name of the migration file")
    mk.set_defaults(func=cmd_makemigrations)

    agent = sub.add_parser("create-agent", help="create an agent")
    agent.add_argument("--email", required=True, help="sign-in email")
    agent.add_argument("--first-name", default="", help="first name")
    agent.add_argument("--last-name", required=True, help="last name")
    agent.add_argument(
        "--role",
        default="agent",
        type=str.lower,
        choices=["agent", "administrator"],
        help="agent (default) or administrator",
    )
    agent.add_argument(
        "--department",
        action="append",
        metavar="NAME",
        help="a department to join, created when missing (repeatable)",
    )
    agent.add_argument(
        "--password", default=None, help="password (8+ characters); without it: none"
    )
    agent.add_argument("--token", action="store_true", help="issue and print an API token")
    agent.set_defaults(func=cmd_create_agent)

    demo = sub.add_parser("demo", help="load the demo data set")
    demo.add_argument(
        "--force", action="store_true", help="load it even though the database has agents"
    )
    demo.set_defaults(func=cmd_demo)

    reindex = sub.add_parser("reindex", help="rebuild the search index from the records")
    reindex.add_argument(
        "--batch", type=int, default=1000, help="records read per batch (default 1000)"
    )
    reindex.set_defaults(func=cmd_reindex)

    export = sub.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument(
        "output",
        nargs="?",
        default=str(DEFAULT_SCHEMA_FILE),
        help="file to write (default: schema.graphql in the project), or - for stdout",
    )
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `deskql` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        return _fail(f"bad configuration: {exc}", EXIT_USAGE)
    return int(args.func(args, settings))


if __name__ == "__main__":
    sys.exit(main())
