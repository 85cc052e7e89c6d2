"""The demo data set: Zylker's help desk with departments, agents, teams, customers and
tickets, written through the same service functions as GraphQL so every rule applies.

The content is fixed by a seeded random generator; only the timestamps follow the clock
(due dates are set relative to now, so some tickets are overdue whenever the data is loaded).
Loading again (`deskql demo --force`) reuses the departments, agents, teams, products,
accounts and contacts that exist by name or email, and adds another set of tickets.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from deskql import models
from deskql.models.enums import Channel, Role, TicketPriority, TicketStatus
from deskql.models.helpcenter import RatingValue
from deskql.services import customers, demo_kb, organisation, tickets
from deskql.services.auth import load_actor
from deskql.services.helpcenter import ratings
from deskql.services.helpcenter.access import ContactActor

PASSWORD = "deskql-demo"
ADMIN_EMAIL = "admin@zylker.com"
AGENT_EMAIL = "brad.miller@zylker.com"
SEED = 20240611

T = TypeVar("T")

DEPARTMENTS = {
    "Support": "Product questions, incidents and how-tos for every Zylker product.",
    "Sales": "Quotes, trials, upgrades and new customers.",
    "Billing": "Invoices, payments, refunds and subscription changes.",
}

# email, first, last, role, departments, about, hobbies
AGENTS: list[tuple[str, str, str, Role, list[str], str, str]] = [
    (
        ADMIN_EMAIL,
        "Priya",
        "Raman",
        Role.ADMINISTRATOR,
        ["Support", "Sales", "Billing"],
        "Runs the Zylker help desk; sets up departments, teams and channels.",
        "Carnatic music, long-distance running",
    ),
    (
        AGENT_EMAIL,
        "Brad",
        "Miller",
        Role.AGENT,
        ["Support"],
        "First-line support for Zylker CRM and Desk. Ten years on the phones.",
        "Woodworking, baseball",
    ),
    (
        "sofia.garcia@zylker.com",
        "Sofia",
        "Garcia",
        Role.AGENT,
        ["Support"],
        "Second-line engineer: integrations, email delivery and the mobile app.",
        "Climbing, Spanish cooking",
    ),
    (
        "kenji.watanabe@zylker.com",
        "Kenji",
        "Watanabe",
        Role.AGENT,
        ["Support", "Billing"],
        "Handles escalations that touch both the product and the invoice.",
        "Go (the board game), photography",
    ),
    (
        "amara.okafor@zylker.com",
        "Amara",
        "Okafor",
        Role.AGENT,
        ["Sales"],
        "Account executive for logistics and retail customers.",
        "Afrobeat, chess",
    ),
    (
        "lucas.meyer@zylker.com",
        "Lucas",
        "Meyer",
        Role.AGENT,
        ["Sales"],
        "Runs trials and onboarding calls for new accounts.",
        "Cycling, board games",
    ),
    (
        "hannah.kowalski@zylker.com",
        "Hannah",
        "Kowalski",
        Role.AGENT,
        ["Billing"],
        "Invoices, refunds and payment disputes.",
        "Gardening, crime novels",
    ),
]

# name, department, description, member emails
TEAMS: list[tuple[str, str, str, list[str]]] = [
    (
        "Tier 2",
        "Support",
        "Escalated and technical tickets.",
        ["sofia.garcia@zylker.com", "kenji.watanabe@zylker.com"],
    ),
    (
        "Onboarding",
        "Sales",
        "Trials, demos and the first month of new accounts.",
        ["amara.okafor@zylker.com", "lucas.meyer@zylker.com"],
    ),
    (
        "Collections",
        "Billing",
        "Overdue invoices and failed payments.",
        ["hannah.kowalski@zylker.com", "kenji.watanabe@zylker.com"],
    ),
]

# name, code, description
PRODUCTS: list[tuple[str, str, str]] = [
    ("Zylker CRM", "ZCRM", "Customer relationship management for small and mid-size teams."),
    ("Zylker Desk Pro", "ZDESK", "The help desk suite: email, chat and phone channels."),
    ("Zylker Books", "ZBOOKS", "Online accounting and invoicing."),
    ("Zylker Mail Gateway", "ZMAIL", "Outbound email relay with SPF and DKIM checks."),
    ("Zylker Mobile", "ZMOB", "The iOS and Android companion app."),
]

# name, domain, phone, products, owner
ACCOUNTS: list[tuple[str, str, str, list[str], str]] = [
    ("Acme Logistics", "acme-logistics.example", "+1 415 555 0101", ["ZCRM", "ZMOB"], "amara"),
    ("Northwind Traders", "northwind.example", "+44 20 7946 0102", ["ZBOOKS"], "amara"),
    ("Globex Health", "globex-health.example", "+1 312 555 0103", ["ZDESK", "ZMAIL"], "lucas"),
    ("Initech", "initech.example", "+1 512 555 0104", ["ZCRM", "ZBOOKS"], "lucas"),
    ("Umbrella Retail", "umbrella-retail.example", "+49 30 5550 0105", ["ZDESK"], "amara"),
    ("Stark Foods", "starkfoods.example", "+1 646 555 0106", ["ZMOB", "ZCRM"], "lucas"),
    ("Wayne Media", "waynemedia.example", "+1 212 555 0107", ["ZMAIL"], "amara"),
    ("Hooli Labs", "hooli-labs.example", "+1 650 555 0108", ["ZCRM", "ZDESK", "ZBOOKS"], "lucas"),
]

# first, last, account (None: a private customer), job title
CONTACTS: list[tuple[str, str, str | None, str]] = [
    ("Melissa", "Carter", "Acme Logistics", "Operations manager"),
    ("Tom", "Becker", "Acme Logistics", "Dispatcher"),
    ("Aisha", "Khan", "Acme Logistics", "IT administrator"),
    ("James", "O'Neill", "Northwind Traders", "Finance lead"),
    ("Chloe", "Dubois", "Northwind Traders", "Bookkeeper"),
    ("Rahul", "Mehta", "Globex Health", "Support supervisor"),
    ("Emily", "Nguyen", "Globex Health", "Systems engineer"),
    ("Marco", "Rossi", "Globex Health", "Practice manager"),
    ("Peter", "Gibbons", "Initech", "Software engineer"),
    ("Joanna", "Lumbergh", "Initech", "Office manager"),
    ("Ingrid", "Larsen", "Umbrella Retail", "Store operations"),
    ("Diego", "Fernandez", "Umbrella Retail", "E-commerce lead"),
    ("Grace", "Stark", "Stark Foods", "Owner"),
    ("Oliver", "Brown", "Stark Foods", "Sales rep"),
    ("Nora", "Wayne", "Wayne Media", "Newsletter editor"),
    ("Samuel", "Adeyemi", "Wayne Media", "Marketing ops"),
    ("Gavin", "Belson", "Hooli Labs", "CEO's assistant"),
    ("Monica", "Hall", "Hooli Labs", "Procurement"),
    ("Dinesh", "Chugtai", "Hooli Labs", "Developer"),
    ("Laura", "Schmidt", None, "Freelance designer"),
    ("Kwame", "Mensah", None, "Photographer"),
    ("Yuki", "Tanaka", None, "Student"),
]

# People who write in without being contacts yet: their first ticket creates them (CUS-1).
NEWCOMERS: list[tuple[str, str]] = [
    ("harper.lee@mockingbird.example", "Harper Lee"),
    ("ravi.shankar@sitar.example", "Ravi Shankar"),
    ("zoe.martin@bistro.example", "Zoe Martin"),
]

# subject, description, product code (or None), tags to pick from
SUBJECTS: dict[str, list[tuple[str, str, str | None, list[str]]]] = {
    "Support": [
        (
            "Cannot log in after password reset",
            "I reset my password this morning and the login page keeps saying it is wrong.",
            "ZCRM",
            ["login", "password"],
        ),
        (
            "Emails to support@ are not becoming tickets",
            "We set up forwarding from support@ but nothing shows up in the Open view.",
            "ZDESK",
            ["email", "forwarding"],
        ),
        (
            "Mobile app crashes on start",
            "Since the last update the Android app closes right after the splash screen.",
            "ZMOB",
            ["android", "crash"],
        ),
        (
            "Import of contacts stops at 80%",
            "The CSV import of 12,000 contacts stops at 80% with no error message.",
            "ZCRM",
            ["import", "csv"],
        ),
        (
            "SPF check fails for our From address",
            "Our replies land in spam; the SPF record check shows a softfail.",
            "ZMAIL",
            ["spf", "deliverability"],
        ),
        (
            "How do I add a second support address?",
            "We want sales@ to create tickets in the Sales department.",
            "ZDESK",
            ["howto", "email"],
        ),
        (
            "Dashboard widgets are empty",
            "All dashboard widgets show 'no data' although we have hundreds of tickets.",
            "ZDESK",
            ["dashboard", "bug"],
        ),
        (
            "Push notifications stopped on iOS",
            "Nobody on our team gets push notifications since Monday.",
            "ZMOB",
            ["ios", "notifications"],
        ),
        (
            "API returns 429 during nightly sync",
            "Our nightly CRM sync gets 'too many requests' after about 2,000 calls.",
            "ZCRM",
            ["api", "ratelimit"],
        ),
        (
            "Attachment over 20 MB is rejected",
            "A customer's 22 MB PDF was rejected. What is the limit?",
            "ZDESK",
            ["attachments", "howto"],
        ),
        (
            "Two-factor codes arrive late",
            "SMS codes for two-factor login take five minutes to arrive.",
            None,
            ["login", "2fa"],
        ),
        (
            "Report export has wrong time zone",
            "Exported reports show times in UTC instead of our Berlin time zone.",
            "ZBOOKS",
            ["reports", "timezone"],
        ),
    ],
    "Sales": [
        (
            "Quote for 50 Desk Pro seats",
            "Please send a quote for 50 seats, billed yearly, with the telephony add-on.",
            "ZDESK",
            ["quote", "enterprise"],
        ),
        (
            "Extend our trial by two weeks",
            "Our evaluation was delayed by the holidays; can we get two more weeks?",
            "ZCRM",
            ["trial"],
        ),
        (
            "Upgrade from Standard to Professional",
            "What changes if we upgrade mid-term, and is the price prorated?",
            "ZDESK",
            ["upgrade", "pricing"],
        ),
        (
            "Nonprofit discount",
            "We are a registered charity. Do you offer a discount?",
            None,
            ["discount", "nonprofit"],
        ),
        (
            "Demo for our regional managers",
            "Could you run a 45-minute demo for eight regional managers next week?",
            "ZCRM",
            ["demo"],
        ),
        (
            "Volume pricing for Mail Gateway",
            "We send about two million emails a month. What would that cost?",
            "ZMAIL",
            ["pricing", "volume"],
        ),
    ],
    "Billing": [
        (
            "Charged twice this month",
            "Our card was charged twice on the 1st for the same subscription.",
            "ZBOOKS",
            ["refund", "duplicate"],
        ),
        (
            "Invoice needs our VAT number",
            "Please reissue invoice INV-2291 with our VAT number DE812345678.",
            "ZBOOKS",
            ["invoice", "vat"],
        ),
        (
            "Payment failed: card expired",
            "We got a payment failure notice. How do we update the card?",
            None,
            ["payment", "card"],
        ),
        (
            "Cancel the Mobile add-on",
            "We no longer need the mobile add-on; please cancel it from next month.",
            "ZMOB",
            ["cancellation"],
        ),
        (
            "Switch to annual billing",
            "We'd like to move from monthly to annual billing to get the discount.",
            "ZDESK",
            ["billingcycle"],
        ),
        (
            "Refund for unused seats",
            "We removed 10 seats in March; is a refund for the unused months possible?",
            "ZCRM",
            ["refund", "seats"],
        ),
    ],
}

COMMENTS = [
    "Asked the customer for a screenshot and the exact time it happened.",
    "Reproduced on our side; attaching the logs to the internal bug tracker.",
    "Customer confirmed the workaround helps for now.",
    "Checked the account: the subscription is active and paid up.",
    "Called the customer back, no answer; left a voicemail.",
    "This looks like the same issue as last week's outage. Linking them.",
    "Thanks for your patience! We have rolled out a fix; please try again.",
    "Sent the step-by-step guide from the knowledge base.",
    "Waiting for the customer's IT team to update their DNS records.",
    "Escalating: this affects every user of the account.",
]

TICKET_COUNT = 60
DEPARTMENT_WEIGHTS = {"Support": 5, "Sales": 2, "Billing": 2}
STATUS_WEIGHTS = {
    TicketStatus.OPEN: 45,
    TicketStatus.ON_HOLD: 15,
    TicketStatus.ESCALATED: 10,
    TicketStatus.CLOSED: 30,
}
PRIORITY_WEIGHTS = {
    TicketPriority.LOW: 20,
    TicketPriority.MEDIUM: 45,
    TicketPriority.HIGH: 25,
    TicketPriority.URGENT: 10,
}
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 45,
    Channel.WEB: 20,
    Channel.PHONE: 15,
    Channel.CHAT: 15,
    Channel.FORUM: 5,
}


@dataclass
class DemoSummary:
    """How many rows the demo loader created, by kind."""

    departments: int = 0
    agents: int = 0
    teams: int = 0
    products: int = 0
    accounts: int = 0
    contacts: int = 0
    tickets: int = 0
    comments: int = 0
    tags: int = 0
    article_categories: int = 0
    articles: int = 0
    ratings: int = 0

    def describe(self) -> str:
        """A one-line summary such as '3 departments, 7 agents, ...'."""
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(self))


RATING_WEIGHTS = {RatingValue.GOOD: 6, RatingValue.OKAY: 2, RatingValue.BAD: 1}


def sign_in_hint() -> str:
    """How to sign in to the demo data."""
    return (
        f"Demo sign-in: {ADMIN_EMAIL} (administrator) or {AGENT_EMAIL} (agent), password {PASSWORD}"
    )


def _pick(rng: random.Random, weights: dict[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _avatar(email: str) -> str:
    digest = hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=identicon"


def _slug(first: str, last: str) -> str:
    return "".join(c for c in f"{first}.{last}".lower() if c.isalnum() or c == ".")


async def load_demo(*, seed: int = SEED, now: datetime | None = None) -> DemoSummary:
    """Load the demo data set through the service functions; returns what it created."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    summary = DemoSummary()

    departments: dict[str, models.Department] = {}
    for name, description in DEPARTMENTS.items():
        dept = await models.Department.filter(name=name).first()
        if dept is None:
            dept = await organisation.create_department(None, name=name, description=description)
            summary.departments += 1
        departments[name] = dept

    agents: dict[str, models.Agent] = {}
    for email, first, last, role, dept_names, about, hobbies in AGENTS:
        agent = await models.Agent.filter(email=email).first()
        if agent is None:
            agent = await organisation.create_agent(
                None,
                email=email,
                first_name=first,
                last_name=last,
                role=role,
                department_ids=[departments[d].id for d in dept_names],
                password=PASSWORD,
                about=about,
                hobbies=hobbies,
                avatar_url=_avatar(email),
            )
            summary.agents += 1
        agents[email] = agent
    actors = {email: await load_actor(agent.id) for email, agent in agents.items()}
    admin = actors[ADMIN_EMAIL]

    teams: dict[str, models.Team] = {}
    for name, dept_name, description, members in TEAMS:
        dept = departments[dept_name]
        team = await models.Team.filter(department_id=dept.id, name=name).first()
        if team is None:
            team = await organisation.create_team(
                admin,
                name=name,
                department_id=dept.id,
                description=description,
                member_ids=[agents[m].id for m in members],
            )
            summary.teams += 1
        teams[name] = team

    products: dict[str, models.Product] = {}
    for name, code, description in PRODUCTS:
        product = await models.Product.filter(name=name).first()
        if product is None:
            product = await customers.create_product(
                admin, name=name, code=code, description=description
            )
            summary.products += 1
        products[code] = product

    by_first = {agent.first_name.lower(): agent for agent in agents.values()}
    accounts: dict[str, models.Account] = {}
    for name, domain, phone, codes, owner in ACCOUNTS:
        account = await models.Account.filter(name=name).first()
        if account is None:
            account = await customers.create_account(
                admin,
                name=name,
                email=f"info@{domain}",
                phone=phone,
                website=f"https://www.{domain}",
                description=f"{name}: uses {', '.join(products[c].name for c in codes)}.",
                owner_id=by_first[owner].id,
                product_ids=[products[c].id for c in codes],
            )
            summary.accounts += 1
        accounts[name] = account

    contacts: list[models.Contact] = []
    for first, last, account_name, title in CONTACTS:
        account = accounts[account_name] if account_name else None
        domain = next(a[1] for a in ACCOUNTS if a[0] == account_name) if account_name else None
        email = f"{_slug(first, last)}@{domain or 'mail.example'}"
        contact = await models.Contact.filter(email=email).first()
        if contact is None:
            account_products = (
                await models.AccountProduct.filter(account_id=account.id).values_list(
                    "product_id", flat=True
                )
                if account
                else []
            )
            contact = await customers.create_contact(
                admin,
                first_name=first,
                last_name=last,
                email=email,
                phone=f"+1 555 01{len(contacts):02d}",
                mobile=f"+1 555 02{len(contacts):02d}" if rng.random() < 0.5 else "",
                description=title,
                account_id=account.id if account else None,
                product_ids=sorted(account_products)[:2],
            )
            summary.contacts += 1
        contacts.append(contact)

    # The agents (not the administrator) and the teams of each department.
    staff: dict[str, list[models.Agent]] = {name: [] for name in departments}
    for email, _first, _last, role, dept_names, _about, _hobbies in AGENTS:
        for name in dept_names:
            if role is Role.AGENT:
                staff[name].append(agents[email])
    crews: dict[str, list[models.Team]] = {name: [] for name in departments}
    for name, dept_name, _description, _members in TEAMS:
        crews[dept_name].append(teams[name])
    newcomers = list(NEWCOMERS)
    tag_names: set[str] = set()

    for i in range(TICKET_COUNT):
        dept_name = _pick(rng, DEPARTMENT_WEIGHTS)
        dept = departments[dept_name]
        subject, description, code, tag_pool = rng.choice(SUBJECTS[dept_name])
        dept_agents = staff[dept_name]
        # The ticket is logged by an agent of the department, as on a real desk.
        creator = actors[rng.choice(dept_agents).email]
        status = _pick(rng, STATUS_WEIGHTS)
        priority = _pick(rng, PRIORITY_WEIGHTS)
        channel = _pick(rng, CHANNEL_WEIGHTS)
        # Due dates from two days ago to ten days ahead: the past ones are overdue unless closed.
        due_at = now + timedelta(hours=rng.randint(-48, 240)) if rng.random() < 0.85 else None
        roll = rng.random()
        agent_id = rng.choice(dept_agents).id if roll < 0.6 else None
        team_id = rng.choice(crews[dept_name]).id if 0.6 <= roll < 0.8 else None
        tags = rng.sample(tag_pool, k=rng.randint(0, len(tag_pool)))
        kwargs: dict[str, Any]
        new_contact = False
        if newcomers and i % 20 == 7:
            email, name = newcomers.pop(0)
            kwargs = {"contact_email": email, "contact_name": name}
            new_contact = not await models.Contact.exists(email=email)
        else:
            contact = rng.choice(contacts)
            kwargs = {"contact_id": contact.id}
        # Escalated and closed tickets start open and get there through update_ticket.
        initial = status if status in (TicketStatus.OPEN, TicketStatus.ON_HOLD) else None
        ticket = await tickets.create_ticket(
            creator,
            subject=subject,
            description=description,
            department_id=dept.id,
            product_id=products[code].id if code else None,
            status=initial or TicketStatus.OPEN,
            priority=priority,
            channel=channel,
            due_at=due_at,
            assignee_agent_id=agent_id,
            assignee_team_id=team_id,
            tags=tags[:1],
            **kwargs,
        )
        summary.tickets += 1
        if new_contact:
            summary.contacts += 1
        if len(tags) > 1:
            await tickets.add_tags(creator, ticket_id=ticket.id, names=tags[1:])
        tag_names.update(tags)
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            author = actors[rng.choice(dept_agents).email]
            await tickets.add_comment(
                author,
                ticket_id=ticket.id,
                body=rng.choice(COMMENTS),
                is_public=rng.random() < 0.3,
            )
            summary.comments += 1
        if initial is None:
            changes: dict[str, Any] = {"status": status}
            if status is TicketStatus.ESCALATED and priority < TicketPriority.HIGH:
                changes["priority"] = TicketPriority.HIGH
            version = (await models.Ticket.get(id=ticket.id)).version
            await tickets.update_ticket(
                creator, ticket_id=ticket.id, version=version, changes=changes
            )
            # Most customers rate a closed ticket in the help center (TIC-5).
            if status is TicketStatus.CLOSED and rng.random() < 0.7:
                value = _pick(rng, RATING_WEIGHTS)
                customer = ContactActor(ticket.contact_id, None, False)  # type: ignore[attr-defined]
                await ratings.rate(customer, ticket_id=ticket.id, value=value)
                summary.ratings += 1

    by_department = {name: actors[people[0].email] for name, people in staff.items() if people}
    kb = await demo_kb.load_kb(admin, by_department, departments)
    summary.article_categories = kb.categories
    summary.articles = kb.articles
    tag_names.update(kb.tags)
    summary.tags = len(tag_names)
    return summary
