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
from deskql.models.enums import Role, TicketPriority, TicketStatus
from deskql.services import customers, demo_kb, organisation, tickets
from deskql.services.auth import load_actor
from deskql.services.demo_data import (
    ACCOUNTS,
    ADMIN_EMAIL,
    AGENT_EMAIL,
    AGENTS,
    CHANNEL_WEIGHTS,
    COMMENTS,
    CONTACTS,
    DEPARTMENT_WEIGHTS,
    DEPARTMENTS,
    NEWCOMERS,
    PRIORITY_WEIGHTS,
    PRODUCTS,
    RATING_WEIGHTS,
    STATUS_WEIGHTS,
    SUBJECTS,
    TEAMS,
    TICKET_COUNT,
)
from deskql.services.helpcenter import ratings
from deskql.services.helpcenter.access import ContactActor

PASSWORD = "deskql-demo"
SEED = 20240611

T = TypeVar("T")


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
