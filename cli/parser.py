"""The command line parsed (`build_parser`) and the console script's entry point (`main`)."""

from __future__ import annotations

import argparse

from deskql.cli.common import DEFAULT_SCHEMA_FILE, EXIT_USAGE, _fail
from deskql.cli.database import (
    cmd_create_agent,
    cmd_demo,
    cmd_makemigrations,
    cmd_migrate,
    cmd_reindex,
)
from deskql.cli.export import cmd_export_schema
from deskql.cli.serve import cmd_serve, cmd_smtp
from deskql.settings import Settings

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
