"""Settings from DESKQL_* environment variables."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from deskql.db import PooledConnection, tortoise_config
from deskql.schema.ids import InvalidId, decode_id, from_global_id, to_global_id
from deskql.server import tune_gc
from deskql.settings import Settings


def test_defaults_are_the_embedded_stack(tmp_path: Path) -> None:
    s = Settings.from_env({"DESKQL_VAR_DIR": str(tmp_path)})
    assert s.db_url == f"sqlite://{tmp_path / 'deskql.sqlite3'}"
    assert s.broadcast_url == "memory://"
    assert s.should_auto_migrate is True
    assert (s.host, s.port, s.max_page_size) == ("127.0.0.1", 8000, 100)


def test_environment_overrides() -> None:
    s = Settings.from_env(
        {
            "DESKQL_DATABASE_URL": "postgres://u@127.0.0.1:5432/desk",
            "DESKQL_BROADCAST_URL": "redis://127.0.0.1:6379",
            "DESKQL_PORT": "9000",
            "DESKQL_INTROSPECTION": "off",
            "DESKQL_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "DESKQL_ORG_EDITION": "free",
        }
    )
    assert s.port == 9000 and s.introspection is False
    assert s.allowed_origins == ["https://a.example", "https://b.example"]
    assert s.org_edition == "FREE"
    assert s.should_auto_migrate is False  # a configured database is migrated on purpose
    connection = tortoise_config(s)["connections"]["default"]
    assert connection["engine"] == "tortoise.backends.asyncpg"
    credentials = connection["credentials"]
    assert (credentials["host"], credentials["port"], credentials["user"]) == (
        "127.0.0.1",
        5432,
        "u",
    )
    assert credentials["database"] == "desk" and credentials["maxsize"] == "10"
    # Connections go back to the pool without asyncpg's reset round trip (db.py).
    assert credentials["connection_class"] is PooledConnection


def test_sqlite_page_cache(tmp_path: Path) -> None:
    """The embedded database gets DESKQL_SQLITE_CACHE_MIB of page cache (a PRAGMA Tortoise
    sends on connecting); 0 leaves SQLite's default."""
    s = Settings.from_env({"DESKQL_VAR_DIR": str(tmp_path)})
    connection = tortoise_config(s)["connections"]["default"]
    assert connection["engine"] == "deskql.sqlite_reads"
    assert connection["credentials"]["cache_size"] == -64 * 1024
    assert connection["credentials"]["loop_read_ms"] == 10
    assert connection["credentials"]["read_threads"] == 2
    assert connection["credentials"]["file_path"] == str(tmp_path / "deskql.sqlite3")
    s = Settings.from_env({"DESKQL_VAR_DIR": str(tmp_path), "DESKQL_SQLITE_CACHE_MIB": "0"})
    assert "cache_size" not in tortoise_config(s)["connections"]["default"]["credentials"]
    pg = Settings.from_env({"DESKQL_DATABASE_URL": "postgres://u@127.0.0.1:5432/desk"})
    assert "cache_size" not in tortoise_config(pg)["connections"]["default"]["credentials"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DESKQL_PORT": "eighty"}, "DESKQL_PORT must be a whole number"),
        ({"DESKQL_GRAPHIQL": "maybe"}, "not a boolean"),
        ({"DESKQL_ORG_EDITION": "GOLD"}, "DESKQL_ORG_EDITION must be"),
        ({"DESKQL_GC_THRESHOLD": "-1"}, "DESKQL_GC_THRESHOLD must be 0"),
        ({"DESKQL_SQLITE_CACHE_MIB": "-1"}, "DESKQL_SQLITE_CACHE_MIB must be 0"),
        ({"DESKQL_SQLITE_LOOP_READ_MS": "-1"}, "DESKQL_SQLITE_LOOP_READ_MS must be 0"),
        ({"DESKQL_SQLITE_READ_THREADS": "-1"}, "DESKQL_SQLITE_READ_THREADS must be 0"),
        ({"DESKQL_AUTH_CACHE_MS": "-1"}, "DESKQL_AUTH_CACHE_MS and DESKQL_AUTH_CACHE_SIZE must"),
        ({"DESKQL_AUTH_CACHE_SIZE": "-5"}, "DESKQL_AUTH_CACHE_MS and DESKQL_AUTH_CACHE_SIZE must"),
        ({"DESKQL_GC_THRESHOLD": "lots"}, "DESKQL_GC_THRESHOLD must be a whole number"),
    ],
)
def test_bad_values_are_refused_clearly(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_a_server_process_tunes_its_garbage_collector() -> None:
    before = gc.get_threshold()
    try:
        tune_gc(0)  # 0: Python's own settings stay
        assert gc.get_threshold() == before
        tune_gc(Settings().gc_threshold)
        # Short young passes; full passes as rare as at 200,000 x 10 x 10 allocations.
        assert gc.get_threshold() == (10_000, 20, 100)
        tune_gc(200_000)
        assert gc.get_threshold() == (200_000, 20, 5)
        assert gc.get_freeze_count() > 10_000  # what start-up built is out of every pass
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_global_ids_round_trip_and_refuse_garbage() -> None:
    gid = to_global_id("Ticket", 42)
    assert from_global_id(gid) == ("Ticket", 42)
    assert decode_id(gid, "Ticket") == 42
    with pytest.raises(InvalidId, match="expected a Contact id"):
        decode_id(gid, "Contact")
    for bad in ["", "a", "%%%", to_global_id("Ticket", 0), "VGlja2V0Oi0x", "x" * 200]:
        with pytest.raises(InvalidId):
            from_global_id(bad)


def test_auth_cache_settings() -> None:
    assert (Settings().auth_cache_ms, Settings().auth_cache_size) == (5000, 10000)
    s = Settings.from_env({"DESKQL_AUTH_CACHE_MS": "0", "DESKQL_AUTH_CACHE_SIZE": "50"})
    assert (s.auth_cache_ms, s.auth_cache_size) == (0, 50)
