"""The help center page in a real headless Chromium (issue 13, point 5): invite, set a
password, sign in, submit a ticket with a file, see an agent's reply arrive live, rate; and
stored-XSS attempts shown as text. The server is a real `deskql serve` process (SQLite)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_cli import cli_env, deskql, running_server

pytestmark = pytest.mark.timeout(300)

XSS_SUBJECT = '<img src=x onerror="window.__xss=1">Zażółć 打印机'
XSS_REPLY = "<script>window.__xss=2</script>Dzień dobry, 您好"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    var_dir: Path = tmp_path_factory.mktemp("help") / "var"
    env = cli_env(var_dir, DESKQL_OUTBOX_ENABLED="false")
    made = deskql(
        env, "create-agent", "--email", "bob@zylker.com", "--first-name", "Bob",
        "--last-name", "Smith", "--role", "administrator", "--department", "Support", "--token",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = re.search(r"^token: (\S+)$", made.stdout, re.MULTILINE).group(1)  # type: ignore[union-attr]
    with running_server(env) as (base, _proc):
        yield {"base": base, "token": token, "db": var_dir / "deskql.sqlite3", "tmp": var_dir}


def agent(site: dict[str, Any], query: str, variables: dict | None = None) -> dict:
    res = httpx.post(
        f"{site['base']}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {site['token']}"},
        timeout=30,
    )
    body = res.json()
    assert not body.get("errors"), body
    return body["data"]


def invite_token(site: dict[str, Any], email: str) -> str:
    with sqlite3.connect(site["db"]) as conn:
        raw = conn.execute(
            "SELECT raw_bytes FROM outbox_message WHERE to_addresses LIKE ? ORDER BY id DESC",
            (f"%{email}%",),
        ).fetchone()[0]
    body = BytesParser(policy=policy.default).parsebytes(raw).get_body(("plain",))
    found = re.search(r"/help#/invite/([A-Za-z0-9_\-]+)", body.get_content())  # type: ignore[union-attr]
    assert found
    return found.group(1)


def wait_for(browser: Any, css: str, text: str | None = None, timeout: float = 15) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, timeout)
    if text is not None:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def fill(browser: Any, css: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.CSS_SELECTOR, css)
    box.clear()
    box.send_keys(value)


def test_invite_password_submit_live_reply_and_rate(
    browser: Any, site: dict[str, Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    contact = agent(
        site,
        """mutation { contactCreate(input: {lastName: "Nowak", firstName: "Zofia",
             email: "zofia@example.pl"}) { errors { message } contact { id } } }""",
    )["contactCreate"]["contact"]
    sent = agent(
        site,
        "mutation($id: ID!) { contactPortalInvite(input: {contactId: $id}) { errors { code } } }",
        {"id": contact["id"]},
    )
    assert sent["contactPortalInvite"]["errors"] == []
    base = site["base"]
    browser.get(f"{base}/help#/invite/{invite_token(site, 'zofia@example.pl')}")
    wait_for(browser, "#password-form")
    # Labels name every field (accessible), and the form works from the keyboard.
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#password-form label")]
    assert labels == ["New password (8 characters or more)", "The same again"]
    fill(browser, "#new-password", "zofia-pass-1")
    fill(browser, "#new-password-again", "zofia-pass-1")
    browser.find_element(By.CSS_SELECTOR, "#new-password-again").send_keys(Keys.ENTER)
    wait_for(browser, "#status", "Welcome, Zofia Nowak")
    wait_for(browser, "h1", "My tickets")

    # Sign out and in again with the password.
    browser.find_element(By.ID, "sign-out").click()
    wait_for(browser, "#signin-form")
    fill(browser, "#signin-form input[name=email]", "zofia@example.pl")
    fill(browser, "#signin-form input[name=password]", "zofia-pass-1")
    browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    wait_for(browser, "h1", "My tickets")

    # Submit a ticket with an attachment; Polish and Chinese text, and an XSS attempt.
    browser.get(f"{base}/help#/new")
    wait_for(browser, "#new-ticket-form")
    fill(browser, "#subject", XSS_SUBJECT)
    fill(browser, "#description", "Drukarka nie drukuje. 打印机不打印。")
    upload = tmp_path / "zdjęcie.txt"
    upload.write_text("paper jam", encoding="utf-8")
    browser.find_element(By.ID, "files").send_keys(str(upload))
    browser.find_element(By.CSS_SELECTOR, "#new-ticket-form button").click()
    wait_for(browser, "#messages .message")
    heading = wait_for(browser, "h1")
    assert XSS_SUBJECT in heading.text  # shown as text, not run
    assert "zdjęcie.txt" in browser.find_element(By.ID, "messages").text
    wait_for(browser, "#view[data-live]")

    # An agent replies publicly: the reply appears without a reload.
    number = int(re.search(r"#(\d+)", heading.text).group(1))  # type: ignore[union-attr]
    ticket = agent(site, "query($n: Int!) { ticket(number: $n) { id } }", {"n": number})["ticket"]
    agent(
        site,
        """mutation($id: ID!, $b: String!) { ticketReply(input: {ticketId: $id, bodyText: $b})
             { errors { message } } }""",
        {"id": ticket["id"], "b": XSS_REPLY},
    )
    wait_for(browser, "#messages", "Dzień dobry, 您好")
    assert "<script>window.__xss=2</script>" in browser.find_element(By.ID, "messages").text
    assert browser.execute_script("return window.__xss") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "#view img, #view script")

    # The contact answers from the page (the reply form, keyboard only).
    fill(browser, "#reply-body", "Już działa, dziękuję. 现在好了。")
    browser.find_element(By.CSS_SELECTOR, "#reply-form button[type=submit]").send_keys(Keys.ENTER)
    wait_for(browser, "#messages", "Już działa, dziękuję. 现在好了。")
    wait_for(browser, "#view[data-live]")

    # The agent closes it: the status changes live; then the contact rates it.
    version = agent(
        site,
        "query($id: ID!) { node(id: $id) { ... on Ticket { version } } }",
        {"id": ticket["id"]},
    )["node"]["version"]
    agent(
        site,
        """mutation($id: ID!, $v: Int!) { ticketUpdate(input: {id: $id, version: $v,
             status: CLOSED}) { errors { message } } }""",
        {"id": ticket["id"], "v": version},
    )
    wait_for(browser, "#ticket-status", "Closed")
    browser.refresh()
    wait_for(browser, "#rating-form")
    browser.find_element(By.CSS_SELECTOR, "#rating-form input[value=GOOD]").click()
    fill(browser, "#rating-comment", "Dziękuję! 谢谢")
    browser.find_element(By.CSS_SELECTOR, "#rating-form button[type=submit]").click()
    wait_for(browser, "#status", "Thank you for your rating")
    rated = agent(
        site,
        "query($id: ID!) { node(id: $id) { ... on Ticket { rating { value comment } } } }",
        {"id": ticket["id"]},
    )
    assert rated["node"]["rating"] == {"value": "GOOD", "comment": "Dziękuję! 谢谢"}
    # A phone's width: nothing wider than the window.
    wide = browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    browser.save_screenshot(str(tmp_path / "help-center.png"))  # kept by pytest for a look
    overflow = browser.execute_script(
        "return Array.from(document.querySelectorAll('body *')).filter("
        "e => e.getBoundingClientRect().right > window.innerWidth + 1).map("
        "e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.getBoundingClientRect().right)"
        " .concat([window.innerWidth, document.documentElement.scrollWidth])"
    )
    assert wide is True, overflow
    assert browser.execute_script("return window.__xss") is None


def test_articles_are_browsed_and_their_stored_xss_is_harmless(
    browser: Any, site: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    department = agent(site, "{ departments(first: 1) { nodes { id } } }")["departments"]["nodes"][
        0
    ]
    body = (
        "## Wymiana tonera 更换墨粉\n\nOtwórz pokrywę.\n\n<script>window.__xss=3</script>\n\n"
        '<img src="x" onerror="window.__xss=4">\n\n<a href="javascript:window.__xss=5">klik</a>'
    )
    made = agent(
        site,
        """mutation($input: ArticleCreateInput!) { articleCreate(input: $input) {
             errors { message } article { id permalink } } }""",
        {
            "input": {
                "title": "Toner <b>onmouseover=x</b> 墨粉",
                "departmentId": department["id"],
                "body": body,
                "visibility": "PUBLIC",
            }
        },
    )["articleCreate"]
    assert made["errors"] == [], made
    published = agent(
        site,
        "mutation($id: ID!) { articlePublish(input: {id: $id}) { errors { message } } }",
        {"id": made["article"]["id"]},
    )
    assert published["articlePublish"]["errors"] == []
    browser.get(f"{site['base']}/help#/articles")
    wait_for(browser, "#article-list", "Toner <b>onmouseover=x</b> 墨粉")
    browser.find_element(By.CSS_SELECTOR, "#article-search input").send_keys("墨粉")
    browser.find_element(By.CSS_SELECTOR, "#article-search button").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(
        lambda d: (
            d.execute_script("return document.title") == "Articles"
            and "q=" in d.execute_script("return location.hash")
            and d.find_elements(By.CSS_SELECTOR, "#article-list a")
        )
    )
    browser.execute_script("document.querySelector('#article-list a').click()")
    wait_for(browser, "#article-body", "Otwórz pokrywę.")
    assert (
        browser.find_element(By.CSS_SELECTOR, "#article-body h2").text == "Wymiana tonera 更换墨粉"
    )
    html = browser.find_element(By.ID, "article-body").get_attribute("innerHTML")
    for bad in ("<script", "onerror", "javascript:"):
        assert bad not in html, bad
    assert browser.find_element(By.TAG_NAME, "h1").text == "Toner <b>onmouseover=x</b> 墨粉"
    assert browser.execute_script("return window.__xss") is None


def test_the_page_is_served_with_no_outside_resources(site: dict[str, Any]) -> None:
    page = httpx.get(f"{site['base']}/help")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith(("/", "#")), src  # this site only
    script = httpx.get(f"{site['base']}/static/help/help.js")
    # Everything goes in as text; the one exception is the server-sanitized article body.
    assert script.status_code == 200 and script.text.count("innerHTML") == 1
    assert "body.innerHTML = a.bodyHtml;" in script.text
