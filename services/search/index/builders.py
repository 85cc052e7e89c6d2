"""The builders: each module's documents from its records (one batch of ids at a time)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from deskql.services.search import engine
from deskql.services.search.index.documents import (
    ACCOUNT,
    ARTICLE,
    CONTACT,
    PRODUCT,
    TAGS_HTML,
    TASK,
    TICKET,
    Source,
    builder,
    doc,
    text,
    value,
)
from deskql.services.search.text import first_letter

# One statement reads all a ticket's index needs: the ticket (k=0), its threads (1), its
# comments (2), the ids of its tasks (3), whose department follows the ticket's, and of its
# tags (4).
_TICKET_SQL = """
SELECT 0 AS k, t.id AS tid, t.id AS x, t.number AS n, t.subject AS a, t.description AS b,
  NULL AS c, NULL AS e, t.updated_at AS at, t.department_id AS dep, t.is_spam AS spam,
  t.status AS st, t.priority AS pr, t.channel AS ch, t.assignee_agent_id AS asg,
  t.account_id AS acc FROM ticket t WHERE t.id IN ({ids})
UNION ALL SELECT 1, h.ticket_id, h.id, NULL, h.from_address, h.subject, h.body_text,
  h.body_html, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM thread h
  WHERE h.ticket_id IN ({ids})
UNION ALL SELECT 2, c.ticket_id, c.id, NULL, c.body, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL FROM comment c WHERE c.ticket_id IN ({ids})
UNION ALL SELECT 3, k.ticket_id, k.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL FROM task k WHERE k.ticket_id IN ({ids})
UNION ALL SELECT 4, g.ticket_id, g.tag_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL FROM ticket_tag g WHERE g.ticket_id IN ({ids})
ORDER BY 1, 3
"""


@builder(TICKET)
async def _tickets(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    pg = engine.is_postgres(src.conn)
    marks = ", ".join("?" for _ in ids)
    rows = await src.conn.execute_query_dict(
        engine.sql(_TICKET_SQL.format(ids=marks), pg), [*ids, *ids, *ids, *ids, *ids]
    )
    tickets: list[dict[str, Any]] = []
    texts: dict[int, list[str]] = defaultdict(list)
    tags: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        if r["k"] == 0:
            tickets.append(r)
        elif r["k"] == 1:
            texts[r["tid"]].append(text(r["a"], r["b"], r["c"] or TAGS_HTML.sub(" ", r["e"] or "")))
        elif r["k"] == 2:
            texts[r["tid"]].append(r["a"] or "")
        elif r["k"] == 4:
            tags[r["tid"]].append(int(r["x"]))
        else:
            src.followups.setdefault(TASK, set()).add(r["x"])
    return [
        doc(
            TICKET,
            t["tid"],
            title=t["a"],
            title_extra=str(t["n"]),
            body=text(t["b"], *texts.get(t["tid"], [])),
            sort_at=t["at"],
            department_id=t["dep"],
            is_spam=bool(t["spam"]),
            status=t["st"],
            priority=int(t["pr"]),
            channel=t["ch"],
            assignee_id=t["asg"],
            account_id=t["acc"],
            tag_ids=tags.get(t["tid"], []),
        )
        for t in tickets
    ]


@builder(CONTACT)
async def _contacts(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    out = []
    for c in await src.rows("Contact", id__in=ids).values(
        "id",
        "first_name",
        "last_name",
        "email",
        "secondary_email",
        "phone",
        "mobile",
        "description",
        "updated_at",
        "account_id",
        "owner_id",
    ):
        name = f"{c['first_name']} {c['last_name']}".strip()
        out.append(
            doc(
                CONTACT,
                c["id"],
                title=name,
                title_extra=f"{c['email'] or ''} {c['secondary_email']}",
                body=text(
                    c["email"], c["secondary_email"], c["phone"], c["mobile"], c["description"]
                ),
                sort_at=c["updated_at"],
                letter=first_letter(name),
                account_id=c["account_id"],
                owner_id=c["owner_id"],
            )
        )
    return out


@builder(ACCOUNT)
async def _accounts(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    return [
        doc(
            ACCOUNT,
            a["id"],
            title=a["name"],
            body=text(a["email"], a["phone"], a["website"], a["description"]),
            sort_at=a["updated_at"],
            letter=first_letter(a["name"]),
            owner_id=a["owner_id"],
        )
        for a in await src.rows("Account", id__in=ids).values(
            "id", "name", "email", "phone", "website", "description", "updated_at", "owner_id"
        )
    ]


@builder(PRODUCT)
async def _products(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    return [
        doc(
            PRODUCT,
            p["id"],
            title=p["name"],
            title_extra=p["code"],
            body=text(p["code"], p["description"]),
            sort_at=p["created_at"],
        )
        for p in await src.rows("Product", id__in=ids).values(
            "id", "name", "code", "description", "created_at"
        )
    ]


@builder(TASK)
async def _tasks(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    rows = await src.rows("Task", id__in=ids).values(
        "id",
        "title",
        "description",
        "created_at",
        "ticket_id",
        "department_id",
        "is_completed",
        "assignee_id",
    )
    ticket_ids = sorted({t["ticket_id"] for t in rows if t["ticket_id"]})
    departments = dict(
        await src.rows("Ticket", id__in=ticket_ids).values_list("id", "department_id")
    )
    return [
        doc(
            TASK,
            t["id"],
            title=t["title"],
            body=text(t["description"]),
            sort_at=t["created_at"],
            # ORG-5: a ticket's task is seen with its ticket; a ticketless one in its department.
            department_id=departments.get(t["ticket_id"], t["department_id"]),
            status="COMPLETED" if t["is_completed"] else "OPEN",
            assignee_id=t["assignee_id"],
        )
        for t in rows
    ]


@builder(ARTICLE)
async def _articles(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    rows = await src.rows("Article", id__in=ids).values(
        "id", "title", "summary", "body", "updated_at", "department_id", "status"
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for article_id, name in await src.rows("ArticleTag", article_id__in=ids).values_list(
        "article_id", "tag__name"
    ):
        tags[article_id].append(name)
    return [
        doc(
            ARTICLE,
            a["id"],
            title=a["title"],
            title_extra=" ".join(tags.get(a["id"], [])),
            body=text(a["summary"], a["body"], " ".join(f"#{t}" for t in tags.get(a["id"], []))),
            sort_at=a["updated_at"],
            # ORG-5: an article is its department's (services.kb.articles.visible_articles).
            department_id=a["department_id"],
            status=value(a["status"]),
        )
        for a in rows
    ]
