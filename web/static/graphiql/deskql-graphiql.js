/* DeskQL's GraphiQL: queries and mutations over HTTP POST, subscriptions over a WebSocket
   (graphql-transport-ws) to the same /graphql. The Headers tab is open and prefilled with the
   Authorization header to complete; GraphiQL sends those headers with every HTTP request and
   as the WebSocket's connection_init payload, which is where DeskQL reads the token. */
(function () {
  "use strict";
  var mount = document.getElementById("graphiql");
  var http = new URL(mount.getAttribute("data-endpoint") || "/graphql", window.location.href);
  var ws = new URL(http.href);
  ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: http.href, subscriptionUrl: ws.href });
  var headers = JSON.stringify(
    { Authorization: "Bearer PASTE-YOUR-TOKEN-HERE" },
    null,
    2
  );
  var query = [
    "# Welcome to DeskQL's GraphiQL.",
    "#",
    "# 1. Get a token: run the login mutation below (the demo data's administrator is",
    "#    admin@zylker.com / deskql-demo), or `deskql create-agent ... --token`.",
    "# 2. Put it in the Headers tab below: { \"Authorization\": \"Bearer dq_...\" }",
    "#    (kept in this browser's local storage). Subscriptions use it too.",
    "",
    "mutation Login {",
    "  login(input: {email: \"admin@zylker.com\", password: \"deskql-demo\"}) {",
    "    token",
    "    errors { code message }",
    "  }",
    "}",
    "",
    "query Me {",
    "  me { name email role }",
    "}",
    "",
  ].join("\n");
  ReactDOM.createRoot(mount).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: query,
      defaultHeaders: headers,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: true,
    })
  );
})();
