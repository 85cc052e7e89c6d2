"""The demo knowledge base: categories, published articles, and one article renamed twice
whose old permalinks answer 301 to the current one; loading it twice adds nothing."""

from __future__ import annotations

import httpx

from deskql import models
from deskql.services import auth, demo_kb, organisation
from deskql.services.kb import permalinks
from tests.conftest import World


async def test_demo_knowledge_base(http: httpx.AsyncClient, world: World) -> None:
    billing = await organisation.create_department(None, name="Billing")
    admin = await auth.load_actor(world.admin.id)
    departments = {"Support": world.support, "Sales": world.sales, "Billing": billing}
    summary = await demo_kb.load_kb(
        admin, {"Support": await auth.load_actor(world.alice.id)}, departments
    )
    assert (summary.categories, summary.articles) == (4, 7)
    renamed = await models.Article.get(title=demo_kb.RENAMED)
    assert await permalinks.history(renamed.id) == [
        "reset-your-password",
        "password-reset",
        "how-to-reset-your-password",
    ]
    for old in ("reset-your-password", "password-reset"):
        resp = await http.get(f"/kb/articles/{old}", follow_redirects=False)
        assert resp.status_code == 301
        assert resp.headers["location"] == "/kb/articles/how-to-reset-your-password"
    index = await http.get("/kb")
    assert "Reset your password" in index.text and "Zażółć gęślą jaźń" in index.text
    assert "internal" not in index.text  # the agents-only draft
    again = await demo_kb.load_kb(admin, {}, departments)
    assert (again.categories, again.articles) == (0, 0)
    assert await models.Article.all().count() == 7
