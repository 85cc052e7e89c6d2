// The help center's client: plain DOM, no framework, nothing loaded from elsewhere.
// The contact's bearer token lives in sessionStorage (no cookies: nothing for another site to
// ride on, so no CSRF). Every value from the server is put in the page with textContent,
// never as HTML, except article bodies, which the server sanitized (nh3) before sending.
"use strict";
(function () {
  const API = "/help/graphql";
  const KEY = "deskql.help.token";
  const view = document.getElementById("view");
  const statusBox = document.getElementById("status");
  const nav = document.getElementById("nav");
  let live = null; // the open WebSocket of the ticket on screen

  const token = () => sessionStorage.getItem(KEY);
  const setToken = (t) => (t ? sessionStorage.setItem(KEY, t) : sessionStorage.removeItem(KEY));

  function say(text, isError) {
    statusBox.textContent = text || "";
    statusBox.classList.toggle("error", !!isError);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function field(label, input) {
    const id = input.id || "f-" + Math.random().toString(36).slice(2);
    input.id = id;
    return el("div", {}, el("label", { for: id, text: label }), input);
  }

  function show(title, ...children) {
    view.replaceChildren(el("h1", { text: title }), ...children);
    view.focus();
    document.title = title;
  }

  async function gql(query, variables, files) {
    const headers = {};
    if (token()) headers.Authorization = "Bearer " + token();
    let body;
    if (files && files.length) {
      const form = new FormData();
      const map = {};
      files.forEach((_, i) => (map[String(i)] = ["variables.input.attachments." + i]));
      variables.input.attachments = files.map(() => null);
      form.append("operations", JSON.stringify({ query, variables }));
      form.append("map", JSON.stringify(map));
      files.forEach((f, i) => form.append(String(i), f, f.name));
      body = form;
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify({ query, variables: variables || {} });
    }
    const res = await fetch(API, { method: "POST", headers, body });
    const json = await res.json().catch(() => ({ errors: [{ message: "HTTP " + res.status }] }));
    if (json.errors && json.errors.length) {
      const code = json.errors[0].extensions && json.errors[0].extensions.code;
      if (code === "UNAUTHENTICATED") {
        setToken(null);
        location.hash = "#/signin";
      }
      throw new Error(json.errors[0].message);
    }
    return json.data;
  }

  function payloadOk(payload) {
    if (payload.errors && payload.errors.length) {
      say(payload.errors.map((e) => e.message).join("; "), true);
      return false;
    }
    return true;
  }

  const statusText = { OPEN: "Open", ON_HOLD: "On hold", ESCALATED: "Escalated", CLOSED: "Closed" };

  // --- signing in -------------------------------------------------------------------------
  async function signIn() {
    nav.hidden = true;
    const info = (await gql("{ helpCenter { name selfSignup } }")).helpCenter;
    const email = el("input", { type: "email", name: "email", autocomplete: "username", required: true });
    const password = el("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
    const form = el("form", { id: "signin-form", onsubmit: async (e) => {
      e.preventDefault();
      const r = (await gql(`mutation($input: SignInInput!) { signIn(input: $input) {
        errors { message code } token retryAfterSeconds } }`,
        { input: { email: email.value, password: password.value } })).signIn;
      if (!payloadOk(r)) return;
      setToken(r.token);
      say("");
      location.hash = "#/";
    } }, field("Email", email), field("Password", password), el("button", { type: "submit", text: "Sign in" }));
    show("Sign in to the " + info.name + " help center", form,
      el("p", {}, el("a", { href: "#/forgot", text: "Forgot your password?" })),
      el("p", {}, el("a", { href: "#/articles", text: "Browse the articles" })),
      info.selfSignup ? el("p", {}, el("a", { href: "#/signup", text: "New here? Sign up" })) : null);
  }

  function forgot() {
    const email = el("input", { type: "email", required: true, autocomplete: "username" });
    show("Reset your password", el("form", { onsubmit: async (e) => {
      e.preventDefault();
      const r = (await gql(`mutation($input: PasswordResetRequestInput!) {
        passwordResetRequest(input: $input) { errors { message } message } }`, { input: { email: email.value } })).passwordResetRequest;
      if (payloadOk(r)) say(r.message);
    } }, field("Email", email), el("button", { type: "submit", text: "Email me a link" })));
  }

  function signUp() {
    const name = el("input", { type: "text", autocomplete: "name" });
    const email = el("input", { type: "email", required: true, autocomplete: "username" });
    const password = el("input", { type: "password", required: true, minlength: "8", autocomplete: "new-password" });
    show("Sign up", el("form", { onsubmit: async (e) => {
      e.preventDefault();
      const r = (await gql(`mutation($input: SignUpInput!) { signUp(input: $input) { errors { message } message } }`,
        { input: { name: name.value, email: email.value, password: password.value } })).signUp;
      if (payloadOk(r)) say(r.message);
    } }, field("Your name", name), field("Email", email), field("Password (8 characters or more)", password),
      el("button", { type: "submit", text: "Sign up" })));
  }

  const LINK_USE = `mutation($input: LinkUseInput!) { linkUse(input: $input) {
    errors { message } token viewer { name } } }`;

  function setPassword(linkToken, title) {
    nav.hidden = true;
    const password = el("input", { type: "password", id: "new-password", required: true, minlength: "8", autocomplete: "new-password" });
    const again = el("input", { type: "password", id: "new-password-again", required: true, autocomplete: "new-password" });
    show(title, el("form", { id: "password-form", onsubmit: async (e) => {
      e.preventDefault();
      if (password.value !== again.value) return say("The two passwords differ.", true);
      const r = (await gql(LINK_USE, { input: { token: linkToken, password: password.value } })).linkUse;
      if (!payloadOk(r)) return;
      setToken(r.token);
      say("Welcome, " + r.viewer.name + ". Your password is set.");
      location.hash = "#/";
    } }, field("New password (8 characters or more)", password), field("The same again", again),
      el("button", { type: "submit", text: "Set password and sign in" })));
  }

  async function confirmSignUp(linkToken) {
    const r = (await gql(LINK_USE, { input: { token: linkToken } })).linkUse;
    if (!payloadOk(r)) return show("This link did not work");
    setToken(r.token);
    say("Your email is confirmed. Welcome, " + r.viewer.name + ".");
    location.hash = "#/";
  }

  // --- tickets ----------------------------------------------------------------------------
  async function list() {
    const data = await gql(`{ viewer { name } tickets(first: 50) { totalCount edges { node {
      id number subject status updatedAt isMine } } } }`);
    const items = data.tickets.edges.map(({ node }) => el("li", {},
      el("a", { href: "#/tickets/" + encodeURIComponent(node.id), class: "ticket-link" }, "#" + node.number + " " + node.subject),
      " ", el("span", { class: "badge status-" + node.status, text: statusText[node.status] }),
      node.isMine ? null : el("span", { class: "muted", text: " (a colleague's)" })));
    show("My tickets", el("p", { class: "muted", text: "Signed in as " + data.viewer.name }),
      items.length ? el("ul", { class: "tickets", id: "ticket-list" }, ...items) : el("p", { text: "No tickets yet." }),
      el("p", {}, el("a", { href: "#/new", text: "Submit a new ticket" })));
  }

  function newTicket() {
    const subject = el("input", { type: "text", id: "subject", required: true, maxlength: "255" });
    const description = el("textarea", { id: "description", rows: "6", required: true });
    const files = el("input", { type: "file", id: "files", multiple: true });
    show("New ticket", el("form", { id: "new-ticket-form", onsubmit: async (e) => {
      e.preventDefault();
      const r = (await gql(`mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
        errors { message } ticket { id number } } }`,
        { input: { subject: subject.value, description: description.value } }, Array.from(files.files))).ticketCreate;
      if (!payloadOk(r)) return;
      say("Ticket #" + r.ticket.number + " submitted.");
      location.hash = "#/tickets/" + encodeURIComponent(r.ticket.id);
    } }, field("Subject", subject), field("Describe the problem", description), field("Attachments (optional)", files),
      el("button", { type: "submit", text: "Submit" })));
  }

  function messageItem(m) {
    const files = (m.attachments || []).map((a) => el("li", {}, el("button", { type: "button", class: "link",
      onclick: () => download(a) }, a.filename + " (" + Math.ceil(a.size / 1024) + " KB)")));
    return el("li", { id: "m-" + m.id, class: "message" + (m.fromCustomer ? " customer" : "") },
      el("div", { class: "meta" }, m.authorName + " · " + new Date(m.createdAt).toLocaleString()),
      el("div", { class: "body", text: m.body }),
      files.length ? el("ul", { class: "files" }, ...files) : null);
  }

  async function download(a) {
    const res = await fetch(a.downloadPath, { headers: { Authorization: "Bearer " + token() } });
    if (!res.ok) return say("The file could not be downloaded.", true);
    const url = URL.createObjectURL(await res.blob());
    const link = el("a", { href: url, download: a.filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  const MESSAGE_FIELDS = "id body createdAt fromCustomer authorName attachments { filename size downloadPath }";

  async function ticket(id) {
    const t = (await gql(`query($id: ID!) { ticket(id: $id) { id number subject status replyRefusal canRate
      rating { value comment changeableUntil } messages { ${MESSAGE_FIELDS} } } }`, { id })).ticket;
    const messages = el("ol", { class: "messages", id: "messages", "aria-live": "polite" }, ...t.messages.map(messageItem));
    const badge = el("span", { class: "badge", id: "ticket-status", text: statusText[t.status] });
    const parts = [el("p", {}, "Status: ", badge), el("h2", { text: "Conversation" }), messages];
    if (!t.replyRefusal) {
      const body = el("textarea", { id: "reply-body", rows: "4", required: true });
      const files = el("input", { type: "file", id: "reply-files", multiple: true });
      parts.push(el("form", { id: "reply-form", onsubmit: async (e) => {
        e.preventDefault();
        const r = (await gql(`mutation($input: TicketReplyInput!) { ticketReply(input: $input) { errors { message } } }`,
          { input: { ticketId: t.id, body: body.value } }, Array.from(files.files))).ticketReply;
        if (!payloadOk(r)) return;
        body.value = "";
        say("Reply sent.");
        route();
      } }, field("Your reply", body), field("Attachments (optional)", files),
        el("button", { type: "submit", text: "Send reply" })));
      parts.push(el("button", { type: "button", id: "close-ticket", onclick: async () => {
        const r = (await gql(`mutation($id: ID!) { ticketClose(input: {ticketId: $id}) { errors { message } } }`, { id: t.id })).ticketClose;
        if (payloadOk(r)) { say("Ticket closed."); route(); }
      } }, "My problem is solved: close the ticket"));
    } else {
      parts.push(el("p", { class: "muted", text: t.replyRefusal }));
    }
    if (t.canRate) parts.push(ratingForm(t));
    show("#" + t.number + " " + t.subject, ...parts);
    follow(t.id, messages, badge);
  }

  function ratingForm(t) {
    const current = t.rating ? t.rating.value : null;
    const choices = [["GOOD", "Good"], ["OKAY", "Okay"], ["BAD", "Bad"]].map(([value, label]) =>
      el("label", {}, el("input", { type: "radio", name: "rating", value, checked: current === value, required: true }), label));
    const comment = el("textarea", { id: "rating-comment", rows: "2" });
    comment.value = t.rating ? t.rating.comment : "";
    return el("form", { id: "rating-form", onsubmit: async (e) => {
      e.preventDefault();
      const picked = e.target.querySelector("input[name=rating]:checked");
      const r = (await gql(`mutation($input: TicketRateInput!) { ticketRate(input: $input) {
        errors { message } rating { value } } }`,
        { input: { ticketId: t.id, value: picked.value, comment: comment.value } })).ticketRate;
      if (payloadOk(r)) say("Thank you for your rating.");
    } }, el("fieldset", { class: "choices" }, el("legend", { text: "How was our answer?" }), ...choices),
      field("Anything to add? (optional)", comment), el("button", { type: "submit", text: "Rate" }));
  }

  // ticketUpdates over graphql-transport-ws: new public messages appear without a reload.
  function follow(id, messages, badge) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + API, "graphql-transport-ws");
    live = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init", payload: { token: token() } }));
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: {
          query: `subscription($id: ID!) { ticketUpdates(ticketId: $id) { kind ticket { status }
            message { ${MESSAGE_FIELDS} } } }`, variables: { id } } }));
        view.setAttribute("data-live", "1");
      } else if (msg.type === "next" && msg.payload.data) {
        const u = msg.payload.data.ticketUpdates;
        badge.textContent = statusText[u.ticket.status];
        if (u.kind === "MESSAGE" && u.message && !document.getElementById("m-" + u.message.id)) {
          messages.append(messageItem(u.message));
          say("New message from " + u.message.authorName + ".");
        }
      } else if (msg.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      }
    };
  }

  // --- articles ---------------------------------------------------------------------------
  async function articles(query) {
    const box = el("input", { type: "search", id: "article-query" });
    box.value = query || "";
    const data = await gql(`query($q: String) { articles(query: $q, first: 50) { totalCount
      edges { node { title permalink summary } } } }`, { q: query || null });
    const items = data.articles.edges.map(({ node }) => el("li", {},
      el("a", { href: "#/articles/" + encodeURIComponent(node.permalink), class: "article-link" }, node.title),
      node.summary ? el("div", { class: "muted", text: node.summary }) : null));
    show("Articles", el("form", { role: "search", id: "article-search", onsubmit: (e) => {
      e.preventDefault();
      location.hash = "#/articles?q=" + encodeURIComponent(box.value);
    } }, field("Search the articles", box), el("button", { type: "submit", text: "Search" })),
      items.length ? el("ul", { class: "tickets", id: "article-list" }, ...items) : el("p", { text: "No articles found." }));
  }

  async function article(permalink) {
    const a = (await gql(`query($p: String!) { article(permalink: $p) { title permalink bodyHtml updatedAt } }`,
      { p: permalink })).article;
    if (!a) return show("No such article", el("p", {}, el("a", { href: "#/articles", text: "All articles" })));
    const body = el("div", { class: "article-body", id: "article-body" });
    // The only HTML this page inserts: the server rendered the Markdown and sanitized it
    // with nh3 (services/sanitize.py), and the page's CSP refuses inline scripts anyway.
    body.innerHTML = a.bodyHtml;
    show(a.title, el("p", { class: "muted", text: "Updated " + new Date(a.updatedAt).toLocaleDateString() }), body,
      el("p", {}, el("a", { href: "#/articles", text: "All articles" })));
  }

  // --- routing ----------------------------------------------------------------------------
  async function route() {
    if (live) { live.close(); live = null; }
    view.removeAttribute("data-live");
    const parts = location.hash.replace(/^#\/?/, "").split("/");
    try {
      if (parts[0] === "invite" && parts[1]) return setPassword(parts[1], "Choose your password");
      if (parts[0] === "reset" && parts[1]) return setPassword(parts[1], "Choose a new password");
      if (parts[0] === "signup" && parts[1]) return await confirmSignUp(parts[1]);
      if (parts[0] === "signup") return signUp();
      if (parts[0] === "forgot") return forgot();
      nav.hidden = !token();
      if (parts[0].startsWith("articles")) {
        if (parts[1]) return await article(decodeURIComponent(parts[1]));
        const q = new URLSearchParams(parts[0].split("?")[1] || "").get("q");
        return await articles(q);
      }
      if (!token() || parts[0] === "signin") return await signIn();
      nav.hidden = false;
      if (parts[0] === "new") return newTicket();
      if (parts[0] === "tickets" && parts[1]) return await ticket(decodeURIComponent(parts[1]));
      return await list();
    } catch (err) {
      say(err.message, true);
    }
  }

  document.getElementById("sign-out").addEventListener("click", async () => {
    try { await gql("mutation { signOut { signedOut } }"); } catch (err) { /* signed out anyway */ }
    setToken(null);
    say("You are signed out.");
    location.hash = "#/signin";
  });
  window.addEventListener("hashchange", route);
  route();
})();
