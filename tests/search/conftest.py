"""Search fixtures: actors for the World's agents and a few records made through the services
(so the index is written the way production writes it)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest_asyncio

from deskql import models
from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services import auth, customers, tickets
from deskql.services.auth import Actor
from tests.conftest import World


@dataclass
class Desk:
    """The World plus actors and search material."""

    world: World
    admin: Actor
    alice: Actor  # Support
    bob: Actor  # Sales
    yellow: models.Ticket  # Support, Polish
    chinese: models.Ticket  # Support
    sales: models.Ticket  # Sales: alice must never see it
    spam: models.Ticket  # Support, spam
    melissa: models.Contact


@pytest_asyncio.fixture
async def desk(world: World) -> Desk:
    admin = await auth.load_actor(world.admin.id)
    alice = await auth.load_actor(world.alice.id)
    bob = await auth.load_actor(world.bob.id)
    yellow = await tickets.create_ticket(
        alice,
        subject="Rower nie działa",
        description="Mój żółty rower ma przebitą oponę. Łańcuch też spadł.",
        department_id=world.support.id,
        contact_email="jan@example.pl",
        priority=TicketPriority.HIGH,
        channel=Channel.EMAIL,
        tags=["rower"],
    )
    chinese = await tickets.create_ticket(
        alice,
        subject="系统问题",
        description="这是一个工单系统，无法登录",
        department_id=world.support.id,
        contact_email="li@example.cn",
    )
    sales = await tickets.create_ticket(
        bob,
        subject="Secret yellow discount",
        description="Confidential żółty pricing for the melting pot account",
        department_id=world.sales.id,
        contact_email="buyer@example.com",
        status=TicketStatus.ON_HOLD,
    )
    spam = await tickets.create_ticket(
        alice,
        subject="Cheap żółty watches",
        description="Buy now",
        department_id=world.support.id,
        contact_email="spammer@example.com",
        is_spam=True,
    )
    melissa = await customers.create_contact(
        admin, first_name="Melissa", last_name="Łukasiewicz", email="melissa.l@example.com"
    )
    return Desk(world, admin, alice, bob, yellow, chinese, sales, spam, melissa)
