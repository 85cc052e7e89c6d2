"""From addresses (EM-6..EM-9): verification by a single-use expiring link sent through the
outbox, edition limits, disable and delete, and which ones a reply may use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deskql import models
from deskql.models.enums import Edition
from deskql.services import auth, from_addresses, replies
from deskql.services.errors import PermissionDenied, ValidationFailed
from deskql.settings import Settings
from tests.outbound.conftest import Sink, deliver_all, email_ticket, relay_settings

LINK = re.compile(r"http://desk\.test/verify-from-address/([A-Za-z0-9_-]+)")


async def new_address(world, cfg: Settings, email: str = "billing@zylker.com", dept=None):
    admin = await auth.load_actor(world.admin.id)
    return await from_addresses.create_from_address(
        admin,
        settings=cfg,
        department_id=(dept or world.support).id,
        email=email,
        display_name="Zylker Billing",
    )


async def link_token(sink: Sink, cfg: Settings, to: str) -> str:
    await deliver_all(cfg)
    mails = [r for r in sink.received if to in r.rcpt_tos]
    body = mails[-1].message.get_body(("plain",)).get_content()
    match = LINK.search(body)
    assert match, body
    return match.group(1)


async def test_verification_link_is_single_use(world, settings: Settings, sink: Sink, http):
    cfg = relay_settings(settings, sink)
    addr = await new_address(world, cfg)
    assert addr.is_verified is False
    token = await link_token(sink, cfg, "billing@zylker.com")
    row = await models.FromAddress.get(id=addr.id)
    assert row.token_hash and token not in row.token_hash  # only the hash is stored
    resp = await http.get(f"/verify-from-address/{token}")
    assert resp.status_code == 200 and "billing@zylker.com is verified" in resp.text
    row = await models.FromAddress.get(id=addr.id)
    assert row.is_verified and row.token_hash is None
    assert await models.Activity.filter(kind="from_address.verified").count() == 1
    again = await http.get(f"/verify-from-address/{token}")
    assert again.status_code == 410 and "already used" in again.text
    assert await models.Activity.filter(kind="from_address.verified").count() == 1


async def test_expired_link_and_resend(world, settings: Settings, sink: Sink, http):
    cfg = relay_settings(settings, sink)
    addr = await new_address(world, cfg)
    old = await link_token(sink, cfg, "billing@zylker.com")
    await models.FromAddress.filter(id=addr.id).update(
        token_expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    resp = await http.get(f"/verify-from-address/{old}")
    assert resp.status_code == 410 and "expired" in resp.text
    assert (await models.FromAddress.get(id=addr.id)).is_verified is False
    admin = await auth.load_actor(world.admin.id)
    await from_addresses.resend_verification(admin, settings=cfg, address_id=addr.id)
    new = await link_token(sink, cfg, "billing@zylker.com")
    assert new != old
    # The old link no longer works, the new one does.
    assert (await http.get(f"/verify-from-address/{old}")).status_code == 410
    assert (await http.get(f"/verify-from-address/{new}")).status_code == 200
    with pytest.raises(ValidationFailed) as exc:
        await from_addresses.resend_verification(admin, settings=cfg, address_id=addr.id)
    assert exc.value.errors[0].code == "CONFLICT"
    assert (await http.get("/verify-from-address/not-a-token")).status_code == 410


async def test_reply_from_unverified_disabled_or_other_department(
    world, settings: Settings, sink: Sink
):
    cfg = relay_settings(settings, sink)
    addr = await new_address(world, cfg)
    other = await new_address(world, cfg, "deals@zylker.com", dept=world.sales)
    await models.FromAddress.filter(id=other.id).update(is_verified=True)
    ticket = await email_ticket(world)
    alice = await auth.load_actor(world.alice.id)
    await deliver_all(cfg)
    outbox_before = await models.OutboxMessage.all().count()

    async def refused(address_id: int) -> str:
        with pytest.raises(ValidationFailed) as exc:
            await replies.send_reply(
                alice, settings=cfg, ticket_id=ticket.id, body_text="Hi", from_address_id=address_id
            )
        (err,) = exc.value.errors
        assert (err.field, err.code) == ("fromAddressId", "INVALID")
        return err.message

    assert "not verified" in await refused(addr.id)
    assert "another department" in await refused(other.id)
    await models.FromAddress.filter(id=addr.id).update(is_verified=True)
    admin = await auth.load_actor(world.admin.id)
    await from_addresses.update_from_address(
        admin, settings=cfg, address_id=addr.id, changes={"is_disabled": True}
    )
    assert "disabled" in await refused(addr.id)
    assert await models.OutboxMessage.all().count() == outbox_before
    assert await models.Thread.filter(direction="OUTGOING").count() == 0
    # Hidden from agents once disabled (EM-9); administrators still see it.
    assert await from_addresses.list_from_addresses(alice).count() == 0
    assert await from_addresses.list_from_addresses(admin).count() == 2
    # Enabled again, it sends.
    await from_addresses.update_from_address(
        admin, settings=cfg, address_id=addr.id, changes={"is_disabled": False}
    )
    await replies.send_reply(
        alice, settings=cfg, ticket_id=ticket.id, body_text="Hi", from_address_id=addr.id
    )
    await deliver_all(cfg)
    assert sink.received[-1].mail_from == "billing@zylker.com"


async def test_edition_limit_and_duplicates(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    await models.Organisation.all().update(edition=Edition.FREE)
    await new_address(world, cfg)
    with pytest.raises(ValidationFailed) as exc:
        await new_address(world, cfg, "two@zylker.com")
    assert exc.value.errors[0].code == "LIMIT_EXCEEDED"
    await models.Organisation.all().update(edition=Edition.STANDARD)
    with pytest.raises(ValidationFailed) as exc:
        await new_address(world, cfg)
    assert exc.value.errors[0].code == "DUPLICATE"
    assert await models.FromAddress.all().count() == 1


async def test_bad_input_and_permissions(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    admin = await auth.load_actor(world.admin.id)
    alice = await auth.load_actor(world.alice.id)
    with pytest.raises(PermissionDenied):
        await from_addresses.create_from_address(
            alice, settings=cfg, department_id=world.support.id, email="x@zylker.com"
        )
    with pytest.raises(ValidationFailed) as exc:
        await from_addresses.create_from_address(
            admin,
            settings=cfg,
            department_id=world.support.id,
            email="x@zylker.com",
            display_name="Eve\r\nBcc: a@b.example",
            smtp_settings={"host": "smtp.zylker.com", "port": 2525, "username": "", "password": ""},
        )
    fields = {(e.field, e.code) for e in exc.value.errors}
    assert fields == {
        ("displayName", "INVALID"),
        ("smtpPort", "INVALID"),
        ("smtpUsername", "REQUIRED"),
        ("smtpPassword", "REQUIRED"),
    }
    assert await models.FromAddress.all().count() == 0
    assert await models.OutboxMessage.all().count() == 0


async def test_delete(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    addr = await new_address(world, cfg)
    admin = await auth.load_actor(world.admin.id)
    await from_addresses.delete_from_address(admin, address_id=addr.id)
    assert not await models.FromAddress.exists(id=addr.id)
    assert await models.Activity.filter(kind="from_address.deleted").exists()


def test_spf_record(settings: Settings):
    assert from_addresses.spf_record(settings) == "v=spf1 mx include:deskql.local ~all"


async def test_verify_route_is_not_behind_auth(http: httpx.AsyncClient):
    resp = await http.get("/verify-from-address/abc")
    assert resp.status_code == 410
