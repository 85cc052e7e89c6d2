"""Knowledge base over GraphQL: articles, categories as a tree, permalinks (old ones too),
bodyHtml sanitized, votes, follows and comments on articles, ORG-5 with another department."""

from __future__ import annotations

from typing import Any

from deskql import models
from tests.conftest import GQLClient, World, gid
from tests.graphql.test_tickets import codes

CREATE = """mutation($input: ArticleCreateInput!) { articleCreate(input: $input) {
  errors { field code } article { id title permalink status visibility tags bodyHtml url
    department { name } author { email } category { name } } } }"""
UPDATE = """mutation($input: ArticleUpdateInput!) { articleUpdate(input: $input) {
  errors { field code } article { title permalink oldPermalinks } } }"""
PUBLISH = """mutation($id: ID!) { articlePublish(input: {id: $id}) {
  errors { field code } article { status publishedAt } } }"""
VOTE = """mutation($id: ID!, $h: Boolean!) { articleVote(input: {id: $id, helpful: $h}) {
  errors { field code } article { helpfulCount notHelpfulCount } } }"""
CATEGORY = """mutation($input: ArticleCategoryCreateInput!) { articleCategoryCreate(input: $input) {
  errors { field code } category { id name } } }"""


async def _create(gql: GQLClient, token: str, **fields: Any) -> dict[str, Any]:
    res = await gql.as_(token)(CREATE, {"input": fields})
    return res.data["articleCreate"]


