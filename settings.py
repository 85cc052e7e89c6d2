"""Every knob of DeskQL, read from DESKQL_* environment variables, with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; `Settings.from_env()` reads it from the environment."""

    var_dir: Path = ROOT / "var"
    database_url: str = ""  # empty: SQLite file var/deskql.sqlite3
    db_pool_size: int = 10
    broadcast_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = 8000
    # Migrate automatically on start; None means "only for the embedded SQLite default".
    auto_migrate: bool | None = None
    org_name: str = "Zylker"
    org_slug: str = "zylker"
    org_edition: str = "ENTERPRISE"
    mail_domain: str = "deskql.local"
    introspection: bool = True
    graphiql: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_body_bytes: int = 1_000_000
    max_page_size: int = 100
    allowed_origins: list[str] = field(default_factory=list)
    session_token_days: int = 30
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    attachment_max_bytes: int = 25 * 1024 * 1024
    # Inbound SMTP (the email channel): in `deskql serve` by default, or `deskql smtp`.
    smtp_enabled: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_hostname: str = "deskql.local"
    smtp_max_message_bytes: int = 25 * 1024 * 1024
    smtp_auth_user: str = ""
    smtp_auth_password: str = ""
    smtp_tls_cert: str = ""
    smtp_tls_key: str = ""
    # Outbound mail: the relay every reply goes through unless its From address has its own
    # SMTP server (EM-7). relay_security: PLAIN, SSL (implicit TLS) or TLS (STARTTLS).
    relay_host: str = "127.0.0.1"
    relay_port: int = 25
    relay_user: str = ""
    relay_password: str = ""
    relay_security: str = "PLAIN"
    relay_timeout_seconds: int = 30
    relay_verify_certificates: bool = True
    # Encrypts secrets at rest (From addresses' SMTP passwords); empty: a key generated once
    # under var/ (set it for scale-out: every process needs the same key).
    secret_key: str = ""
    # Where links in emails point (From address verification).
    public_base_url: str = "http://127.0.0.1:8000"
    outbox_enabled: bool = True
    outbox_interval_ms: int = 1000
    outbox_max_attempts: int = 8
    outbox_backoff_ms: int = 2000
    outbox_batch_size: int = 50
    # Total attachment bytes one outgoing email may carry.
    outbound_attachment_max_bytes: int = 20 * 1024 * 1024
    from_address_token_hours: int = 24
    # Allocations between the garbage collector's young-generation passes in a server process
    # (Python's default is 700; 0 keeps it). A server holds many long-lived objects per
    # WebSocket (tasks, generators, queues): at 700, full collections over them paused the
    # process for up to 0.6 s with 1,000 subscribers and took ~45% of its CPU (bench/fanout.py).
    gc_threshold: int = 50_000
    # How long a process serves a rendered /kb page (or its 301/404) from memory; changes made
    # by the same process show at once, others' within this time. 0: no cache.
    kb_page_cache_ms: int = 5000

    @property
    def attachments_dir(self) -> Path:
        """Folder where attachment bodies are stored by sha256."""
        return self.var_dir / "attachments"

    @property
    def mail_dir(self) -> Path:
        """Folder where raw inbound messages are stored by sha256."""
        return self.var_dir / "mail"

    @property
    def db_url(self) -> str:
        """The effective database URL (SQLite file under var/ when none is set)."""
        if self.database_url:
            return self.database_url
        return f"sqlite://{self.var_dir / 'deskql.sqlite3'}"

    @property
    def is_embedded_db(self) -> bool:
        """True when the database is the embedded SQLite default or another SQLite file."""
        return self.db_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        """Whether the server applies pending migrations itself on start."""
        if self.auto_migrate is not None:
            return self.auto_migrate
        return not self.database_url

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from DESKQL_* variables (`env` defaults to os.environ)."""
        env = dict(os.environ if env is None else env)
        kwargs: dict[str, Any] = {}
        for f in cls.__dataclass_fields__.values():
            key = "DESKQL_" + f.name.upper()
            if key not in env:
                continue
            raw = env[key]
            default = f.default
            if f.name == "var_dir":
                kwargs[f.name] = Path(raw).resolve()
            elif f.name == "allowed_origins":
                kwargs[f.name] = _list(raw)
            elif f.name == "auto_migrate":
                kwargs[f.name] = None if raw.strip() == "" else _bool(raw)
            elif isinstance(default, bool):
                kwargs[f.name] = _bool(raw)
            elif isinstance(default, int):
                try:
                    kwargs[f.name] = int(raw)
                except ValueError:
                    raise ValueError(f"{key} must be a whole number, got {raw!r}") from None
            else:
                kwargs[f.name] = raw
        kwargs.update(overrides)
        settings = cls(**kwargs)
        if settings.org_edition.upper() not in {"FREE", "STANDARD", "PROFESSIONAL", "ENTERPRISE"}:
            raise ValueError(
                "DESKQL_ORG_EDITION must be FREE, STANDARD, PROFESSIONAL or ENTERPRISE"
            )
        if settings.gc_threshold < 0:
            raise ValueError("DESKQL_GC_THRESHOLD must be 0 (Python's default) or more")
        if settings.relay_security.upper() not in {"PLAIN", "SSL", "TLS"}:
            raise ValueError("DESKQL_RELAY_SECURITY must be PLAIN, SSL or TLS")
        return replace(
            settings,
            org_edition=settings.org_edition.upper(),
            relay_security=settings.relay_security.upper(),
        )
