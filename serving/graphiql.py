"""The GraphiQL page of `GET /graphql` in a browser, built from the assets committed under
web/static/graphiql (no CDN: it works offline). deskql-graphiql.js mounts it with the Headers
tab open and prefilled for `Authorization: Bearer ...`, and subscriptions over WebSocket."""

from __future__ import annotations

import html

from starlette.requests import Request

ASSETS = "/static/graphiql"
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "deskql-graphiql.js",
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DeskQL GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL&hellip;</div>
{scripts}
</body>
</html>
"""


def page(request: Request) -> str:
    """The HTML of the GraphiQL page for the endpoint this request came to."""
    root = request.scope.get("root_path", "")
    assets = html.escape(root + ASSETS)
    scripts = "\n".join(f'<script src="{assets}/{name}"></script>' for name in SCRIPTS)
    endpoint = html.escape(root + request.url.path)
    return PAGE.format(assets=assets, endpoint=endpoint, scripts=scripts)
