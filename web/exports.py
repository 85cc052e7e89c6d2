"""GET /exports/csv: a CSV export streamed to a browser holding a signed URL (CUS-7)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from deskql.services import exports, signed_urls
from deskql.settings import Settings

STATUS = {"EXPIRED": 410, "REPLAYED": 410, "INVALID": 403}


def routes(settings: Settings) -> list[BaseRoute]:
    """The export download route."""

    async def download(request: Request) -> Response:
        try:
            ref, rows = await exports.open_export(settings, dict(request.query_params))
        except signed_urls.SignedUrlError as exc:
            return PlainTextResponse(str(exc), status_code=STATUS[exc.reason])
        except exports.ExportGone as exc:
            return PlainTextResponse(str(exc), status_code=404)
        name = f"{ref.kind.lower()}s.csv"
        return StreamingResponse(
            exports.csv_chunks(ref, rows),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return [Route(exports.PATH, download, methods=["GET"])]
