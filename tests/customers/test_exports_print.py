"""CSV exports of views (CUS-7) and the printable ticket (TIC-11), both behind signed,
expiring, single-use URLs: content, encoding, formula neutralising, and refused links."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.services import exports, signed_urls, ticket_print, tickets
from deskql.services.auth import load_actor
from deskql.settings import Settings
from tests.conftest import GQLClient, World, gid

EXPORT = """
mutation($kind: ExportKind!, $view: ID!) {
  exportCreate(input: {kind: $kind, viewId: $view}) { errors { field code } url expiresAt }
}
"""


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _export(gql: GQLClient, token: str, kind: str, view: str) -> str:
    data = (await gql.as_(token)(EXPORT, {"kind": kind, "view": view})).data["exportCreate"]
    assert data["errors"] == [], data
    assert data["url"].startswith("http") and data["expiresAt"]
    return _local(data["url"])


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_contact_export_streams_utf8_csv_without_formulas(
    world: World, gql: GQLClient, http: httpx.AsyncClient
) -> None:
    acme = await models.Account.create(name='=HYPERLINK("http://x")')
    await models.Contact.create(first_name="Łukasz", last_name="Żółć", email="l@example.pl")
    await models.Contact.create(first_name="小明", last_name="王", account=acme)
    await models.Contact.create(first_name="+48 600", last_name="-1", secondary_email="@x.com")
    await models.Contact.create(first_name="=cmd|' /C calc'!A0", last_name='Evil, "quoted"')
    url = await _export(gql, world.alice_token, "CONTACT", "standard:CONTACT:ALL")
    assert "token" not in url and "sig=" in url and "exp=" in url

    resp = await http.get(url)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    rows = _rows(resp.content)
    assert rows[0][:3] == ["First name", "Last name", "Email"]
    body = {(r[0], r[1]): r for r in rows[1:]}
    assert len(body) == 5  # world.contact and four more
    assert ("Łukasz", "Żółć") in body and ("小明", "王") in body
    assert body[("小明", "王")][6] == '\'=HYPERLINK("http://x")'
    assert ("'+48 600", "'-1") in body
    assert body[("'+48 600", "'-1")][3] == "'@x.com"
    assert ("'=cmd|' /C calc'!A0", 'Evil, "quoted"') in body

    # Used once: a second GET is a replay.
    again = await http.get(url)
    assert again.status_code == 410 and "used" in again.text


async def test_refused_links(
    world: World, gql: GQLClient, http: httpx.AsyncClient, settings: Settings
) -> None:
    url = await _export(gql, world.alice_token, "CONTACT", "standard:CONTACT:ALL")
    path, query = url.split("?", 1)
    params = dict(parse_qsl(query))
    for change in ({"view": "std:MINE"}, {"actor": str(world.admin.id)}, {"sig": "0" * 64}):
        tampered = f"{path}?{urlencode({**params, **change})}"
        assert (await http.get(tampered)).status_code == 403
    assert (await http.get(path)).status_code == 403  # not signed at all
    # Expired.
    actor = await load_actor(world.alice.id)
    expired, _ = await exports.create_export(
        actor,
        replace(settings, signed_url_seconds=0),
        ref=exports.ViewRef("CONTACT", standard="ALL"),
    )
    resp = await http.get(_local(expired))
    assert resp.status_code == 410 and "expired" in resp.text
    # The untampered link still works once (the refusals did not use it up).
    assert (await http.get(url)).status_code == 200
    assert await models.SignedUrlUse.all().count() == 1


async def test_export_of_a_view_no_longer_visible(
    world: World, gql: GQLClient, http: httpx.AsyncClient
) -> None:
    create = """
    mutation { customerViewCreate(input: {kind: CONTACT, name: "Shared", isShared: true,
      contactCriteria: {text: "melissa"}}) { view { id } } }
    """
    view = (await gql.as_(world.admin_token)(create)).data["customerViewCreate"]["view"]["id"]
    url = await _export(gql, world.bob_token, "CONTACT", view)
    unshare = (
        "mutation($id: ID!) { customerViewUpdate(input: {id: $id, isShared: false}) "
        "{ errors { code } } }"
    )
    assert (await gql.as_(world.admin_token)(unshare, {"id": view})).data["customerViewUpdate"][
        "errors"
    ] == []
    resp = await http.get(url)
    assert resp.status_code == 404
    assert await models.SignedUrlUse.all().count() == 0  # refused before use
    # Asking for an export of a view you may not see: NOT_FOUND in the payload.
    data = (await gql.as_(world.bob_token)(EXPORT, {"kind": "CONTACT", "view": view})).data
    assert data["exportCreate"]["errors"] == [{"field": "viewId", "code": "NOT_FOUND"}]
    assert data["exportCreate"]["url"] is None
    bad = (await gql.as_(world.bob_token)(EXPORT, {"kind": "ACCOUNT", "view": "nonsense"})).data
    assert bad["exportCreate"]["errors"] == [{"field": "viewId", "code": "INVALID"}]


async def test_ticket_and_account_view_exports(
    world: World, gql: GQLClient, http: httpx.AsyncClient
) -> None:
    for dept, subject in ((world.support, "Printer on fire"), (world.sales, "Quote please")):
        await tickets.create_ticket(
            None, subject=subject, department_id=dept.id, contact_id=world.contact.id
        )
    await tickets.create_ticket(
        None,
        subject="Old",
        department_id=world.support.id,
        contact_id=world.contact.id,
        status=TicketStatus.CLOSED,
    )
    rows = _rows(
        (
            await http.get(await _export(gql, world.alice_token, "TICKET", "standard:ALL_OPEN"))
        ).content
    )
    assert [r[1] for r in rows[1:]] == ["Printer on fire"]  # Alice sees Support only
    assert (
        rows[1][2] == "OPEN"
        and rows[1][3] == "MEDIUM"
        and rows[1][4] == "Support"
        and rows[1][5] == "melissa@example.com"
    )
    await models.Account.create(name="Acme")
    rows = _rows(
        (
            await http.get(await _export(gql, world.bob_token, "ACCOUNT", "standard:ACCOUNT:ALL"))
        ).content
    )
    assert rows[1][0] == "Acme"


async def test_print_view(
    world: World, gql: GQLClient, http: httpx.AsyncClient, settings: Settings
) -> None:
    ticket = await tickets.create_ticket(
        None,
        subject="Printer <b>on fire</b>",
        department_id=world.support.id,
        contact_id=world.contact.id,
    )
    incoming = await models.Thread.create(
        ticket=ticket, direction="INCOMING", body_text="It burns", author_contact=world.contact
    )
    note = await models.Comment.create(ticket=ticket, body="Private note", author=world.alice)
    await models.Thread.create(
        ticket=ticket,
        direction="OUTGOING",
        body_text="",
        body_html="<p>Try water<script>x()</script></p>",
        author_agent=world.alice,
    )
    await models.Attachment.create(
        ticket=ticket,
        thread=incoming,
        filename="fire.jpg",
        content_type="image/jpeg",
        size=10,
        sha256="a" * 64,
    )
    await models.Attachment.create(
        ticket=ticket,
        comment=note,
        filename="notes.txt",
        content_type="text/plain",
        size=3,
        sha256="b" * 64,
    )
    query = "query($id: ID!) { ticket(id: $id) { printUrl } }"
    data = (await gql.as_(world.alice_token)(query, {"id": gid("Ticket", ticket.id)})).data
    url = _local(data["ticket"]["printUrl"])
    resp = await http.get(url)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "Printer &lt;b&gt;on fire&lt;/b&gt;" in html  # escaped
    assert html.index("It burns") < html.index("Private note") < html.index("Try water")
    assert "<script>" not in html
    assert html.count("Private</span>") == 1 and html.count("Public</span>") == 2
    assert "fire.jpg" in html and "notes.txt" in html
    assert "/static/deskql.css" in html
    assert (await http.get(url)).status_code == 410  # single use
    # Bob (Sales) cannot see the ticket: no printUrl, and a link signed for him is refused.
    hidden = await gql.as_(world.bob_token)(query, {"id": gid("Ticket", ticket.id)})
    assert hidden.body["data"]["ticket"] is None
    bob = await load_actor(world.bob.id)
    link = ticket_print.print_url(bob, settings, ticket_id=ticket.id)
    assert (await http.get(_local(link))).status_code == 404
    # A print link does not open another ticket.
    other = await tickets.create_ticket(
        None, subject="x", department_id=world.support.id, contact_id=world.contact.id
    )
    alice = await load_actor(world.alice.id)
    link = _local(ticket_print.print_url(alice, settings, ticket_id=ticket.id))
    moved = link.replace(f"/tickets/{ticket.id}?", f"/tickets/{other.id}?")
    assert (await http.get(moved)).status_code == 403


def test_signatures_cover_every_part(settings: Settings) -> None:
    path, _ = signed_urls.sign(settings, path="/p", actor_id=1, params={"a": "1"})
    query = dict(parse_qsl(path.split("?", 1)[1]))
    assert signed_urls.verify(settings, path="/p", query=query).params == {"a": "1"}
    other = replace(settings, secret_key="another key")
    try:
        signed_urls.verify(other, path="/p", query=query)
    except signed_urls.SignedUrlError as exc:
        assert exc.reason == "INVALID"
    else:
        raise AssertionError("a URL signed with another key was accepted")
