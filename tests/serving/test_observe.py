"""Request ids, one structured log line per request, client errors as one line (issue 11,
point 5)."""

from __future__ import annotations

import json
import logging

import pytest

from deskql.serving.logs import configure_logging, formatter
from deskql.settings import Settings
from tests.conftest import World, gid
from tests.serving.conftest import app_client

ME = "query Me { me { email } }"


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "deskql.request"]


async def test_each_request_gets_an_id_and_one_log_line(
    world: World, clean_db: Settings, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    headers = {"Authorization": f"Bearer {world.alice_token}"}
    async with app_client(clean_db) as http:
        first = await http.post("/graphql", json={"query": ME}, headers=headers)
        second = await http.post(
            "/graphql", json={"query": ME}, headers={**headers, "X-Request-ID": "edge-42.a"}
        )
        bad_id = await http.post(
            "/graphql", json={"query": ME}, headers={"X-Request-ID": "no spaces <allowed>"}
        )
    generated = first.headers["x-request-id"]
    assert len(generated) == 16 and int(generated, 16) >= 0
    assert second.headers["x-request-id"] == "edge-42.a"  # a proxy's id is kept
    assert bad_id.headers["x-request-id"] != "no spaces <allowed>"

    lines = request_lines(caplog)
    assert len(lines) == 3
    line = lines[0]
    assert line.levelno == logging.INFO
    assert (line.method, line.path, line.operation, line.status) == ("POST", "/graphql", "Me", 200)  # type: ignore[attr-defined]
    assert line.actor_id == world.alice.id  # type: ignore[attr-defined]
    assert line.request_id == generated  # type: ignore[attr-defined]
    assert line.duration_ms > 0  # type: ignore[attr-defined]
    text = line.getMessage()
    assert text.startswith("POST /graphql Me 200 ")
    assert f"actor={world.alice.id}" in text and f"request_id={generated}" in text
    # Without a token: no actor, and the GraphQL error code is on the line.
    assert lines[2].actor_id is None  # type: ignore[attr-defined]
    assert lines[2].error_codes == ["UNAUTHENTICATED"]  # type: ignore[attr-defined]
    assert "errors=UNAUTHENTICATED" in lines[2].getMessage()


async def test_expected_client_errors_are_one_line_without_traceback(
    world: World, clean_db: Settings, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    headers = {"Authorization": f"Bearer {world.bob_token}"}
    ticket_query = "query T($id: ID!) { node(id: $id) { id } }"
    async with app_client(clean_db) as http:
        malformed = await http.post(
            "/graphql",
            json={"query": '{ ticket(id: "garbage") { id } }'},
            headers=headers,
        )
        forbidden = await http.post(
            "/graphql",
            json={"query": 'mutation { departmentCreate(input: {name: "X"}) { errors { code } } }'},
            headers=headers,
        )
        unknown_field = await http.post("/graphql", json={"query": "{ nope }"}, headers=headers)
        other = await http.post(
            "/graphql", json={"query": ticket_query, "variables": {"id": gid("Ticket", 999)}}
        )
    for resp in (malformed, forbidden, unknown_field, other):
        assert resp.json()["errors"], resp.text
    graphql_lines = [
        r for r in caplog.records if r.name in ("deskql.graphql", "strawberry.execution")
    ]
    assert graphql_lines, "client errors are logged"
    for record in graphql_lines:
        assert record.name == "deskql.graphql"
        assert record.exc_info is None and record.levelno == logging.INFO
        assert record.getMessage().startswith("client error ")
        assert "\n" not in record.getMessage()
    codes = {r.getMessage().split()[2] for r in graphql_lines}
    assert "GRAPHQL_VALIDATION_FAILED" in codes


def test_json_log_format() -> None:
    fmt = formatter(Settings(log_format="json"))
    record = logging.LogRecord(
        "deskql.request", logging.INFO, __file__, 1, "POST %s", ("/x",), None
    )
    record.request_id = "abc"
    record.operation = "Me"
    record.status = 200
    record.duration_ms = 1.5
    record.actor_id = 7
    data = json.loads(fmt.format(record))
    assert data["message"] == "POST /x"
    assert data["level"] == "INFO" and data["logger"] == "deskql.request"
    assert data["time"].startswith("20") and data["time"].endswith("+00:00")
    assert (data["request_id"], data["operation"], data["status"]) == ("abc", "Me", 200)
    assert (data["duration_ms"], data["actor_id"]) == (1.5, 7)

    text = formatter(Settings()).format(record)
    assert "INFO" in text and "deskql.request: POST /x" in text


def test_deskql_info_lines_are_shown_and_library_noise_is_not() -> None:
    import io

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    try:
        configure_logging(Settings(log_format="json"), stream=out)
        logging.getLogger("deskql.outbox").info("written to %s", "x.eml")
        logging.getLogger("tortoise").info("noise")
        logging.getLogger("uvicorn.error").info("Uvicorn running")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(d["logger"], d["message"]) for d in lines] == [
        ("deskql.outbox", "written to x.eml"),
        ("uvicorn.error", "Uvicorn running"),
    ]


async def test_an_unexpected_error_is_logged_once_with_its_traceback(
    world: World, clean_db: Settings, caplog: pytest.LogCaptureFixture, monkeypatch
):
    from deskql import models

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    caplog.set_level(logging.INFO)
    headers = {"Authorization": f"Bearer {world.alice_token}"}
    async with app_client(clean_db) as http:
        monkeypatch.setattr(models.Agent, "get", broken)
        resp = await http.post("/graphql", json={"query": ME}, headers=headers)
    assert resp.json()["errors"][0]["message"] == "Unexpected error."
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].name == "deskql.graphql" and errors[0].exc_info is not None
    assert "disk on fire" in str(errors[0].exc_info[1])
