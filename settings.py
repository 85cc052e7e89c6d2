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
    # SQLite's page cache per connection (PRAGMA cache_size); SQLite's own default is 2 MiB,
    # which a search over a few thousand matches outgrows (every row read again from the OS).
    sqlite_cache_mib: int = 64
    # A SELECT outside a transaction is read in the event loop on a read-only connection,
    # interrupted after this many ms and run on aiosqlite's thread instead (0: always there).
    sqlite_loop_read_ms: int = 10
    # Threads (each with its own read-only connection) that run the SELECTs over that budget
    # side by side (0: aiosqlite's one thread, behind the writes).
    sqlite_read_threads: int = 2
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
    # Introspection without a token (off: it needs one, like every query; on for local tools).
    public_introspection: bool = False
    graphiql: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 4000
    max_body_bytes: int = 1_000_000
    max_page_size: int = 100
    # totalCount counts at most this many items; past it, the cap and totalCountIsEstimate
    # (0: always an exact count).
    total_count_cap: int = 10000
    # Static cost budget of one operation (schema/cost.py); 0: no limit.
    max_query_cost: int = 50_000
    # Queries the lean executor can answer skip graphql-core's field-by-field execution
    # (deskql/readpath); `readpath_verify` also runs the full executor and fails on any
    # difference (the test suite turns it on).
    readpath: bool = True
    readpath_verify: bool = False
    # Pages of the root lists whose selection the compiled path covers are read as rows of
    # the selected columns and serialised without field resolvers (deskql/readpath/compiled).
    readpath_compiled: bool = True
    # Longest an HTTP operation may run, and the largest JSON response it may return.
    request_timeout_seconds: int = 30
    max_response_bytes: int = 20_000_000
    allowed_origins: list[str] = field(default_factory=list)
    session_token_days: int = 30
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    # Password hashes (argon2, password_memory_kib each) one process computes at once; more
    # wait their turn, so a flood of sign-ins cannot exhaust memory.
    password_hash_concurrency: int = 2
    # Sign-in throttling (services/throttle.py), per account and per client address, shared
    # by every process through the database: this many failures within the window are free,
    # then each failure blocks for base * 2^(n-1) ms, at most max.
    login_free_failures: int = 5
    login_address_free_failures: int = 50
    login_block_base_ms: int = 1000
    login_block_max_ms: int = 900_000
    login_window_seconds: int = 900
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
    # Empty: no relay; outgoing mail is written to the local mail folder (var/mail/*.eml).
    relay_host: str = ""
    relay_port: int = 25
    relay_user: str = ""
    relay_password: str = ""
    relay_security: str = "PLAIN"
    relay_timeout_seconds: int = 30
    relay_verify_certificates: bool = True
    # Encrypts secrets at rest (From addresses' SMTP passwords); empty: a key generated once
    # under var/ (set it for scale-out: every process needs the same key).
    secret_key: str = ""
    # Where links in emails point (From address verification); empty: http://host:port.
    public_base_url: str = ""
    outbox_enabled: bool = True
    outbox_interval_ms: int = 1000
    outbox_max_attempts: int = 8
    outbox_backoff_ms: int = 2000
    outbox_batch_size: int = 50
    # Total attachment bytes one outgoing email may carry.
    outbound_attachment_max_bytes: int = 20 * 1024 * 1024
    from_address_token_hours: int = 24
    # Outbound webhooks (services/webhooks): the worker of this process, and the targets it
    # may reach. Private, loopback and link-local addresses are refused unless allowed.
    webhook_worker_enabled: bool = True
    webhook_allow_private: bool = False
    webhook_interval_ms: int = 1000
    webhook_timeout_ms: int = 10_000
    webhook_max_attempts: int = 8
    webhook_backoff_ms: int = 2000
    # Failed attempts in a row after which a webhook is switched off (administrators told).
    webhook_disable_after: int = 15
    webhook_batch_size: int = 50
    # Requests a worker has in flight at once per webhook.
    webhook_concurrency: int = 4
    # Bytes of a response read at most (the rest is not read); the log keeps 1 KB of it.
    webhook_response_cap_bytes: int = 65536
    # Days the delivery log keeps ended deliveries (0: for ever).
    webhook_log_days: int = 30
    # Reminders of tasks and events (ACT-1): every process delivers due ones, each once.
    reminders_enabled: bool = True
    reminder_interval_ms: int = 1000
    reminder_batch_size: int = 100
    # Telephony (ACT-2). Call events POSTed to /telephony/events are signed with this secret
    # (HMAC-SHA256 over "<timestamp>.<raw body>"); empty refuses every event.
    telephony_secret: str = ""
    telephony_replay_seconds: int = 300
    telephony_max_event_bytes: int = 65536
    # Region for numbers written without a country code (ISO 3166 alpha-2).
    telephony_default_region: str = "US"
    # An unknown caller becomes a contact; a caller without an open ticket gets a new one.
    telephony_create_contacts: bool = True
    telephony_create_tickets: bool = False
    # Department of calls no agent or ticket places (name or id; empty: the first one).
    telephony_department: str = ""
    # Click-to-dial through Asterisk ARI (REST): base URL like http://pbx:8088 (empty: off).
    ari_url: str = ""
    ari_user: str = ""
    ari_password: str = ""
    ari_app: str = "deskql"
    # The agent's channel ({extension} is replaced) and where the answered call goes next.
    ari_endpoint: str = "PJSIP/{extension}"
    ari_context: str = "from-internal"
    ari_caller_id: str = ""
    ari_timeout_seconds: int = 10
    # Allocations between the garbage collector's young-generation passes in a server process
    # (Python's default is 700; 0 keeps Python's settings). A server holds many long-lived
    # objects per WebSocket (tasks, generators, queues): at 700, full collections over them
    # paused the process for up to 0.6 s with 1,000 subscribers and took ~45% of its CPU
    # (bench/fanout.py). Full collections are kept rare by server.tune_gc whatever this is; a
    # young pass frees the cyclic garbage of the requests since the last one (~100-150
    # objects a GraphQL request) in one pause: at 200,000 that was ~150,000 objects and a
    # 270 ms stall of every request in flight every few seconds, at 10,000 ~15 ms
    # (bench/README.md, "The garbage collector's pauses").
    gc_threshold: int = 10_000
    # --- Operating the server (serving/): CORS, logs, metrics, readiness, persisted queries.
    # Browsers on the allowed_origins may call the API over HTTP too (CORS); with credentials
    # off (the default) no cookie or HTTP auth is sent cross-origin: tokens go in a header.
    cors_allow_credentials: bool = False
    cors_max_age_seconds: int = 600
    log_format: str = "text"  # text or json
    log_level: str = "info"
    log_requests: bool = True
    metrics_enabled: bool = True
    # When set, GET /metrics needs `Authorization: Bearer <metrics_token>`.
    metrics_token: str = ""
    # /ready fails when the oldest due outgoing email has waited longer than this.
    ready_outbox_max_age_seconds: int = 900
    ready_timeout_ms: int = 2000
    # Automatic persisted queries (Apollo's protocol): hashes remembered per process.
    persisted_queries_cache_size: int = 1000
    # A JSON file of the only operations accepted (production); empty: any operation.
    persisted_queries_allowlist: str = ""

    @property
    def base_url(self) -> str:
        """Where links in emails point: public_base_url, or this server's host and port."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = self.host
        if host in {"", "0.0.0.0"}:
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def relay_configured(self) -> bool:
        """Whether outgoing mail goes to an SMTP relay (else: to the local mail folder)."""
        return bool(self.relay_host.strip())

    # Customers (issue 15). Region national phone numbers are read in when comparing them
    # (ISO 3166, e.g. PL); empty: only international (+...) numbers are parsed.
    phone_region: str = ""
    # Signed URLs of exports and print views (services.signed_urls): how long they work.
    signed_url_seconds: int = 300
    # The CRM connector (services/crm): HubSpot's CRM v3 objects API. Empty base URL: none.
    crm_base_url: str = ""
    crm_token: str = ""
    crm_contact_properties: str = "firstname,lastname,email,phone,company,lifecyclestage"
    crm_company_properties: str = "name,domain,phone,industry"
    # A link to the record in the CRM's own UI; {id} and {object} (contacts or companies).
    crm_record_url: str = ""
    crm_timeout_ms: int = 5000
    crm_retries: int = 2

    # How long a process serves a rendered /kb page (or its 301/404) from memory; changes made
    # by the same process show at once, others' within this time. 0: no cache.
    kb_page_cache_ms: int = 5000

    # How long a process answers a bearer token from the Actor it resolved before (agent,
    # role, departments), and how many it keeps (least recently used go first). A revocation,
    # deactivation or department change made through any process drops the entries at once
    # there and within the broadcast's latency elsewhere; this is the bound otherwise. 0: none.
    auth_cache_ms: int = 5000
    auth_cache_size: int = 10000

    @property
    def attachments_dir(self) -> Path:
        """Folder where attachment bodies are stored by sha256."""
        return self.var_dir / "attachments"

    @property
    def mail_dir(self) -> Path:
        """Folder where raw inbound messages are stored by sha256."""
        return self.var_dir / "mail"

    @property
    def outgoing_mail_dir(self) -> Path:
        """Folder where outgoing email is written as .eml files when no relay is configured."""
        return self.mail_dir / "outgoing"

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
        if settings.password_hash_concurrency < 1:
            raise ValueError("DESKQL_PASSWORD_HASH_CONCURRENCY must be 1 or more")
        if settings.auth_cache_ms < 0 or settings.auth_cache_size < 0:
            raise ValueError("DESKQL_AUTH_CACHE_MS and DESKQL_AUTH_CACHE_SIZE must be 0 or more")
        if settings.sqlite_cache_mib < 0:
            raise ValueError("DESKQL_SQLITE_CACHE_MIB must be 0 (SQLite's default) or more")
        if settings.sqlite_loop_read_ms < 0:
            raise ValueError("DESKQL_SQLITE_LOOP_READ_MS must be 0 (never) or more")
        if settings.sqlite_read_threads < 0:
            raise ValueError("DESKQL_SQLITE_READ_THREADS must be 0 (aiosqlite's thread) or more")
        if settings.gc_threshold < 0:
            raise ValueError("DESKQL_GC_THRESHOLD must be 0 (Python's default) or more")
        if settings.relay_security.upper() not in {"PLAIN", "SSL", "TLS"}:
            raise ValueError("DESKQL_RELAY_SECURITY must be PLAIN, SSL or TLS")
        if settings.log_format.lower() not in {"text", "json"}:
            raise ValueError("DESKQL_LOG_FORMAT must be text or json")
        if settings.log_level.lower() not in {"debug", "info", "warning", "error", "critical"}:
            raise ValueError("DESKQL_LOG_LEVEL must be debug, info, warning, error or critical")
        if "*" in settings.allowed_origins and settings.cors_allow_credentials:
            raise ValueError(
                "DESKQL_CORS_ALLOW_CREDENTIALS needs explicit DESKQL_ALLOWED_ORIGINS, not *"
            )
        return replace(
            settings,
            org_edition=settings.org_edition.upper(),
            relay_security=settings.relay_security.upper(),
            log_format=settings.log_format.lower(),
            log_level=settings.log_level.lower(),
        )
