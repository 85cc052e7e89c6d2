"""CORS for HTTP (Starlette's middleware) from the one origins setting that also governs
WebSocket handshakes (Settings.allowed_origins, normalised the way strawberry compares them).

Credentials are off by default (tokens travel in the Authorization header, never cookies);
preflights are cached by browsers for `cors_max_age_seconds`. Requests without an Origin and
same-origin requests are untouched. A refused origin gets no CORS header at all, a refused
preflight a plain 400.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Send
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin

from deskql.settings import Settings

ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Request-ID", "Apollo-Require-Preflight")
EXPOSED_HEADERS = ("X-Request-ID",)
SEEN_ORIGINS = 1024  # origins whose verdict is remembered (parsing one costs ~10 us)


class OriginCORS(CORSMiddleware):
    """Starlette's CORSMiddleware, comparing normalised origins and saying nothing (no
    Access-Control-* header) to an origin that is not allowed."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(
            app,
            allow_origins=sorted(normalize_allowed_origins(settings.allowed_origins)),
            allow_methods=("GET", "POST"),
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=settings.cors_allow_credentials,
            expose_headers=EXPOSED_HEADERS,
            max_age=settings.cors_max_age_seconds,
        )
        self._seen: dict[str, bool] = {}

    def is_allowed_origin(self, origin: str) -> bool:
        if self.allow_all_origins:
            return True
        known = self._seen.get(origin)
        if known is None:
            normal = normalize_origin(origin)
            known = normal is not None and normal in self.allow_origins
            if len(self._seen) < SEEN_ORIGINS:  # origins are the client's: keep a bounded few
                self._seen[origin] = known
        return known

    def preflight_response(self, request_headers: Headers) -> Response:
        if not self.is_allowed_origin(request_headers["origin"]):
            return PlainTextResponse(
                "Disallowed CORS origin", status_code=400, headers={"Vary": "Origin"}
            )
        return super().preflight_response(request_headers)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        if message["type"] == "http.response.start":
            origin = request_headers.get("origin")
            if origin is not None and not self.is_allowed_origin(origin):
                headers = MutableHeaders(scope=message)
                headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
                await send(message)
                return
        await super().send(message, send, request_headers)
