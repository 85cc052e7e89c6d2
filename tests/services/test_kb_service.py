"""The knowledge base without GraphQL (KB-1, KB-2): articles, permalinks that never break,
categories, votes, comments and follows on articles, and every bad input writing nothing."""

from __future__ import annotations

import pytest

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.models.kb import ArticleStatus, ArticleVisibility
from deskql.schema.ids import to_global_id
from deskql.services import auth, comments, follows
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.kb import articles, categories, permalinks, public
from tests.conftest import World


async def _actor(agent: models.Agent) -> auth.Actor:
    return await auth.load_actor(agent.id)


def _codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str | None, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


async def _counts() -> tuple[int, ...]:
    return (
        await models.Article.all().count(),
        await models.ArticlePermalink.all().count(),
        await models.ArticleCategory.all().count(),
        await models.Activity.all().count(),
    )


async def _article(
    world: World, title: str = "Reset your password", **kw: object
) -> models.Article:
    alice = await _actor(world.alice)
    return await articles.create_article(
        alice,
        title=title,
        department_id=world.support.id,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Reset your password", "reset-your-password"),
        ("Zażółć gęślą jaźń", "zazolc-gesla-jazn"),
        ("如何重置密码", "ru-he-zhong-zhi-mi-ma"),
        ("???", "article"),
    ],
)
async def test_permalinks_are_made_from_titles(world: World, title: str, slug: str) -> None:
    article = await _article(world, title)
    assert article.permalink == slug
    assert await permalinks.history(article.id) == [slug]
    again = await _article(world, title)
    assert again.permalink == f"{slug}-2"


async def test_renames_keep_every_old_permalink_pointing_at_the_current_one(world: World) -> None:
    alice = await _actor(world.alice)
    article = await _article(world, "First name", body="# Hello")
    for new in ("second-name", "Third Name"):
        await articles.update_article(alice, article_id=article.id, changes={"permalink": new})
    await articles.publish_article(alice, article_id=article.id)
    await articles.update_article(
        alice, article_id=article.id, changes={"visibility": ArticleVisibility.PUBLIC}
    )
    assert await permalinks.history(article.id) == ["first-name", "second-name", "third-name"]
    for old in ("first-name", "second-name"):
        assert await public.resolve(old) == public.Resolved(redirect_to="third-name")
        assert await public.resolve_page(old) == public.ResolvedPage(redirect_to="third-name")
        found = await articles.get_by_permalink(alice, permalink=old)
        assert found is not None and found.id == article.id
    current = await public.resolve("third-name")
    assert current.article is not None and current.article.id == article.id
    page = await public.resolve_page("third-name")
    assert page.article is not None and page.article.id == article.id
    assert page.article.updated_at == current.article.updated_at
    assert await public.resolve("third-name", [ArticleVisibility.AGENTS]) == public.Resolved()
    assert await public.resolve_page("first-name", [ArticleVisibility.AGENTS]) == (
        public.ResolvedPage()
    )
    # Renaming back to an old permalink of its own is allowed.
    await articles.update_article(alice, article_id=article.id, changes={"permalink": "first-name"})
    assert await public.resolve("third-name") == public.Resolved(redirect_to="first-name")
    updated = await models.Activity.filter(kind="article.updated").order_by("id").first()
    assert updated is not None
    assert updated.changes == {"permalink": {"old": "first-name", "new": "second-name"}}


async def test_a_deleted_articles_permalinks_are_never_reused(world: World) -> None:
    alice = await _actor(world.alice)
    gone = await _article(world, "Old feature")
    await articles.update_article(
        alice, article_id=gone.id, changes={"permalink": "old-feature-v2"}
    )
    await articles.delete_article(alice, article_id=gone.id)
    assert await public.resolve("old-feature") == public.Resolved(gone=True)
    assert await public.resolve_page("old-feature") == public.ResolvedPage(gone=True)
    before = await _counts()
    for taken in ("old-feature", "Old Feature V2"):
        with pytest.raises(ValidationFailed) as exc:
            await _article(world, "New feature", permalink=taken)
        assert _codes(exc) == [("permalink", ErrorCode.DUPLICATE)]
    assert await _counts() == before
    # From the title, the next free one.
    fresh = await _article(world, "Old feature")
    assert fresh.permalink == "old-feature-2"


