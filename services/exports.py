"""CSV exports of contact, account and ticket views (CUS-7).

`create_export` checks the view now and returns a signed, expiring, single-use URL
(services.signed_urls) a browser can follow; `open_export` checks the URL, the agent and the
view again at download time (an agent who lost the view, or was deactivated, gets nothing),
and `csv_chunks` streams the rows: keyset pages of CHUNK rows by id, each written with the
standard library's csv writer, so memory stays flat however many rows there are. The file is
UTF-8 with a byte order mark (spreadsheet programs then show Polish and Chinese names), and a
cell beginning with =, +, -, @, tab or carriage return is prefixed with ' so no spreadsheet
runs it as a formula (OWASP CSV injection). Rows come in id order (the order they were added).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import TicketPriority
from deskql.services import customer_views, signed_urls, views
from deskql.services.auth import Actor, load_actor
from deskql.services.errors import ClientError
from deskql.settings import Settings

CHUNK = 2000
PATH = "/exports/csv"
KINDS = ("CONTACT", "ACCOUNT", "TICKET")
_DANGEROUS_FIRST = frozenset(("=", "+", "-", "@", "\t", "\r"))

# kind -> [(CSV header, ORM value path)]
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "CONTACT": [
        ("First name", "first_name"),
        ("Last name", "last_name"),
        ("Email", "email"),
        ("Secondary email", "secondary_email"),
        ("Phone", "phone"),
        ("Mobile", "mobile"),
        ("Account", "account__name"),
        ("Owner", "owner__email"),
        ("Added", "created_at"),
    ],
    "ACCOUNT": [
        ("Name", "name"),
        ("Email", "email"),
        ("Phone", "phone"),
        ("Website", "website"),
        ("Owner", "owner__email"),
        ("Added", "created_at"),
    ],
    "TICKET": [
        ("Number", "number"),
        ("Subject", "subject"),
        ("Status", "status"),
        ("Priority", "priority"),
        ("Department", "department__name"),
        ("Contact", "contact__email"),
        ("Assignee", "assignee_agent__email"),
        ("Created", "created_at"),
        ("Due", "due_at"),
    ],
}


class ExportGone(ClientError):
    """The export's view or agent is no longer there for this URL's holder."""

    code = "NOT_FOUND"


@dataclass(frozen=True)
class ViewRef:
    """A view to export: a standard one by name, or a saved one by id."""

    kind: str
    standard: str | None = None
    saved_id: int | None = None

    def encode(self) -> str:
        """The view as a URL parameter."""
        return f"std:{self.standard}" if self.standard else f"id:{self.saved_id}"

    @classmethod
    def decode(cls, kind: str, value: str) -> ViewRef:
        """A view from its URL parameter (ExportGone when malformed)."""
        prefix, _, rest = value.partition(":")
        if kind not in KINDS:
            raise ExportGone("no such export")
        if prefix == "std" and rest:
            return cls(kind, standard=rest)
        if prefix == "id" and rest.isdigit():
            return cls(kind, saved_id=int(rest))
        raise ExportGone("no such view")


async def view_query(actor: Actor, ref: ViewRef) -> QuerySet[Any]:
    """The rows of the view as the actor may see them now; ExportGone when they may not."""
    try:
        if ref.kind == "TICKET":
            which: Any = views.StandardView(ref.standard) if ref.standard else ref.saved_id
            view = await views.get_view(actor, view=which)
            return views.view_tickets(actor, view=view)
        which = customer_views.StandardCustomerView(ref.standard) if ref.standard else ref.saved_id
        cview = await customer_views.get_view(actor, kind=ref.kind, view=which)
        return customer_views.query(actor, kind=ref.kind, view=cview)
    except (ValueError, views.ViewNotFound, customer_views.CustomerViewNotFound):
        raise ExportGone("the view does not exist or you may no longer see it") from None


async def create_export(actor: Actor, settings: Settings, *, ref: ViewRef) -> tuple[str, datetime]:
    """A signed, expiring download URL of the view as CSV (the view is checked now too)."""
    await view_query(actor, ref)
    path, expires_at = signed_urls.sign(
        settings,
        path=PATH,
        actor_id=actor.agent_id,
        params={"kind": ref.kind, "view": ref.encode()},
    )
    return signed_urls.absolute(settings, path), expires_at


async def open_export(settings: Settings, query: dict[str, str]) -> tuple[ViewRef, QuerySet[Any]]:
    """Check a download URL (signature, expiry, first use), its agent and view; the rows."""
    signed = signed_urls.verify(settings, path=PATH, query=query)
    agent = await models.Agent.filter(id=signed.actor_id).first()
    if agent is None or not agent.is_active:
        raise ExportGone("the agent of this link cannot export any more")
    ref = ViewRef.decode(signed.params.get("kind", ""), signed.params.get("view", ""))
    actor = await load_actor(signed.actor_id)
    rows = await view_query(actor, ref)
    await signed_urls.consume(signed)
    return ref, rows


def safe_cell(value: Any) -> str:
    """A value as CSV text, neutralised against formula injection."""
    if value.__class__ is str:  # the common case first: most cells are text
        return "'" + value if value[:1] in _DANGEROUS_FIRST else value
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.name
    elif isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in _DANGEROUS_FIRST else text


def _priority_name(value: Any) -> Any:
    """A ticket priority by name (the raw row holds its number)."""
    try:
        return TicketPriority(int(value)).name
    except (TypeError, ValueError):
        return value


async def _fetch(query: Any) -> list[Any]:
    """Run a values_list query as raw rows: the driver's values, without the ORM's per-value
    conversion (a fifth of the export's time)."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    _, rows = await query._db.execute_query(sql, params)
    return rows


async def csv_chunks(
    ref: ViewRef, rows: QuerySet[Any], *, on_chunk: Callable[[int], None] | None = None
) -> AsyncIterator[bytes]:
    """The view as UTF-8 CSV with a BOM, a chunk of rows at a time (constant memory)."""
    columns = COLUMNS[ref.kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([header for header, _ in columns])
    yield buffer.getvalue().encode("utf-8")
    last = 0
    paths = [path for _, path in columns]
    priority = paths.index("priority") if "priority" in paths else None
    while True:
        page = await _fetch(
            rows.filter(id__gt=last).order_by("id").limit(CHUNK).values_list("id", *paths)
        )
        if not page:
            return
        last = page[-1][0]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if priority is None:
            writer.writerows([safe_cell(v) for v in tuple(row)[1:]] for row in page)
        else:
            for row in page:
                values = list(tuple(row)[1:])
                values[priority] = _priority_name(values[priority])
                writer.writerow([safe_cell(v) for v in values])
        if on_chunk is not None:
            on_chunk(len(page))
        yield buffer.getvalue().encode("utf-8")
