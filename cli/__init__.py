"""The `deskql` command: serve, smtp, migrate, makemigrations, create-agent, demo, export-schema.

Every subcommand reads its configuration from DESKQL_* variables (settings.py). Expected
failures (a database that is behind, refused input) print one line and exit non-zero without
a traceback: 1 for refused input, 2 for a database that needs `deskql migrate`.

The parts: common.py (exit codes, `_fail`, `_run`, ports, and the module `__getattr__` that
builds TORTOISE_ORM for `tortoise makemigrations`, imported here so that `deskql.cli.TORTOISE_ORM`
works), serve.py (serve, smtp), database.py (migrate, makemigrations, create-agent, demo,
reindex), export.py (export-schema), parser.py (`build_parser`, `main`), __main__.py
(`python -m deskql.cli`).
"""

from deskql.cli.common import (
    DEFAULT_HELP_SCHEMA_FILE,
    DEFAULT_SCHEMA_FILE,
    EXIT_MIGRATIONS_PENDING,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    port_problem,
)
from deskql.cli.common import __getattr__ as __getattr__  # deskql.cli.TORTOISE_ORM
from deskql.cli.database import (
    cmd_create_agent,
    cmd_demo,
    cmd_makemigrations,
    cmd_migrate,
    cmd_reindex,
)
from deskql.cli.export import cmd_export_schema
from deskql.cli.parser import build_parser, main
from deskql.cli.serve import cmd_serve, cmd_smtp

__all__ = [
    "DEFAULT_HELP_SCHEMA_FILE",
    "DEFAULT_SCHEMA_FILE",
    "EXIT_MIGRATIONS_PENDING",
    "EXIT_REFUSED",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "build_parser",
    "cmd_create_agent",
    "cmd_demo",
    "cmd_export_schema",
    "cmd_makemigrations",
    "cmd_migrate",
    "cmd_reindex",
    "cmd_serve",
    "cmd_smtp",
    "main",
    "port_problem",
]
