"""The printable ticket (TIC-11) in a real headless Chromium: the signed link opens once, the
conversation shows in time order, and in print media the page's controls are hidden."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest_asyncio
import uvicorn

from deskql import models
from deskql.server import create_app
from deskql.services import ticket_print, tickets
from deskql.services.auth import load_actor
from deskql.settings import Settings
from tests.conftest import World


@pytest_asyncio.fixture
async def live_url(clean_db: Settings) -> AsyncIterator[str]:
    """The app served by uvicorn on a free port of 127.0.0.1, in the test's event loop."""
    config = uvicorn.Config(
        create_app(clean_db, manage_db=False), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_print_view_in_chromium(
    world: World, browser: Any, live_url: str, clean_db: Settings
) -> None:
    ticket = await tickets.create_ticket(
        None,
        subject="Drukarka nie działa / 打印机坏了",
        department_id=world.support.id,
        contact_id=world.contact.id,
    )
    await models.Thread.create(ticket=ticket, direction="INCOMING", body_text="Pomocy!")
    await models.Comment.create(ticket=ticket, body="Checked the toner", author=world.alice)
    await models.Thread.create(ticket=ticket, direction="OUTGOING", body_text="Fixed it")
    alice = await load_actor(world.alice.id)
    link = urlsplit(ticket_print.print_url(alice, clean_db, ticket_id=ticket.id))
    url = f"{live_url}{link.path}?{link.query}"

    def look() -> dict[str, Any]:
        from selenium.webdriver.common.by import By

        browser.get(url)
        entries = browser.find_elements(By.CSS_SELECTOR, ".print-entry")
        screen = {
            "title": browser.title,
            "entries": [e.find_element(By.TAG_NAME, "pre").text for e in entries],
            "private": [e.get_attribute("class").split()[-1] for e in entries],
            "button": browser.find_element(By.CSS_SELECTOR, "button.no-print").is_displayed(),
        }
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        screen["button_in_print"] = browser.find_element(
            By.CSS_SELECTOR, "button.no-print"
        ).is_displayed()
        screen["header_in_print"] = browser.find_element(
            By.CSS_SELECTOR, ".site-header"
        ).is_displayed()
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.get(url)  # the same link again
        screen["again"] = browser.find_element(By.TAG_NAME, "body").text
        return screen

    screen = await asyncio.to_thread(look)
    assert screen["title"] == f"#{ticket.number} Drukarka nie działa / 打印机坏了"
    assert screen["entries"] == ["Pomocy!", "Checked the toner", "Fixed it"]
    assert screen["private"] == ["public", "private", "public"]
    assert screen["button"] is True
    assert screen["button_in_print"] is False and screen["header_in_print"] is False
    assert "used already" in screen["again"]
