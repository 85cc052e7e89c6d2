"""`deskql serve` (the GraphQL server) and `deskql smtp` (the inbound SMTP server)."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from deskql.cli.common import EXIT_UNAVAILABLE, EXIT_USAGE, _fail, _open, _run, port_problem
from deskql.settings import Settings


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