async def test_article_lifecycle(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    alice = gql.as_(world.alice_token)
    root = (await admin(CATEGORY, {"input": {"name": "Accounts"}})).data["articleCategoryCreate"]
    child = (
        await alice(
            CATEGORY,
            {
                "input": {
                    "name": "Passwords",
                    "parentId": root["category"]["id"],
                    "departmentId": gid("Department", world.support.id),
                }
            },
        )
    ).data["articleCategoryCreate"]
    assert child["errors"] == []
    body = (
        "# Reset\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1)) and [ok](https://example.com) and "
        '<a href="javascript:alert(2)" onclick="alert(3)">raw</a>'
    )
    made = await _create(
        gql,
        world.alice_token,
        title="Zażółć gęślą jaźń",
        departmentId=gid("Department", world.support.id),
        categoryId=child["category"]["id"],
        body=body,
        tags=["Password", "login"],
        visibility="PUBLIC",
    )
    assert made["errors"] == []
    article = made["article"]
    assert article["permalink"] == "zazolc-gesla-jazn"
    assert article["url"] == "/kb/articles/zazolc-gesla-jazn"
    assert (article["status"], article["visibility"]) == ("DRAFT", "PUBLIC")
    assert article["tags"] == ["login", "password"]
    assert article["author"] == {"email": "alice@zylker.com"}
    assert article["category"] == {"name": "Passwords"}
    html = article["bodyHtml"]
    assert "<h1>Reset</h1>" in html and 'href="https://example.com"' in html
    assert "<script" not in html and "alert(1)</script" not in html
    assert "onerror" not in html and "onclick" not in html
    assert 'href="javascript' not in html.lower() and '<img src="x">' in html

    # Vote on a draft: refused.
    res = await alice(VOTE, {"id": article["id"], "h": True})
    assert codes(res.data["articleVote"]) == ["INVALID_STATE"]
    res = await alice(PUBLISH, {"id": article["id"]})
    assert res.data["articlePublish"]["article"]["status"] == "PUBLISHED"
    res = await alice(VOTE, {"id": article["id"], "h": True})
    assert res.data["articleVote"]["article"] == {"helpfulCount": 1, "notHelpfulCount": 0}

    # Renamed twice: both old permalinks find it.
    for new in ("reset-password", "How to reset"):
        res = await alice(UPDATE, {"input": {"id": article["id"], "permalink": new}})
        assert res.data["articleUpdate"]["errors"] == []
    assert res.data["articleUpdate"]["article"] == {
        "title": "Zażółć gęślą jaźń",
        "permalink": "how-to-reset",
        "oldPermalinks": ["zazolc-gesla-jazn", "reset-password"],
    }
    for link in ("zazolc-gesla-jazn", "reset-password", "how-to-reset"):
        res = await alice(
            "query($p: String!) { article(permalink: $p) { id permalink } }", {"p": link}
        )
        assert res.data["article"] == {"id": article["id"], "permalink": "how-to-reset"}

    # History with previous values.
    res = await alice(
        """query($id: ID!) { node(id: $id) { ... on Article {
          activities(first: 10) { edges { node { kind changes } } } } } }""",
        {"id": article["id"]},
    )
    kinds = [e["node"]["kind"] for e in res.data["node"]["activities"]["edges"]]
    assert kinds == [
        "article.updated",
        "article.updated",
        "article.voted",
        "article.published",
        "article.created",
    ]
    assert res.data["node"]["activities"]["edges"][0]["node"]["changes"] == {
        "permalink": {"old": "reset-password", "new": "how-to-reset"}
    }

    # The tree.
    res = await alice("{ articleCategories { name children { name children { name } } } }")
    assert res.data["articleCategories"] == [
        {"name": "Accounts", "children": [{"name": "Passwords", "children": []}]}
    ]
    # Deleting a non-empty category.
    res = await alice(
        """mutation($id: ID!) { articleCategoryDelete(input: {id: $id}) { errors { code } } }""",
        {"id": child["category"]["id"]},
    )
    assert codes(res.data["articleCategoryDelete"]) == ["IN_USE"]


async def test_another_department_sees_nothing_and_changes_nothing(
    gql: GQLClient, world: World
) -> None:
    made = await _create(
        gql, world.alice_token, title="Internal", departmentId=gid("Department", world.support.id)
    )
    article_id = made["article"]["id"]
    bob = gql.as_(world.bob_token)
    res = await bob("query($id: ID!) { node(id: $id) { id } }", {"id": article_id})
    assert res.data["node"] is None
    res = await bob("query { articles(first: 10) { edges { node { id } } } }")
    assert res.data["articles"]["edges"] == []
    res = await bob(PUBLISH, {"id": article_id})
    assert codes(res.data["articlePublish"]) == ["NOT_FOUND"]
    res = await bob(
        CREATE,
        {"input": {"title": "Mine", "departmentId": gid("Department", world.support.id)}},
    )
    assert codes(res.data["articleCreate"]) == ["WRONG_DEPARTMENT"]
    assert (await models.Article.get()).status.value == "DRAFT"
    # Bob cannot find it by permalink either; a 10 KB or garbage permalink finds nothing.
    query = "query($p: String!) { article(permalink: $p) { id } }"
    for permalink in ("internal", "x" * 10_240, "%ff%00../..", "ÄÖÜ"):
        res = await bob(query, {"p": permalink})
        assert res.data["article"] is None, permalink


async def test_filters_sorts_and_bad_input(gql: GQLClient, world: World) -> None:
    support = gid("Department", world.support.id)
    for title, tags in (("Alpha printer", ["printer"]), ("Beta login", ["login"])):
        made = await _create(gql, world.alice_token, title=title, departmentId=support, tags=tags)
        assert made["errors"] == []
    alice = gql.as_(world.alice_token)
    query = """query($f: ArticleFilter, $s: ArticleSort) { articles(filter: $f, sort: $s) {
      edges { node { title } } } }"""
    res = await alice(query, {"f": {"tag": "login"}})
    assert [e["node"]["title"] for e in res.data["articles"]["edges"]] == ["Beta login"]
    res = await alice(query, {"f": {"text": "PRINT"}})
    assert [e["node"]["title"] for e in res.data["articles"]["edges"]] == ["Alpha printer"]
    res = await alice(query, {"s": {"field": "TITLE", "direction": "ASC"}})
    assert [e["node"]["title"] for e in res.data["articles"]["edges"]] == [
        "Alpha printer",
        "Beta login",
    ]
    before = await models.Article.all().count()
    for fields, code in (
        ({"title": ""}, "REQUIRED"),
        ({"body": "x" * 300_000}, "TOO_LONG"),
        ({"permalink": "../.."}, "INVALID"),
        ({"permalink": "Alpha Printer"}, "DUPLICATE"),
    ):
        made = await _create(
            gql, world.alice_token, **{"title": "T", "departmentId": support, **fields}
        )
        assert codes(made) == [code], fields
    # A 1 MB body does not even reach the service: the request is too large (413).
    res = await alice(
        CREATE, {"input": {"title": "T", "departmentId": support, "body": "x" * 1_000_000}}
    )
    assert (res.status, res.error_codes()) == (413, ["PAYLOAD_TOO_LARGE"])
    assert await models.Article.all().count() == before


async def test_follow_and_comment_on_an_article(gql: GQLClient, world: World) -> None:
    made = await _create(
        gql, world.alice_token, title="Guide", departmentId=gid("Department", world.support.id)
    )
    article_id = made["article"]["id"]
    admin = gql.as_(world.admin_token)
    res = await admin(
        """mutation($id: ID!) { articleFollow(input: {id: $id}) {
          errors { code } following article { following } } }""",
        {"id": article_id},
    )
    assert res.data["articleFollow"] == {
        "errors": [],
        "following": True,
        "article": {"following": True},
    }
    res = await gql.as_(world.alice_token)(
        """mutation($id: ID!) { recordCommentAdd(input: {recordId: $id, body: "Please check"}) {
          errors { code } comment { subjectType subjectId } } }""",
        {"id": article_id},
    )
    assert res.data["recordCommentAdd"]["comment"] == {
        "subjectType": "Article",
        "subjectId": article_id,
    }
    res = await admin(
        """query($id: ID!) { node(id: $id) { ... on Article {
          comments(first: 5) { edges { node { body author { email } } } } } } }""",
        {"id": article_id},
    )
    assert res.data["node"]["comments"]["edges"] == [
        {"node": {"body": "Please check", "author": {"email": "alice@zylker.com"}}}
    ]
    note = await models.Notification.get(agent_id=world.admin.id)
    assert note.reason.value == "FOLLOWING"
    res = await gql.as_(world.bob_token)(
        """mutation($id: ID!) { articleFollow(input: {id: $id}) { errors { code } } }""",
        {"id": article_id},
    )
    assert codes(res.data["articleFollow"]) == ["NOT_FOUND"]
