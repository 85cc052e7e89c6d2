"""Attachments: multipart upload, storage on disk by sha256, download with a token, limits."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from deskql import models
from deskql.server import create_app
from deskql.settings import Settings
from tests.conftest import World, gid

UPLOAD = """mutation($input: AttachmentUploadInput!) { attachmentUpload(input: $input) {
  errors { field code message } attachment { id filename contentType size sha256 url } } }"""


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def _ticket(world: World) -> models.Ticket:
    return await models.Ticket.create(
        number=1, subject="With files", department_id=world.support.id, contact_id=world.contact.id
    )


async def upload(
    http: httpx.AsyncClient,
    token: str,
    ticket_id: str,
    name: str,
    data: bytes,
    ctype: str = "text/plain",
) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"input": {"ticketId": ticket_id, "file": None}}}
    return await http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (name, data, ctype)},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_upload_store_download_delete(
    http: httpx.AsyncClient, world: World, clean_db: Settings
) -> None:
    ticket = await _ticket(world)
    data = "zażółć gęślą jaźń\n".encode() * 1000
    resp = await upload(
        http, world.alice_token, gid("Ticket", ticket.id), "../../etc/notes.txt", data
    )
    payload = resp.json()["data"]["attachmentUpload"]
    assert payload["errors"] == []
    att = payload["attachment"]
    sha = hashlib.sha256(data).hexdigest()
    assert att["filename"] == "notes.txt"  # no directories survive
    assert (att["size"], att["sha256"], att["contentType"]) == (len(data), sha, "text/plain")
    stored = clean_db.attachments_dir / sha[:2] / sha
    assert stored.read_bytes() == data
    assert await models.Activity.filter(kind="ticket.attachment_added").count() == 1

    got = await http.get(att["url"], headers={"Authorization": f"Bearer {world.alice_token}"})
    assert got.status_code == 200 and got.content == data
    assert "notes.txt" in got.headers["content-disposition"]
    # Bob (Sales) may not see a Support ticket's file; no token at all is a 401.
    denied = await http.get(att["url"], headers={"Authorization": f"Bearer {world.bob_token}"})
    assert denied.status_code == 404
    assert (await http.get(att["url"])).status_code == 401

    delete = """mutation($id: ID!) { attachmentDelete(input: {id: $id}) {
      errors { code } attachment { filename } } }"""
    resp = await http.post(
        "/graphql",
        json={"query": delete, "variables": {"id": att["id"]}},
        headers={"Authorization": f"Bearer {world.alice_token}"},
    )
    assert resp.json()["data"]["attachmentDelete"]["attachment"] == {"filename": "notes.txt"}
    assert not stored.exists()
    assert await models.Attachment.all().count() == 0


async def test_same_content_twice_is_stored_once(
    http: httpx.AsyncClient, world: World, clean_db: Settings
) -> None:
    ticket = await _ticket(world)
    for name in ["a.bin", "b.bin"]:
        resp = await upload(
            http,
            world.alice_token,
            gid("Ticket", ticket.id),
            name,
            b"\x00\x01" * 10,
            "application/octet-stream",
        )
        assert resp.json()["data"]["attachmentUpload"]["errors"] == []
    files = stored_files(clean_db.attachments_dir)
    assert len(files) == 1
    assert await models.Attachment.all().count() == 2


async def test_upload_refusals_write_nothing(http: httpx.AsyncClient, world: World) -> None:
    ticket = await _ticket(world)
    tid = gid("Ticket", ticket.id)
    resp = await upload(http, world.bob_token, tid, "x.txt", b"hi")
    assert [e["code"] for e in resp.json()["data"]["attachmentUpload"]["errors"]] == ["NOT_FOUND"]
    resp = await upload(http, world.alice_token, gid("Contact", 1), "x.txt", b"hi")
    assert [e["code"] for e in resp.json()["data"]["attachmentUpload"]["errors"]] == ["INVALID"]
    resp = await upload(http, world.alice_token, tid, "x.txt", b"hi", "not a type")
    assert [e["code"] for e in resp.json()["data"]["attachmentUpload"]["errors"]] == ["INVALID"]
    assert await models.Attachment.all().count() == 0


async def test_upload_over_the_limit(world: World, clean_db: Settings) -> None:
    small = replace(clean_db, attachment_max_bytes=100_000)
    app = create_app(small, manage_db=False)
    ticket = await _ticket(world)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        # Over the service limit but within the body limit: a payload error.
        resp = await upload(
            c, world.alice_token, gid("Ticket", ticket.id), "big.bin", b"x" * 100_001
        )
        errors = resp.json()["data"]["attachmentUpload"]["errors"]
        assert [e["code"] for e in errors] == ["LIMIT_EXCEEDED"]
        # Far over: refused at the door with 413.
        resp = await upload(
            c, world.alice_token, gid("Ticket", ticket.id), "big.bin", b"x" * 300_000
        )
        assert resp.status_code == 413
    assert await models.Attachment.all().count() == 0
    leftovers = stored_files(small.attachments_dir)
    assert leftovers == []


def test_a_stored_blob_is_durable_file_folder_and_new_folder_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import os

    from deskql.services import attachments

    synced: list[Path] = []
    fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    monkeypatch.setattr(attachments.os, "fsync", recording)
    root = tmp_path / "store"
    sha, size = attachments.store_blob(root, io.BytesIO(b"first"), 100)
    final = attachments.blob_path(root, sha)
    assert final.read_bytes() == b"first" and size == 5
    # The data (under its temporary name), then the folder that now names it, then the root
    # that names the new folder.
    assert synced[0].parent == final.parent.parent
    assert synced[1:] == [final.parent, root]
    # Another body in an existing folder: no root fsync needed.
    same_folder = next(
        body
        for body in (f"x{i}".encode() for i in range(1000))
        if hashlib.sha256(body).hexdigest()[:2] == sha[:2]
    )
    synced.clear()
    attachments.store_blob(root, io.BytesIO(same_folder), 100)
    assert synced[1:] == [final.parent]
