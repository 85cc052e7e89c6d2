"""Email templates (TIC-10) with safe placeholders, the tag follow-up (TIC-6), ticket
templates, and drafts (TIC-8) saved idempotently, sent and discarded."""

from __future__ import annotations

import pytest

from deskql import models
from deskql.services import auth, drafts, replies, templates
from deskql.services.errors import ValidationFailed
from deskql.services.tickets import add_tags
from deskql.settings import Settings
from tests.conftest import make_agent
from tests.outbound.conftest import Sink, deliver_all, email_ticket, relay_settings


async def test_template_renders_whitelisted_fields_only(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    alice = await auth.load_actor(world.alice.id)
    tpl = await templates.save_template(
        alice,
        name="Thanks",
        subject="About {{ ticket.subject }}",
        body_text="Hello {{contact.first_name}},\nticket {{ticket.number}} - {{agent.name}}",
        body_html="<p>Hello {{contact.first_name}} of {{department.name}}</p>",
    )
    await models.Contact.filter(id=world.contact.id).update(first_name="<b>Mel</b>")
    ticket = await email_ticket(world)
    sent = await replies.send_reply(alice, settings=cfg, ticket_id=ticket.id, template_id=tpl.id)
    assert sent.thread.subject == "About Printer jam [#1]"
    assert sent.thread.body_text == "Hello <b>Mel</b>,\nticket 1 - A Alice"
    # Values are escaped in HTML.
    assert sent.thread.body_html == "<p>Hello &lt;b&gt;Mel&lt;/b&gt; of Support</p>"
    await deliver_all(cfg)
    assert len(sink.received) == 1


@pytest.mark.parametrize(
    "text",
    [
        "{{ticket.secret}}",
        "{{ticket.contact.password_hash}}",
        "{{agent.__class__}}",
        "{{ settings.secret_key }}",
    ],
)
async def test_unknown_placeholder_is_refused(world, text: str):
    alice = await auth.load_actor(world.alice.id)
    with pytest.raises(ValidationFailed) as exc:
        await templates.save_template(alice, name="Bad", body_text=f"Hi {text}")
    (err,) = exc.value.errors
    assert (err.field, err.code) == ("bodyText", "INVALID")
    assert "unknown placeholder" in err.message
    assert await models.EmailTemplate.all().count() == 0


async def test_personal_and_shared_visibility(world):
    alice = await auth.load_actor(world.alice.id)
    bob = await auth.load_actor(world.bob.id)
    folder = await templates.create_folder(alice, name="Mine")
    mine = await templates.save_template(alice, name="Mine", body_text="x", folder_id=folder.id)
    shared = await templates.save_template(
        alice, name="Team", body_text="y", department_id=world.support.id
    )
    assert {t.id for t in await templates.visible_templates(alice)} == {mine.id, shared.id}
    assert await templates.visible_templates(bob).count() == 0
    with pytest.raises(ValidationFailed) as exc:
        await templates.save_template(bob, name="X", body_text="z", folder_id=folder.id)
    assert exc.value.errors[0].field == "folderId"
    with pytest.raises(ValidationFailed):
        await templates.save_template(bob, name="X", body_text="z", department_id=world.support.id)
    with pytest.raises(ValidationFailed):
        await templates.delete_template(bob, template_id=shared.id)
    await templates.delete_template(alice, template_id=shared.id)
    assert not await models.EmailTemplate.exists(id=shared.id)


async def test_follow_up_to_every_ticket_with_a_tag(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    alice = await auth.load_actor(world.alice.id)
    first = await email_ticket(world)
    second = await email_ticket(world)
    await email_ticket(world)  # untagged
    for t in (first, second):
        await add_tags(alice, ticket_id=t.id, names=["recall"])
    tpl = await templates.save_template(
        alice, name="Recall", subject="Recall notice", body_text="Ticket {{ticket.number}}"
    )
    done = await templates.follow_up_tag(alice, settings=cfg, tag="recall", template_id=tpl.id)
    assert done == [first.id, second.id]
    await deliver_all(cfg)
    subjects = sorted(r.message["Subject"] for r in sink.received)
    assert subjects == [f"Recall notice [#{first.number}]", f"Recall notice [#{second.number}]"]


async def test_ticket_template(world):
    alice = await auth.load_actor(world.alice.id)
    row = await templates.create_ticket_template(
        alice, department_id=world.support.id, name="RMA", subject="Return", priority=3
    )
    assert [t.id for t in await templates.visible_ticket_templates(alice)] == [row.id]
    bob = await auth.load_actor(world.bob.id)
    assert await templates.visible_ticket_templates(bob).count() == 0
    with pytest.raises(ValidationFailed):
        await templates.create_ticket_template(bob, department_id=world.support.id, name="X")


async def test_draft_autosave_is_idempotent_then_sent(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    alice = await auth.load_actor(world.alice.id)
    ticket = await email_ticket(world)
    one = await drafts.save_draft(alice, ticket_id=ticket.id, client_key="tab-1", body_text="Hel")
    two = await drafts.save_draft(
        alice, ticket_id=ticket.id, client_key="tab-1", body_text="Hello", cc=["x@example.com"]
    )
    assert one.id == two.id and two.saved_at >= one.saved_at
    three = await drafts.save_draft(alice, ticket_id=ticket.id, draft_id=one.id, body_text="Hi!")
    assert three.id == one.id
    assert await models.Draft.all().count() == 1
    assert await models.Activity.filter(kind="draft.created").count() == 1
    sent = await drafts.send_draft(alice, settings=cfg, draft_id=one.id)
    assert sent.thread.body_text == "Hi!"
    assert await models.Draft.all().count() == 0
    await deliver_all(cfg)
    assert sink.received[0].rcpt_tos[0] == "melissa@example.com"


async def test_draft_visibility_and_discard(world, settings: Settings, sink: Sink):
    cfg = relay_settings(settings, sink)
    alice = await auth.load_actor(world.alice.id)
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    carol_actor = await auth.load_actor(carol.id)
    bob = await auth.load_actor(world.bob.id)
    ticket = await email_ticket(world)
    private = await drafts.save_draft(alice, ticket_id=ticket.id, body_text="mine")
    shared = await drafts.save_draft(alice, ticket_id=ticket.id, body_text="ours", is_shared=True)
    assert {d.id for d in await drafts.visible_drafts(alice, ticket.id)} == {private.id, shared.id}
    assert [d.id for d in await drafts.visible_drafts(carol_actor, ticket.id)] == [shared.id]
    assert await drafts.visible_drafts(bob, ticket.id).count() == 0
    with pytest.raises(ValidationFailed):
        await drafts.save_draft(bob, ticket_id=ticket.id, body_text="x")
    with pytest.raises(ValidationFailed):
        await drafts.discard_draft(carol_actor, draft_id=private.id)
    await drafts.discard_draft(alice, draft_id=private.id)
    assert [d.id for d in await models.Draft.all()] == [shared.id]
    # A bad address in a draft is refused when it is sent, and the draft stays.
    bad = await drafts.save_draft(alice, ticket_id=ticket.id, to=["nope"], body_text="x")
    with pytest.raises(ValidationFailed) as exc:
        await drafts.send_draft(alice, settings=cfg, draft_id=bad.id)
    assert exc.value.errors[0].code == "INVALID_EMAIL"
    assert await models.Draft.exists(id=bad.id)
