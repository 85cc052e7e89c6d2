"""GraphQL of the email channel: support addresses (EM-1, EM-3..EM-5), email settings with
department overrides (EM-13), inbound messages and reprocessing, spam marking (TIC-7)."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.models.enums import Edition, InboundStatus
from deskql.services import support_addresses
from tests.channels.conftest import SUPPORT, Mailer
from tests.conftest import gid

ADDRESSES = """
query { supportAddresses(first: 50) { totalCount nodes {
  id email displayName isDefault isFetching department { name } } } }
"""
CREATE = """
mutation($input: SupportAddressCreateInput!) { supportAddressCreate(input: $input) {
  errors { field message code } supportAddress { id email displayName isFetching
  department { name } } } }
"""
UPDATE = """
mutation($input: SupportAddressUpdateInput!) { supportAddressUpdate(input: $input) {
  errors { field message code } supportAddress { id email displayName isFetching
  department { name } } } }
"""
DELETE = """
mutation($input: SupportAddressDeleteInput!) { supportAddressDelete(input: $input) {
  errors { field message code } supportAddress { id email } } }
"""
SETTINGS = """
query($dept: ID) { emailSettings(departmentId: $dept) {
  department { name } contactFromReplyTo forwardedOnBehalf autoCc
  effective { contactFromReplyTo forwardedOnBehalf autoCc } } }
"""
SETTINGS_UPDATE = """
mutation($input: EmailSettingsUpdateInput!) { emailSettingsUpdate(input: $input) {
  errors { field message code }
  emailSettings { contactFromReplyTo forwardedOnBehalf
    effective { contactFromReplyTo forwardedOnBehalf } } } }
"""
INBOUND = """
query($status: InboundStatus) { inboundMessages(status: $status) { totalCount nodes {
  id status reason subject mailFrom rcptTo size attempts spamScore ticket { number } } } }
"""
REPROCESS = """
mutation($input: InboundMessageReprocessInput!) { inboundMessageReprocess(input: $input) {
  errors { field message code } inboundMessage { status reason attempts ticket { number } } } }
"""
MARK = """
mutation($input: TicketMarkSpamInput!) { ticketMarkSpam(input: $input) {
  errors { field message code } ticket { number isSpam version } } }
"""
UNMARK = """
mutation($input: TicketUnmarkSpamInput!) { ticketUnmarkSpam(input: $input) {
  errors { field message code } ticket { number isSpam } } }
