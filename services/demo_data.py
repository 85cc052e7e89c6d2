"""The content of the demo data set (services.demo loads it): Zylker's departments, agents,
teams, products, accounts, contacts, ticket subjects and comments, and the weights the seeded
generator draws statuses, priorities, channels and ratings with."""

from __future__ import annotations

from deskql.models.enums import Channel, Role, TicketPriority, TicketStatus
from deskql.models.helpcenter import RatingValue

ADMIN_EMAIL = "admin@zylker.com"
AGENT_EMAIL = "brad.miller@zylker.com"

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
RATING_WEIGHTS = {RatingValue.GOOD: 6, RatingValue.OKAY: 2, RatingValue.BAD: 1}
