"""The database subcommands: migrate, makemigrations, create-agent, demo, reindex."""

from __future__ import annotations

import argparse
import asyncio

from deskql import db
from deskql.cli.common import _fail, _open, _run
from deskql.settings import Settings

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