async def test_bad_input_is_refused_and_writes_nothing(world: World) -> None:
    alice = await _actor(world.alice)
    other = await _article(world, "Other")
    await articles.update_article(alice, article_id=other.id, changes={"permalink": "other-old"})
    before = await _counts()
    cases: list[tuple[dict[str, object], list[tuple[str, str]]]] = [
        ({"title": "  "}, [("title", ErrorCode.REQUIRED)]),
        ({"body": "x" * 1_000_000}, [("body", ErrorCode.TOO_LONG)]),
        ({"permalink": "..."}, [("permalink", ErrorCode.INVALID)]),
        ({"permalink": "!!! ???"}, [("permalink", ErrorCode.INVALID)]),
        ({"permalink": "x" * 10_000}, [("permalink", ErrorCode.TOO_LONG)]),
        ({"permalink": "other"}, [("permalink", ErrorCode.DUPLICATE)]),
        ({"permalink": "OTHER-old"}, [("permalink", ErrorCode.DUPLICATE)]),
        ({"department_id": world.sales.id}, [("departmentId", ErrorCode.WRONG_DEPARTMENT)]),
        ({"tags": ["no spaces"]}, [("tags", ErrorCode.INVALID)]),
    ]
    for given, expected in cases:
        kw = {"title": "Fine", "department_id": world.support.id, **given}
        with pytest.raises(ValidationFailed) as exc:
            await articles.create_article(alice, **kw)  # type: ignore[arg-type]
        assert _codes(exc) == expected, given
    assert await _counts() == before


async def test_given_permalinks_are_normalised(world: World) -> None:
    for given, slug in (
        ("My Great Article", "my-great-article"),
        ("a/b/../c", "a-b-c"),
        ("UPPER", "upper"),
        ("  spaced  out ", "spaced-out"),
    ):
        article = await _article(world, "Title", permalink=given)
        assert article.permalink == slug


async def test_org5_an_agent_of_another_department(world: World) -> None:
    article = await _article(world)
    bob = await _actor(world.bob)  # Sales
    assert await articles.get_article(bob, article_id=article.id) is None
    assert await articles.list_articles(bob).count() == 0
    for call in (
        articles.publish_article(bob, article_id=article.id),
        articles.update_article(bob, article_id=article.id, changes={"title": "Mine"}),
        articles.delete_article(bob, article_id=article.id),
    ):
        with pytest.raises(ValidationFailed) as exc:
            await call
        assert _codes(exc) == [("id", ErrorCode.NOT_FOUND)]
    assert (await models.Article.get(id=article.id)).status is ArticleStatus.DRAFT
    admin = await _actor(world.admin)
    await articles.publish_article(admin, article_id=article.id)
    assert (await models.Article.get(id=article.id)).status is ArticleStatus.PUBLISHED


