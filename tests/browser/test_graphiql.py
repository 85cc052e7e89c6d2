"""GraphiQL in a real headless Chromium (issue 11, point 2): the page of `deskql serve --demo`
loads from the server alone (nothing from another host), shows the Headers tab prefilled for
`Authorization: Bearer ...`, runs a query with the token put there, and receives subscription
events over the WebSocket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.test_cli import cli_env, running_server

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = cli_env(tmp_path_factory.mktemp("graphiql") / "var")
    with running_server(env, "--demo") as (base, _proc):
        yield base


def gql(base: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
    ).json()
    assert not body.get("errors"), body
    return body["data"]


def editor(driver: Any, selector: str) -> str:
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.CodeMirror.getValue() : null",
        selector,
    )


def set_editor(driver: Any, selector: str, text: str) -> None:
    driver.execute_script(
        "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])", selector, text
    )


def wait_for(predicate: Any, what: str, within: float = 20) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def run(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    time.sleep(1.0)  # GraphiQL takes editor changes into its state after a debounce
    driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()


def test_graphiql_works_offline_with_a_token_and_subscriptions(browser: Any, demo: str) -> None:
    token = gql(
        demo,
        'mutation { login(input: {email: "admin@zylker.com", password: "deskql-demo"}) { token } }',
    )["login"]["token"]
    department = gql(demo, "{ tickets(first: 1) { edges { node { department { id } } } } }", token)[
        "tickets"
    ]["edges"][0]["node"]["department"]["id"]

    browser.get(f"{demo}/graphql")
    wait_for(lambda: editor(browser, QUERY_EDITOR) is not None, "the GraphiQL editor")
    # Everything the page loaded came from this server.
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert resources and all(url.startswith(demo) for url in resources), resources
    # The Headers tab is open, prefilled with the header to complete.
    prefilled = json.loads(editor(browser, HEADERS_EDITOR))
    assert prefilled == {"Authorization": "Bearer PASTE-YOUR-TOKEN-HERE"}
    assert "login" in editor(browser, QUERY_EDITOR)

    # A query with the token in the Headers tab.
    set_editor(browser, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {token}"}))
    set_editor(browser, QUERY_EDITOR, "query Me { me { email role } }")
    run(browser)
    result = wait_for(
        lambda: (
            (editor(browser, RESULT) or "")
            if "admin@zylker.com" in (editor(browser, RESULT) or "")
            else None
        ),
        "the query's result",
    )
    assert json.loads(result) == {
        "data": {"me": {"email": "admin@zylker.com", "role": "ADMINISTRATOR"}}
    }

    # A subscription over the WebSocket (the same header as its connection_init payload).
    set_editor(
        browser,
        QUERY_EDITOR,
        "subscription Live($d: ID!) { dashboardUpdates(departmentId: $d) { open unassigned } }",
    )
    browser.execute_script(
        "document.querySelector('.graphiql-editor-tool .graphiql-editor.hidden .CodeMirror')"
        ".CodeMirror.setValue(arguments[0])",
        json.dumps({"d": department}),
    )

    def counts() -> dict[str, int] | None:
        text = editor(browser, RESULT) or ""
        try:
            return json.loads(text)["data"]["dashboardUpdates"]
        except (ValueError, KeyError, TypeError):
            return None

    run(browser)
    first = wait_for(counts, "the first dashboard event")
    gql(
        demo,
        'mutation($d: ID!) { ticketCreate(input: {subject: "From the browser test", '
        'departmentId: $d, contactEmail: "x@example.com"}) { errors { code } } }',
        token,
        d=department,
    )
    later = wait_for(
        lambda: (c := counts()) and c["open"] == first["open"] + 1 and c,
        "the event of the new ticket",
    )
    assert later["unassigned"] == first["unassigned"] + 1
