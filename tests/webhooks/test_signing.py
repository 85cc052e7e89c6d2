"""The signature scheme, and the verification snippet of README.md run on a real delivery."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from deskql.services.webhooks import signing, targets
from deskql.settings import Settings
from tests.conftest import World
from tests.webhooks.conftest import Receiver, actor_of

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_verify():  # type: ignore[no-untyped-def]
    text = README.read_text()
    section = text[text.index("## Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "README.md's Webhooks section has a Python snippet"
    scope: dict[str, object] = {}
    exec(code.group(1), scope)  # noqa: S102 - our own documentation
    return scope["verify"]


def test_header_round_trip_and_tampering():
    body = b'{"id":"x"}'
    value = signing.header("0123456789abcdef", body)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", value)
    assert signing.verify("0123456789abcdef", body, value)
    assert not signing.verify("0123456789abcdeX", body, value)
    assert not signing.verify("0123456789abcdef", body + b"x", value)
    old = signing.header("0123456789abcdef", body, int(time.time()) - 3600)
    assert not signing.verify("0123456789abcdef", body, old)
    assert not signing.verify("0123456789abcdef", body, "v1=abc")


async def test_readme_snippet_verifies_a_real_delivery(
    world: World, hook_settings: Settings, receiver: Receiver
):
    from deskql.services.webhooks import manage

    verify = _readme_verify()
    hook = await manage.create_webhook(
        actor_of(world.admin),
        settings=hook_settings,
        url=receiver.url,
        events_=["ticket.created"],
        secret="0123456789abcdef",
    )
    await manage.test_webhook(actor_of(world.admin), settings=hook_settings, webhook_id=hook.id)
    req = receiver.requests[0]
    header = req.headers["x-deskql-signature"]
    assert verify("0123456789abcdef", req.body, header)
    assert not verify("0123456789abcdef", req.body[:-1], header)
    assert not verify("fedcba9876543210", req.body, header)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_public_addresses(address: str, public: bool):
    assert targets.is_public(address) is public


async def test_resolve_checks_and_pins_the_address():
    with pytest.raises(targets.TargetRefused) as refused:
        await targets.resolve("http://localhost:8080/x?y=1", allow_private=False)
    assert refused.value.private
    target = await targets.resolve("http://localhost:8080/x?y=1", allow_private=True)
    assert target.host == "localhost"
    assert target.connect_url in ("http://127.0.0.1:8080/x?y=1", "http://[::1]:8080/x?y=1")
    assert targets.host_header("http://localhost:8080/x") == "localhost:8080"
    assert targets.host_header("https://example.com/x") == "example.com"
    for bad in ["gopher://a/", "http:///nohost", "", "http://a:b@c/"]:
        with pytest.raises(targets.TargetRefused) as exc:
            await targets.resolve(bad, allow_private=True)
        assert not exc.value.private