async def test_categories_tree_cycles_and_deleting_a_full_one(world: World) -> None:
    alice = await _actor(world.alice)
    admin = await _actor(world.admin)
    root = await categories.create_category(admin, name="Getting started")
    child = await categories.create_category(
        alice, name="Accounts", parent_id=root.id, department_id=world.support.id
    )
    grandchild = await categories.create_category(
        alice, name="Passwords", parent_id=child.id, department_id=world.support.id
    )
    before = await _counts()
    with pytest.raises(ValidationFailed) as exc:
        await categories.update_category(
            alice, category_id=child.id, changes={"parent_id": grandchild.id}
        )
    assert _codes(exc) == [("parentId", ErrorCode.INVALID)]
    with pytest.raises(ValidationFailed) as exc:
        await categories.update_category(
            alice, category_id=child.id, changes={"parent_id": child.id}
        )
    assert _codes(exc) == [("parentId", ErrorCode.INVALID)]
    with pytest.raises(ValidationFailed) as exc:
        await categories.create_category(alice, name="Org-wide")
    assert _codes(exc) == [("departmentId", ErrorCode.WRONG_DEPARTMENT)]
    with pytest.raises(ValidationFailed) as exc:
        await categories.update_category(alice, category_id=root.id, changes={"name": "Mine"})
    assert _codes(exc) == [("id", ErrorCode.WRONG_DEPARTMENT)]
    await _article(world, "In it", category_id=grandchild.id)
    with pytest.raises(ValidationFailed) as exc:
        await categories.delete_category(alice, category_id=grandchild.id)
    assert _codes(exc) == [("id", ErrorCode.IN_USE)]
    with pytest.raises(ValidationFailed) as exc:
        await categories.delete_category(alice, category_id=child.id)
    assert _codes(exc) == [("id", ErrorCode.IN_USE)]
    after = await _counts()
    assert after[2:] == (before[2], before[3] + 1)  # the article's creation only
    bob = await _actor(world.bob)
    seen = [c.name for c in await categories.category_tree(bob)]
    assert seen == ["Getting started"]  # org-wide: yes; Support's: no


async def test_votes(world: World) -> None:
    alice = await _actor(world.alice)
    article = await _article(world)
    with pytest.raises(ValidationFailed) as exc:
        await public.vote(alice, article_id=article.id, helpful=True)
    assert _codes(exc) == [("id", ErrorCode.INVALID_STATE)]
    await articles.publish_article(alice, article_id=article.id)
    row = await public.vote(alice, article_id=article.id, helpful=True)
    assert (row.helpful_count, row.not_helpful_count) == (1, 0)
    row = await public.vote(alice, article_id=article.id, helpful=True)
    assert (row.helpful_count, row.not_helpful_count) == (1, 0)
    row = await public.vote(alice, article_id=article.id, helpful=False)
    assert (row.helpful_count, row.not_helpful_count) == (0, 1)
    row = await public.vote(await _actor(world.admin), article_id=article.id, helpful=True)
    assert (row.helpful_count, row.not_helpful_count) == (1, 1)
    voted = await models.Activity.filter(kind="article.voted").count()
    assert voted == 3


async def test_comments_and_follows_on_articles_notify(world: World) -> None:
    alice = await _actor(world.alice)
    carol = await models.Agent.create(email="carol@zylker.com", first_name="C", last_name="Carol")
    await models.DepartmentMembership.create(agent_id=carol.id, department_id=world.support.id)
    dave = await models.Agent.create(email="dave@zylker.com", first_name="D", last_name="Dave")
    await models.DepartmentMembership.create(agent_id=dave.id, department_id=world.support.id)
    article = await _article(world)  # written by Alice
    await follows.follow_record(await _actor(dave), type_name="Article", record_id=article.id)
    mention = f"@[Carol]({to_global_id('Agent', carol.id)})"
    await comments.add_comment(
        await _actor(world.admin), type_name="Article", record_id=article.id, body=f"{mention}?"
    )
    notes = {
        agent.id: [
            (n.reason, (await n.activity).kind)
            for n in await models.Notification.filter(agent_id=agent.id)
        ]
        for agent in (world.alice, carol, dave, world.bob)
    }
    assert notes == {
        world.alice.id: [(NotificationReason.OWNER, "article.comment_added")],
        carol.id: [(NotificationReason.MENTIONED, "article.comment_added")],
        dave.id: [(NotificationReason.FOLLOWING, "article.comment_added")],
        world.bob.id: [],
    }
    # A change by someone else reaches the author too.
    await articles.update_article(
        await _actor(world.admin), article_id=article.id, changes={"summary": "Short"}
    )
    assert await models.Notification.filter(agent_id=world.alice.id).count() == 2
    # Deleting the article deletes its comments and follows.
    await articles.delete_article(alice, article_id=article.id)
    assert await models.Comment.filter(subject_type="Article").count() == 0
    assert await models.Follow.filter(subject_type="Article").count() == 0
