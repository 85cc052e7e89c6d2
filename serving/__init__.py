"""How the server meets browsers, integrators and operators: the HTTP middleware (CORS, request
ids, request logs and metrics, body limit), /health and /ready, /metrics, logging set-up, the
start-up banner, the offline GraphiQL page and persisted queries (issue 11).

server.py assembles the application; each module here does one job:
- cors.py: CORS from the origins setting shared with the WebSocket check.
- observe.py: request id, one log line and the metrics of each request (one ASGI middleware).
- metrics.py: the Prometheus metrics (leaf module: counters other layers increment).
- health.py: /health, /ready and /metrics.
- logs.py: logging configuration (text or JSON) and the start-up banner.
- graphiql.py: the GraphiQL page served from web/static/graphiql.
- persisted.py: automatic persisted queries and the allow-list.
- limits.py: the request body size limit.
- view.py: the GraphQL view (context, auth, WebSocket frames, GraphiQL page, persisted
  queries, subscriptions over HTTP refused clearly, the request record, the WebSocket gauge).
"""