"""
SPAM_VIEW = """
query($spam: Boolean) { tickets(filter: {isSpam: $spam}) { totalCount nodes { number } } }
"""


def mail(
    subject: str, mid: str, sender: str = "Melissa Doe <melissa@example.com>", **h: str
) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in h.items())
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n{extra}"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBody.\r\n"
    ).encode()


# --- support addresses ------------------------------------------------------------------------


async def test_support_addresses_are_for_administrators_only(
    gql: Any, world: Any, settings: Any
) -> None:
    await support_addresses.ensure_default_address(settings)
    res = await gql.as_(world.alice_token)(ADDRESSES)
    assert res.error_codes() == ["FORBIDDEN"]
    res = await gql.as_(world.alice_token)(CREATE, {"input": {"email": "x@zylker.com"}})
    assert res.error_codes() == ["FORBIDDEN"]
    assert await models.SupportAddress.all().count() == 1
    res = await gql(ADDRESSES)
    assert res.error_codes() == ["UNAUTHENTICATED"]


async def test_alias_create_update_delete(gql: Any, world: Any, settings: Any) -> None:
    await support_addresses.ensure_default_address(settings)
    admin = gql.as_(world.admin_token)
    res = await admin(
        CREATE,
        {
            "input": {
                "email": " Sales@Zylker.com ",
                "displayName": "Zylker Sales",
                "departmentId": gid("Department", world.sales.id),
            }
        },
    )
    payload = res.data["supportAddressCreate"]
    assert payload["errors"] == []
    alias = payload["supportAddress"]
    assert alias["email"] == "sales@zylker.com"
    assert alias["displayName"] == "Zylker Sales"
    assert alias["department"] == {"name": "Sales"}
    assert alias["isFetching"] is True
    listed = (await admin(ADDRESSES)).data["supportAddresses"]
    assert listed["totalCount"] == 2
    assert [n["email"] for n in listed["nodes"]] == [SUPPORT, "sales@zylker.com"]
    assert listed["nodes"][0]["isDefault"] is True

    res = await admin(
        UPDATE, {"input": {"id": alias["id"], "isFetching": False, "departmentId": None}}
    )
    updated = res.data["supportAddressUpdate"]
    assert updated["errors"] == []
    assert updated["supportAddress"]["isFetching"] is False
    assert updated["supportAddress"]["department"] is None
    assert updated["supportAddress"]["displayName"] == "Zylker Sales"  # unchanged
    kinds = await models.Activity.filter(subject_type="SupportAddress").values_list(
        "kind", flat=True
    )
    assert kinds == [
        "support_address.created",
        "support_address.created",
        "support_address.updated",
    ]

    res = await admin(DELETE, {"input": {"id": alias["id"]}})
    assert res.data["supportAddressDelete"]["errors"] == []
    assert await models.SupportAddress.all().count() == 1


async def test_alias_validation(gql: Any, world: Any, settings: Any) -> None:
    default = await support_addresses.ensure_default_address(settings)
    admin = gql.as_(world.admin_token)
    cases = [
        ({"email": "not an address"}, "email", "INVALID_EMAIL"),
        ({"email": SUPPORT.upper()}, "email", "DUPLICATE"),
        ({"email": "a@zylker.com", "departmentId": gid("Department", 999)}, "departmentId",
         "NOT_FOUND"),
        ({"email": "a@zylker.com", "departmentId": gid("Agent", 1)}, "departmentId", "INVALID"),
        ({"email": "a@zylker.com", "displayName": "x" * 121}, "displayName", "TOO_LONG"),
    ]  # fmt: skip
    for given, field, code in cases:
        res = await admin(CREATE, {"input": given})
        errors = res.data["supportAddressCreate"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], given
    assert await models.SupportAddress.all().count() == 1
    # The default one keeps its address and cannot be deleted.
    res = await admin(
        UPDATE, {"input": {"id": gid("SupportAddress", default.id), "email": "x@y.com"}}
    )
    assert res.data["supportAddressUpdate"]["errors"][0]["code"] == "INVALID"
    res = await admin(DELETE, {"input": {"id": gid("SupportAddress", default.id)}})
    assert res.data["supportAddressDelete"]["errors"][0]["code"] == "IN_USE"
    res = await admin(DELETE, {"input": {"id": gid("SupportAddress", 999)}})
    assert res.data["supportAddressDelete"]["errors"][0]["code"] == "NOT_FOUND"
    assert await models.SupportAddress.all().count() == 1


async def test_the_last_address_cannot_be_deleted(gql: Any, world: Any) -> None:
    only = await models.SupportAddress.create(email="only@zylker.com")
    res = await gql.as_(world.admin_token)(
        DELETE, {"input": {"id": gid("SupportAddress", only.id)}}
    )
    errors = res.data["supportAddressDelete"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("id", "IN_USE")]
    assert await models.SupportAddress.exists(id=only.id)


async def test_edition_limits_include_the_default(gql: Any, world: Any, settings: Any) -> None:
    await support_addresses.ensure_default_address(settings)
    admin = gql.as_(world.admin_token)
    for edition, limit in [(Edition.FREE, 2), (Edition.STANDARD, 6)]:
        await models.Organisation.all().update(edition=edition)
        count = await models.SupportAddress.all().count()
        for i in range(count, limit):
            res = await admin(CREATE, {"input": {"email": f"{edition.value.lower()}{i}@z.com"}})
            assert res.data["supportAddressCreate"]["errors"] == []
        assert await models.SupportAddress.all().count() == limit
        res = await admin(CREATE, {"input": {"email": f"over-{edition.value.lower()}@z.com"}})
        errors = res.data["supportAddressCreate"]["errors"]
        assert [e["code"] for e in errors] == ["LIMIT_EXCEEDED"]
        assert f"allows {limit} support addresses" in errors[0]["message"]
        assert await models.SupportAddress.all().count() == limit
    assert support_addresses.LIMITS == {
        Edition.FREE: 2,
        Edition.STANDARD: 6,
        Edition.PROFESSIONAL: 11,
        Edition.ENTERPRISE: 101,
    }


# --- email settings ---------------------------------------------------------------------------


async def test_settings_inherit_from_the_organisation(gql: Any, world: Any) -> None:
    admin = gql.as_(world.admin_token)
    org = (await admin(SETTINGS)).data["emailSettings"]
    assert org["department"] is None
    assert org["contactFromReplyTo"] is None  # not set: the default applies
    assert org["effective"] == {"contactFromReplyTo": False, "forwardedOnBehalf": True,
                                "autoCc": True}  # fmt: skip
    res = await admin(SETTINGS_UPDATE, {"input": {"contactFromReplyTo": True}})
    assert res.data["emailSettingsUpdate"]["errors"] == []
    sales = gid("Department", world.sales.id)
    dept = (await admin(SETTINGS, {"dept": sales})).data["emailSettings"]
    assert dept["department"] == {"name": "Sales"}
    assert dept["contactFromReplyTo"] is None
    assert dept["effective"]["contactFromReplyTo"] is True  # inherited
    res = await admin(
        SETTINGS_UPDATE,
        {"input": {"departmentId": sales, "contactFromReplyTo": False, "forwardedOnBehalf": False}},
    )
    body = res.data["emailSettingsUpdate"]["emailSettings"]
    assert body["contactFromReplyTo"] is False
    assert body["effective"] == {"contactFromReplyTo": False, "forwardedOnBehalf": False}
    # Support still inherits; null puts Sales back to inheriting.
    support = gid("Department", world.support.id)
    other = (await admin(SETTINGS, {"dept": support})).data["emailSettings"]["effective"]
    assert other["contactFromReplyTo"] is True and other["forwardedOnBehalf"] is True
    res = await admin(
        SETTINGS_UPDATE, {"input": {"departmentId": sales, "contactFromReplyTo": None}}
    )
    body = res.data["emailSettingsUpdate"]["emailSettings"]
    assert body["contactFromReplyTo"] is None
    assert body["effective"]["contactFromReplyTo"] is True
    assert await models.Activity.filter(kind="email_settings.updated").count() == 3


async def test_settings_errors_and_permissions(gql: Any, world: Any) -> None:
    res = await gql.as_(world.alice_token)(SETTINGS)
    assert res.error_codes() == ["FORBIDDEN"]
    res = await gql.as_(world.alice_token)(SETTINGS_UPDATE, {"input": {"autoCc": False}})
    assert res.error_codes() == ["FORBIDDEN"]
    res = await gql.as_(world.admin_token)(
        SETTINGS_UPDATE, {"input": {"departmentId": gid("Department", 999), "autoCc": False}}
    )
    assert res.data["emailSettingsUpdate"]["errors"][0]["code"] == "NOT_FOUND"
    assert await models.EmailSettings.all().count() == 0


async def test_reply_to_switch_per_department(mailer: Mailer, gql: Any, world: Any) -> None:
    admin = gql.as_(world.admin_token)
    raw = mail("Form", "<f1@forms.example>", "Form <noreply@forms.example>",
               Reply_To="Real Person <real@person.example>, second@person.example")  # fmt: skip
    await admin(SETTINGS_UPDATE, {"input": {"contactFromReplyTo": True}})
    await mailer.send(raw)  # to the default address: first department, Sales
    ticket = await models.Ticket.get().select_related("contact")
    assert ticket.contact.email == "real@person.example"  # the first Reply-To (EM-11)
    assert ticket.contact.name == "Real Person"
    # Sales overrides it off (EM-13).
    await admin(
        SETTINGS_UPDATE,
        {"input": {"departmentId": gid("Department", world.sales.id), "contactFromReplyTo": False}},
    )
    await mailer.send(raw.replace(b"<f1@", b"<f2@"))
    second = await models.Ticket.filter(id__gt=ticket.id).get().select_related("contact")
    assert second.contact.email == "noreply@forms.example"


async def test_forwarded_on_behalf_rules(mailer: Mailer, gql: Any, world: Any) -> None:
    def forwarded(mid: str, sender: str) -> bytes:
        return (
            f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: Fwd: invoice\r\nMessage-ID: {mid}\r\n"
            "Content-Type: text/plain\r\n\r\nPlease look.\r\n\r\n"
            "-----Original Message-----\r\nFrom: Carla <carla@customer.example>\r\n"
            "Subject: invoice\r\n\r\nWrong amount.\r\n"
        ).encode()

    await mailer.send(forwarded("<w1@zylker.com>", "Alice <alice@zylker.com>"))
    t1 = await models.Ticket.get().select_related("contact")
    assert t1.contact.email == "carla@customer.example"
    thread = await models.Thread.get(ticket_id=t1.id)
    assert thread.author_agent_id == world.alice.id  # type: ignore[attr-defined]
    assert "alice@zylker.com" in thread.from_address
    # A deactivated agent is not trusted: they become the requester.
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    await mailer.send(forwarded("<w2@zylker.com>", "Bob <bob@zylker.com>"))
    t2 = await models.Ticket.filter(id__gt=t1.id).get().select_related("contact")
    assert t2.contact.email == "bob@zylker.com"
    # Switched off for Sales (where the default address delivers): the agent is the requester.
    await gql.as_(world.admin_token)(
        SETTINGS_UPDATE,
        {"input": {"departmentId": gid("Department", world.sales.id), "forwardedOnBehalf": False}},
    )
    await mailer.send(forwarded("<w3@zylker.com>", "Alice <alice@zylker.com>"))
    t3 = await models.Ticket.filter(id__gt=t2.id).get().select_related("contact")
    assert t3.contact.email == "alice@zylker.com"


# --- inbound messages -------------------------------------------------------------------------


async def test_inbound_messages_by_status_and_reprocess(
    mailer: Mailer, gql: Any, world: Any
) -> None:
    admin = gql.as_(world.admin_token)
    alias = await models.SupportAddress.create(
        email="sales@zylker.deskql.local", is_fetching=False, department_id=world.support.id
    )
    await mailer.send(mail("Kept", "<k1@example.com>"), rcpt=[alias.email])
    await mailer.send(mail("Fine", "<k2@example.com>"))
    ignored = (await admin(INBOUND, {"status": "IGNORED"})).data["inboundMessages"]
    assert ignored["totalCount"] == 1
    node = ignored["nodes"][0]
    assert node["subject"] == "Kept" and node["ticket"] is None
    assert node["rcptTo"] == alias.email and node["mailFrom"] == "melissa@example.com"
    assert "EM-4" in node["reason"]
    everything = (await admin(INBOUND)).data["inboundMessages"]
    assert [n["status"] for n in everything["nodes"]] == ["PROCESSED", "IGNORED"]  # newest first

    # Turn fetching on and reprocess: the ticket lands in the alias's department.
    await admin(UPDATE, {"input": {"id": gid("SupportAddress", alias.id), "isFetching": True}})
    res = await admin(REPROCESS, {"input": {"id": node["id"]}})
    again = res.data["inboundMessageReprocess"]
    assert again["errors"] == []
    assert again["inboundMessage"]["status"] == "PROCESSED"
    assert again["inboundMessage"]["attempts"] == 2
    number = again["inboundMessage"]["ticket"]["number"]
    ticket = await models.Ticket.get(number=number)
    assert ticket.department_id == world.support.id  # type: ignore[attr-defined]
    assert await models.Activity.filter(kind="inbound_message.reprocessed").count() == 1
    # A processed message is not reprocessed.
    res = await admin(REPROCESS, {"input": {"id": node["id"]}})
    assert res.data["inboundMessageReprocess"]["errors"][0]["code"] == "INVALID"
    res = await admin(REPROCESS, {"input": {"id": gid("InboundMessage", 999)}})
    assert res.data["inboundMessageReprocess"]["errors"][0]["code"] == "NOT_FOUND"
    assert await models.Ticket.all().count() == 2


async def test_failed_message_is_visible_and_reprocessable(
    gql: Any, clean_db: Any, settings: Any
) -> None:
    from deskql.models.enums import Role
    from deskql.services import organisation
    from tests.channels.conftest import start_mailer
    from tests.conftest import make_agent

    _, token = await make_agent("root@zylker.com", "Root", Role.ADMINISTRATOR)
    m = await start_mailer(settings)
    try:
        await m.send(mail("No department yet", "<d1@example.com>"))
    finally:
        await m.service.stop()
    admin = gql.as_(token)
    failed = (await admin(INBOUND, {"status": "FAILED"})).data["inboundMessages"]
    assert failed["totalCount"] == 1
    assert "no department" in failed["nodes"][0]["reason"]
    assert await models.Ticket.all().count() == 0
    await organisation.create_department(None, name="Support")
    res = await admin(REPROCESS, {"input": {"id": failed["nodes"][0]["id"]}})
    body = res.data["inboundMessageReprocess"]["inboundMessage"]
    assert body["status"] == "PROCESSED"
    assert body["ticket"] == {"number": 1}
    row = await models.InboundMessage.get()
    assert row.status is InboundStatus.PROCESSED and row.attempts == 2


async def test_inbound_messages_are_for_administrators(gql: Any, world: Any) -> None:
    res = await gql.as_(world.alice_token)(INBOUND)
    assert res.error_codes() == ["FORBIDDEN"]
    res = await gql.as_(world.alice_token)(REPROCESS, {"input": {"id": gid("InboundMessage", 1)}})
    assert res.error_codes() == ["FORBIDDEN"]


# --- spam -------------------------------------------------------------------------------------


async def test_mark_spam_blocks_the_sender(mailer: Mailer, gql: Any, world: Any) -> None:
    await mailer.send(mail("Cheap pills", "<s1@promo.example>", "Promo <deals@promo.example>"))
    ticket = await models.Ticket.get()
    assert ticket.is_spam is False
    tid = gid("Ticket", ticket.id)
    # Bob (Sales) sees it: the default address delivers to Sales. Alice (Support) does not.
    res = await gql.as_(world.alice_token)(MARK, {"input": {"ticketId": tid}})
    assert res.data["ticketMarkSpam"]["errors"][0]["code"] == "NOT_FOUND"
    res = await gql.as_(world.bob_token)(MARK, {"input": {"ticketId": tid, "blockSender": True}})
    body = res.data["ticketMarkSpam"]
    assert body["errors"] == []
    assert body["ticket"]["isSpam"] is True and body["ticket"]["version"] == 2
    assert await models.BlockedSender.filter(pattern="deals@promo.example").count() == 1
    view = (await gql.as_(world.bob_token)(SPAM_VIEW, {"spam": True})).data["tickets"]
    assert [n["number"] for n in view["nodes"]] == [ticket.number]
    normal = (await gql.as_(world.bob_token)(SPAM_VIEW, {"spam": False})).data["tickets"]
    assert normal["totalCount"] == 0
    # The sender's next mail is spam, with the reason stored, and publishes nothing.
    events_before = len(mailer.events)
    await mailer.send(mail("Again", "<s2@promo.example>", "Promo <deals@promo.example>"))
    second = await models.Ticket.filter(id__gt=ticket.id).get()
    assert second.is_spam is True
    row = await models.InboundMessage.get(ticket_id=second.id)
    assert "blocklisted" in row.reason and row.spam_score >= 100
    assert len(mailer.events) == events_before
    # Unmark and unblock: the next one is a normal ticket again.
    res = await gql.as_(world.bob_token)(
        UNMARK, {"input": {"ticketId": tid, "unblockSender": True}}
    )
    assert res.data["ticketUnmarkSpam"]["ticket"]["isSpam"] is False
    assert await models.BlockedSender.all().count() == 0
    await mailer.send(mail("Third", "<s3@promo.example>", "Promo <deals@promo.example>"))
    third = await models.Ticket.filter(subject="Third").get()
    assert third.is_spam is False
    kinds = await models.Activity.filter(ticket_id=ticket.id).values_list("kind", flat=True)
    assert "blocked_sender.added" in kinds and "blocked_sender.removed" in kinds


async def test_domain_blocklist(mailer: Mailer) -> None:
    await models.BlockedSender.create(pattern="@spam.example")
    await mailer.send(mail("Hi", "<d1@spam.example>", "x@spam.example"))
    await mailer.send(mail("Hi", "<d2@ok.example>", "x@ok.example"))
    spam = await models.Ticket.filter(is_spam=True).select_related("contact")
    assert [t.contact.email for t in spam] == ["x@spam.example"]
