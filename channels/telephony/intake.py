"""`POST /telephony/events`: call events from a PBX or a cloud telephony provider.

The request body is one JSON event, at most `telephony_max_event_bytes` (64 KB):

    {"callId": "pbx-1234",            # the provider's id of the call (required)
     "eventId": "pbx-1234-2",          # optional; default "<callId>:<type>"
     "type": "ringing" | "answered" | "ended" | "missed" | "voicemail",
     "direction": "inbound" | "outbound",   # default inbound
     "from": "+1 415 555 0100",        # the customer's number (any format; E.164 stored)
     "agentExtension": "201",          # optional: the agent's extension
     "timestamp": "2026-12-04T16:00:00Z",  # optional; default now
     "durationSeconds": 42, "recordingUrl": "https://..."}  # optional

signed as channels.telephony.signature describes. Answers: 200 {"call": <global id>,
"duplicate": bool}; 401 bad, missing or old signature (nothing logged); 413 too large; 400
not JSON; 422 invalid fields and 409 an ambiguous caller, both with `errors` [{field,
message, code}] and nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from deskql.channels.telephony import signature
from deskql.models.activities import CallDirection
from deskql.schema.ids import to_global_id
from deskql.services.activities import intake
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.settings import Settings

MAX_ID = 128


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str, code: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": field, "message": message, "code": code}]}, status_code=status
    )


def parse(data: Any) -> intake.CallEvent:
    """A CallEvent from the decoded JSON; ValidationFailed names the bad fields."""
    if not isinstance(data, dict):
        raise ValidationFailed.one(None, "the body must be a JSON object", ErrorCode.INVALID)
    problems: list[tuple[str, str]] = []

    def text(key: str, *, required: bool = False, limit: int = MAX_ID) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                problems.append((key, f"{key} is required"))
            return ""
        if not isinstance(value, str) or len(value) > limit:
            problems.append((key, f"{key} must be a string of at most {limit} characters"))
            return ""
        return value.strip()

    call_id = text("callId", required=True)
    kind = text("type", required=True).lower()
    event_id = text("eventId") or f"{call_id}:{kind}"
    number = text("from", limit=40)
    direction_text = (text("direction") or "inbound").upper()
    try:
        direction = CallDirection(
            direction_text + "BOUND" if direction_text in ("IN", "OUT") else direction_text
        )
    except ValueError:
        problems.append(("direction", "direction must be inbound or outbound"))
        direction = CallDirection.INBOUND
    at = datetime.now(UTC)
    stamp = data.get("timestamp")
    if stamp is not None:
        try:
            at = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        except ValueError:
            problems.append(("timestamp", "timestamp must be ISO 8601"))
    duration = data.get("durationSeconds")
    if duration is not None and (
        not isinstance(duration, int) or isinstance(duration, bool) or not 0 <= duration <= 604800
    ):
        problems.append(("durationSeconds", "durationSeconds must be 0 to 604800"))
        duration = None
    recording = text("recordingUrl", limit=500)
    if recording and not recording.lower().startswith(("http://", "https://")):
        problems.append(("recordingUrl", "recordingUrl must be an http(s) URL"))
    if problems:
        from deskql.services.errors import FieldError

        raise ValidationFailed([FieldError(k, m, ErrorCode.INVALID) for k, m in problems])
    return intake.CallEvent(
        call_id=call_id,
        event_id=event_id,
        type=kind,
        at=at,
        number=number,
        direction=direction,
        extension=text("agentExtension", limit=20),
        duration_seconds=duration,
        recording_url=recording,
    )


def routes(settings: Settings) -> list[BaseRoute]:
    """The telephony channel's HTTP routes (mounted by server.py)."""

    async def events(request: Request) -> Response:
        limit = settings.telephony_max_event_bytes
        try:
            body = await _body(request, limit)
        except _TooLarge:
            return _error(413, f"an event is at most {limit} bytes", "PAYLOAD_TOO_LARGE")
        except ClientDisconnect:
            return Response(status_code=400)
        why = signature.check(
            settings.telephony_secret,
            request.headers.get(signature.TIMESTAMP_HEADER),
            request.headers.get(signature.SIGNATURE_HEADER),
            body,
            window=settings.telephony_replay_seconds,
        )
        if why is not None:
            return _error(401, why, "UNAUTHENTICATED")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error(400, "the body is not JSON", "INVALID")
        try:
            done = await intake.receive(settings, parse(data))
        except ValidationFailed as exc:
            status = 409 if any(e.code is ErrorCode.CONFLICT for e in exc.errors) else 422
            return JSONResponse(
                {
                    "errors": [
                        {"field": e.field, "message": e.message, "code": e.code.value}
                        for e in exc.errors
                    ]
                },
                status_code=status,
            )
        return JSONResponse(
            {
                "call": to_global_id("Call", done.call.id),
                "created": done.created,
                "duplicate": done.duplicate,
            }
        )

    return [Route("/telephony/events", events, methods=["POST"])]
