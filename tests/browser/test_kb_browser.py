"""The public knowledge base in a real headless Chromium, against `deskql serve --demo`:
the index lists the demo's public articles, a link opens the article, an old permalink of the
article renamed twice lands on the current one, the page has no script at all (readable
without JavaScript), and the print style hides the site's chrome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_cli import cli_env, running_server


@pytest.fixture(scope="module")
def kb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = cli_env(tmp_path_factory.mktemp("kb-browser") / "var")
    with running_server(env, "--demo") as (base, _proc):
        yield base


def test_kb_in_a_browser(browser: Any, kb_server: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{kb_server}/kb")
    assert browser.title == "Knowledge base"
    links = {
        a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "main a")
    }
    assert "Set up two-factor sign-in" in links
    assert "Escalating a billing dispute (internal)" not in links  # agents-only draft
    browser.find_element(By.LINK_TEXT, "Set up two-factor sign-in").click()
    assert browser.current_url.endswith("/kb/articles/set-up-two-factor-sign-in")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Set up two-factor sign-in"
    assert browser.find_elements(By.CSS_SELECTOR, ".kb-body table")
    assert browser.find_elements(By.TAG_NAME, "script") == []
    canonical = browser.find_element(By.CSS_SELECTOR, 'link[rel="canonical"]')
    assert canonical.get_attribute("href").endswith("/kb/articles/set-up-two-factor-sign-in")

    # The article renamed twice: its first permalink lands on the current one.
    browser.get(f"{kb_server}/kb/articles/reset-your-password")
    assert browser.current_url == f"{kb_server}/kb/articles/how-to-reset-your-password"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Reset your password"

    # Printing: the header and the breadcrumbs are hidden.
    header = browser.find_element(By.CSS_SELECTOR, ".site-header")
    assert header.is_displayed()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not header.is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, ".kb-crumbs").is_displayed()
        assert browser.find_element(By.CSS_SELECTOR, ".kb-body").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
