"""Click-to-dial through Asterisk ARI (the Asterisk REST Interface).

`originate` asks Asterisk to ring the agent's endpoint (`POST /ari/channels`, documented at
https://docs.asterisk.org/Asterisk_22_Documentation/API_Documentation/Asterisk_REST_Interface/Channels_REST_API/#originate);
when the agent answers, Asterisk continues in the dialplan at `extension` (the customer's
number) in `context`, which rings the customer. Authentication is HTTP Basic with an ARI user
(ari.conf). Asterisk answers 200 with the new Channel (its `id` names the call in the events
that follow), 400 for bad parameters, 404 when the endpoint is not found, 409 for a channel id
in use, 5xx for its own failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class DialFailed(Exception):
    """The PBX refused the call (`refused`) or could not be reached (not `refused`)."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True)
class AriConfig:
    """Where the ARI is and how a click-to-dial call is placed."""

    url: str
    user: str
    password: str
    app: str
    endpoint: str  # e.g. "PJSIP/{extension}"
    context: str
    caller_id: str
    timeout: float


async def originate(
    config: AriConfig, *, extension: str, number: str, variables: dict[str, str] | None = None
) -> dict[str, Any]:
    """Ring the agent's extension, then the customer's number; the new channel as JSON."""
    params = {
        "endpoint": config.endpoint.format(extension=extension),
        "extension": number,
        "context": config.context,
        "priority": "1",
        "timeout": "30",
    }
    if config.caller_id:
        params["callerId"] = config.caller_id
    url = config.url.rstrip("/") + "/ari/channels"
    try:
        async with httpx.AsyncClient(timeout=config.timeout) as client:
            resp = await client.post(
                url,
                params=params,
                json={"variables": variables or {}},
                auth=(config.user, config.password),
            )
    except httpx.HTTPError as exc:
        raise DialFailed(
            f"the phone system at {config.url} could not be reached ({type(exc).__name__})",
            refused=False,
        ) from None
    if resp.status_code == 200:
        body = resp.json()
        if not isinstance(body, dict) or not body.get("id"):
            raise DialFailed("the phone system answered without a channel id", refused=False)
        return body
    detail = _message(resp)
    if resp.status_code in (400, 401, 403, 404, 409, 422):
        raise DialFailed(
            f"the phone system refused the call ({resp.status_code}: {detail})", refused=True
        )
    raise DialFailed(f"the phone system failed ({resp.status_code}: {detail})", refused=False)


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:200]
    return resp.reason_phrase
