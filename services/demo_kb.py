"""Demo knowledge base (KB-1, KB-2): a few categories and articles written through the
services, one of them renamed twice so its old links show the 301s. Loaded by services.demo;
skipped when the demo's articles are there already (`deskql demo --force` adds none)."""

from __future__ import annotations

from dataclasses import dataclass, field

from deskql import models
from deskql.models.kb import ArticleVisibility
from deskql.services.auth import Actor
from deskql.services.kb import articles, categories

PUBLIC, CONTACTS, AGENTS = (
    ArticleVisibility.PUBLIC,
    ArticleVisibility.CONTACTS,
    ArticleVisibility.AGENTS,
)

# name, description, department name (None: organisation-wide), parent name
CATEGORIES: list[tuple[str, str, str | None, str | None]] = [
    ("Getting started", "First steps with Zylker products.", None, None),
    ("Accounts and sign-in", "Passwords, two-factor sign-in, users.", "Support", "Getting started"),
    ("Troubleshooting", "When something does not work as it should.", "Support", None),
    ("Billing and invoices", "Plans, invoices, payments and refunds.", "Billing", None),
]

# title, category, department, visibility, publish?, tags, summary, body
ARTICLES: list[tuple[str, str | None, str, ArticleVisibility, bool, list[str], str, str]] = [
    (
        "Reset your password",
        "Accounts and sign-in",
        "Support",
        PUBLIC,
        True,
        ["password", "login"],
        "Forgot your password? Get a new one in two minutes.",
        "## Steps\n\n1. Open the sign-in page and choose **Forgot password**.\n"
        "2. Enter the email address of your account.\n"
        "3. Follow the link we email you (it works for 30 minutes).\n\n"
        "> Tip: check your spam folder if the email does not arrive.\n",
    ),
    (
        "Set up two-factor sign-in",
        "Accounts and sign-in",
        "Support",
        PUBLIC,
        True,
        ["login", "security"],
        "Protect your account with a second step.",
        "Two-factor sign-in asks for a code from your phone after your password.\n\n"
        "| App | Works |\n|---|---|\n| Zylker Authenticator | yes |\n| Any TOTP app | yes |\n",
    ),
    (
        "Printer shows error E-17",
        "Troubleshooting",
        "Support",
        PUBLIC,
        True,
        ["printer"],
        "What E-17 means and how to clear it.",
        "E-17 means the paper path is blocked.\n\n"
        "```\nOpen cover A -> remove paper -> close\n```\n",
    ),
    (
        "Zażółć gęślą jaźń: polskie znaki w raportach",
        "Troubleshooting",
        "Support",
        PUBLIC,
        True,
        ["reports"],
        "Polish characters in exported reports.",
        "Eksport CSV używa kodowania **UTF-8**. Otwórz plik w arkuszu jako UTF-8.",
    ),
    (
        "如何下载发票",
        "Billing and invoices",
        "Billing",
        CONTACTS,
        True,
        ["invoice"],
        "Download your invoices from the help center.",
        "登录帮助中心，打开 **发票** 页面，然后点击下载。",
    ),
    (
        "Refund policy for annual plans",
        "Billing and invoices",
        "Billing",
        PUBLIC,
        True,
        ["refund", "invoice"],
        "When and how annual plans are refunded.",
        "Annual plans are refunded pro rata within 30 days of a renewal.",
    ),
    (
        "Escalating a billing dispute (internal)",
        "Billing and invoices",
        "Billing",
        AGENTS,
        False,
        ["refund"],
        "For agents: who decides on disputed charges.",
        "Draft: route disputes over $500 to the Billing team lead.",
    ),
]
# The article renamed twice: its first two permalinks answer 301 to the third.
RENAMED = "Reset your password"
RENAMES = ["password-reset", "how-to-reset-your-password"]


@dataclass
class KbSummary:
    """What the knowledge-base demo created."""

    categories: int = 0
    articles: int = 0
    tags: set[str] = field(default_factory=set)


async def load_kb(
    admin: Actor, by_department: dict[str, Actor], departments: dict[str, models.Department]
) -> KbSummary:
    """Create the demo categories and articles (once); `by_department`: an author for each."""
    summary = KbSummary()
    if await models.Article.exists(permalink=RENAMES[-1]):
        return summary
    made: dict[str, models.ArticleCategory] = {}
    for name, description, dept, parent in CATEGORIES:
        made[name] = await categories.create_category(
            admin,
            name=name,
            description=description,
            department_id=departments[dept].id if dept else None,
            parent_id=made[parent].id if parent else None,
            position=len(made),
        )
        summary.categories += 1
    for title, category, dept, visibility, publish, tags, summary_text, body in ARTICLES:
        author = by_department.get(dept, admin)
        row = await articles.create_article(
            author,
            title=title,
            department_id=departments[dept].id,
            category_id=made[category].id if category else None,
            visibility=visibility,
            tags=tags,
            summary=summary_text,
            body=body,
        )
        if publish:
            await articles.publish_article(author, article_id=row.id)
        if title == RENAMED:
            for permalink in RENAMES:
                await articles.update_article(
                    author, article_id=row.id, changes={"permalink": permalink}
                )
        summary.articles += 1
        summary.tags.update(tags)
    return summary
