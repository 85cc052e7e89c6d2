"""recordCommentAdd, commentEdit and commentDelete: comments on any record by global id, edit
and delete by the author or an administrator, with payload error codes (COL-1)."""

from __future__ import annotations

from typing import Any

from deskql import models
from tests.conftest import GQLClient, World, gid
from tests.graphql.test_tickets import codes, support_ticket

ADD = """mutation($id: ID!, $body: String!) {
  recordCommentAdd(input: {recordId: $id, body: $body}) {
    errors { field code } comment { id body subjectType subjectId ticket { subject } } } }"""
EDIT = """mutation($id: ID!, $body: String!) {
  commentEdit(input: {commentId: $id, body: $body}) { errors { field code } comment { body } } }"""
DELETE = """mutation($id: ID!) {
  commentDelete(input: {commentId: $id}) { errors { field code } comment { body } } }"""


async def test_comment_on_a_ticket_by_its_global_id(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world)
    alice = gql.as_(world.alice_token)
    res = await alice(ADD, {"id": t["id"], "body": "Noted"})
    comment: dict[str, Any] = res.data["recordCommentAdd"]["comment"]
    assert comment["body"] == "Noted"
    assert (comment["subjectType"], comment["subjectId"]) == ("Ticket", t["id"])
    assert comment["ticket"] == {"subject": "Cannot log in"}
    node = await alice(
        "query($id: ID!) { node(id: $id) { ... on Comment { body } } }", {"id": comment["id"]}
    )
    assert node.data["node"] == {"body": "Noted"}
    hidden = await gql.as_(world.bob_token)(
        "query($id: ID!) { node(id: $id) { id } }", {"id": comment["id"]}
    )
    assert hidden.data["node"] is None
    # Bad input: another department's record, a type that takes no comments, a bad id.
    res = await gql.as_(world.bob_token)(ADD, {"id": t["id"], "body": "hi"})
    assert codes(res.data["recordCommentAdd"]) == ["NOT_FOUND"]
    res = await alice(ADD, {"id": gid("Department", world.support.id), "body": "hi"})
    assert codes(res.data["recordCommentAdd"]) == ["INVALID"]
    res = await alice(ADD, {"id": "not an id", "body": "hi"})
    assert codes(res.data["recordCommentAdd"]) == ["INVALID"]
    assert await models.Comment.all().count() == 1


async def test_edit_and_delete_by_the_author_or_an_admin(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world)
    alice = gql.as_(world.alice_token)
    res = await alice(ADD, {"id": t["id"], "body": "First"})
    comment_id = res.data["recordCommentAdd"]["comment"]["id"]
    res = await gql.as_(world.bob_token)(EDIT, {"id": comment_id, "body": "Bob's"})
    assert codes(res.data["commentEdit"]) == ["NOT_FOUND"]
    res = await alice(EDIT, {"id": comment_id, "body": "Second"})
    assert res.data["commentEdit"] == {"errors": [], "comment": {"body": "Second"}}
    history = await alice(
        """query($id: ID!) {
          ticket(id: $id) { activities(first: 100) { nodes { kind changes } } }
        }""",
        {"id": t["id"]},
    )
    edited = [
        a for a in history.data["ticket"]["activities"]["nodes"] if a["kind"].endswith("_edited")
    ]
    assert edited == [
        {
            "kind": "ticket.comment_edited",
            "changes": {"commentId": comment_id, "body": {"old": "First", "new": "Second"}},
        }
    ]
    res = await gql.as_(world.admin_token)(DELETE, {"id": comment_id})
    assert res.data["commentDelete"] == {"errors": [], "comment": {"body": "Second"}}
    res = await alice(DELETE, {"id": comment_id})
    assert codes(res.data["commentDelete"]) == ["NOT_FOUND"]
    assert await models.Comment.all().count() == 0
