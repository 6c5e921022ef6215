/* IJM Canada supporter assistant: the website chat widget.
 *
 * One line on any page (options as data attributes, all optional):
 *   <script src="https://<host>/widget.js" data-title="Ask IJM Canada" defer></script>
 *   data-title     the chat's heading
 *   data-server    the Rasa server's address (default: the one in <host>/widget/config.json)
 *   data-greeting  the first message (default: widget_welcome in bot/content/assistant.yml)
 *
 * Everything else comes from <host>: widget.css, socket.io-client (/vendor/socket.io.min.js) and the topics and
 * texts (/widget/config.json). No message is ever parsed as HTML: text goes in with textContent, and only
 * http(s) and mailto addresses become links.
 */
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.__ijmChat) return;
  window.__ijmChat = true;

  const BASE = new URL(".", script.src);
  const OPTS = script.dataset;
  const KEY = "ijm-chat:";
  const ACK_MS = 60000; // a message not acknowledged by then is marked "not sent"
  const QUEUE_MS = 120000; // how long a message typed while offline waits for the connection
  const MAX_ENTRIES = 200;
  const SVG = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M3 20l18-8L3 4v6l12 2-12 2z",
    up: "M2 10h4v11H2zM8 21h9.5a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 19 10h-5.5l.9-4.3a1.6 1.6 0 0 0-2.9-1.2L8 10z",
    down: "M2 3h4v11H2zM8 3h9.5a2 2 0 0 1 2 1.6l1.4 7A2 2 0 0 1 19 14h-5.5l.9 4.3a1.6 1.6 0 0 1-2.9 1.2L8 14z",
  };

  // sessionStorage may be unavailable (privacy settings): the chat then simply forgets on reload.
  const store = {
    get(name, fallback) {
      try {
        const raw = sessionStorage.getItem(KEY + name);
        return raw === null ? fallback : JSON.parse(raw);
      } catch (_) {
        return fallback;
      }
    },
    set(name, value) {
      try {
        sessionStorage.setItem(KEY + name, JSON.stringify(value));
      } catch (_) {
        /* full or blocked: keep going without */
      }
    },
  };

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value == null) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function icon(name) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  // A link written [its title](address) shows as its title; other http(s) and mailto addresses, and bare e-mail
  // addresses, as themselves; everything else (javascript:, data:...) stays text.
  const LINK =
    /\[([^\]\n]{1,80})\]\(((?:https?:\/\/|mailto:)[^\s<>"'()]+)\)|\b(?:https?:\/\/|mailto:)[^\s<>"']+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+/gi;

  function appendText(parent, text) {
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      const titled = match[1] !== undefined;
      let shown = match[0];
      if (!titled) {
        while (/[.,;:!?'"]$/.test(shown) || (shown.endsWith(")") && !shown.includes("("))) shown = shown.slice(0, -1);
      }
      const target = titled ? match[2] : shown;
      const href = /^(https?:|mailto:)/i.test(target) ? target : "mailto:" + target;
      let url = null;
      try {
        url = new URL(href);
      } catch (_) {
        continue;
      }
      if (!["http:", "https:", "mailto:"].includes(url.protocol)) continue;
      parent.append(text.slice(last, match.index));
      const a = el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer", text: titled ? match[1] : shown });
      a.append(el("span", { class: "sr", text: " (opens in a new tab)" }));
      parent.append(a);
      last = match.index + shown.length;
    }
    parent.append(text.slice(last));
  }

  // ---- state ---------------------------------------------------------------------------------------------------
  let sessionId = store.get("session", null);
  if (typeof sessionId !== "string" || !/^[0-9a-f]{32}$/.test(sessionId)) {
    sessionId = newId();
    store.set("session", sessionId);
  }
  const entries = store.get("transcript", []).filter((e) => e && typeof e.text === "string");
  for (const entry of entries) if (entry.from === "user" && entry.status !== "sent") entry.status = "failed";
  let config = {};
  let socket = null;
  let ready = false;
  const queue = [];
  // Emitted, until their ack (or its timeout). A reply confirms the oldest: Rasa answers a conversation's messages in
  // order and acknowledges each after its replies, so an ack lost when the connection drops just then must not mark
  // an answered message "not sent".
  const awaiting = [];
  const rows = new Map(); // entry id -> its list item
  let run = null; // the answer being received, the bot's messages since the visitor last spoke: {head, bar}

  const save = () => store.set("transcript", entries.slice(-MAX_ENTRIES));

  // ---- the DOM, in a shadow root so the page's CSS and ours leave each other alone -----------------------------
  const host = el("div", { id: "ijm-chat-widget" });
  host.hidden = true; // until our stylesheet has loaded
  const root = host.attachShadow({ mode: "open" });
  const styles = el("link", { rel: "stylesheet", href: new URL("widget.css", BASE).href });
  styles.addEventListener("load", () => (host.hidden = false));
  styles.addEventListener("error", () => (host.hidden = false));

  const title = OPTS.title || "IJM Canada assistant";
  const launcher = el(
    "button",
    { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "ijm-panel" },
    icon("chat"),
    el("span", { text: "Chat with us" }),
  );
  const list = el("ol", { class: "messages" });
  const typing = el(
    "div",
    { class: "typing", hidden: true },
    el("span", { class: "dot" }),
    el("span", { class: "dot" }),
    el("span", { class: "dot" }),
    el("span", { class: "sr", text: "The assistant is typing" }),
  );
  const log = el("div", { class: "log", role: "region", "aria-label": "Conversation", tabindex: "0" }, list, typing);
  const notice = el("div", { class: "notice", role: "status" });
  const announcer = el("div", { class: "sr", "aria-live": "polite" });
  const input = el("textarea", {
    id: "ijm-input",
    rows: "1",
    placeholder: "Type your question…",
    autocomplete: "off",
  });
  const form = el(
    "form",
    { class: "composer" },
    el("label", { for: "ijm-input", class: "sr", text: "Your message" }),
    input,
    el("button", { type: "submit", class: "send", "aria-label": "Send" }, icon("send")),
  );
  const closeButton = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, icon("close"));
  const panel = el(
    "section",
    { id: "ijm-panel", class: "panel", role: "dialog", "aria-labelledby": "ijm-title", hidden: true },
    el("header", { class: "header" }, el("h2", { id: "ijm-title", text: title }), closeButton),
    notice,
    log,
    announcer,
    form,
  );
  const frame = el("div", { class: "root" }, panel, launcher);
  root.append(styles, frame);

  // ---- messages ------------------------------------------------------------------------------------------------
  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // Under a visitor's message: nothing once sent, else whether it waits for the connection or was not sent.
  function statusLine(entry) {
    if (entry.status === "failed") {
      const retryButton = el("button", { type: "button", class: "retry", text: "Retry", onclick: () => retry(entry) });
      return el("p", { class: "status" }, "Not sent. ", retryButton);
    }
    if (entry.status === "queued") return el("p", { class: "status", text: "Waiting for the connection…" });
    return null;
  }

  function updateStatus(entry) {
    const row = rows.get(entry.id);
    if (row) {
      row.querySelector(".status")?.remove();
      const line = statusLine(entry);
      if (line) row.append(line);
    }
    save();
  }

  function feedbackBar(head) {
    const thanks = el("span", { class: "thanks", role: "status" });
    const button = (rating, label) => {
      const pressed = String(head.rating === rating);
      const node = el("button", { type: "button", "aria-label": label, "aria-pressed": pressed }, icon(rating));
      node.addEventListener("click", () => rate(head, rating, bar, thanks));
      return node;
    };
    const bar = el("div", { class: "rate", role: "group", "aria-label": "Was this answer helpful?" });
    bar.append(button("up", "Helpful"), button("down", "Not helpful"), thanks);
    return bar;
  }

  function render(entry, live) {
    let row;
    if (entry.from === "note") {
      row = el("li", { class: "note" });
      appendText(row, entry.text);
      run = null;
    } else {
      const mine = entry.from === "user";
      const who = el("span", { class: "sr", text: mine ? "You said: " : "Assistant: " });
      const bubble = el("p", { class: "bubble" }, who);
      appendText(bubble, entry.text);
      row = el("li", { class: "msg " + (mine ? "user" : "bot") }, bubble);
      if (entry.buttons && entry.buttons.length) {
        const choices = el("div", { class: "choices", role: "group", "aria-label": "Suggested replies" });
        for (const b of entry.buttons) {
          const choice = el("button", { type: "button", text: b.title });
          choice.addEventListener("click", () => send(b.payload, b.title, true));
          choices.append(choice);
        }
        row.append(choices);
      }
      if (mine) {
        run = null;
        const line = statusLine(entry);
        if (line) row.append(line);
      } else if (!entry.local) {
        if (!run) run = { head: entry, bar: feedbackBar(entry) };
        row.append(run.bar); // 👍 / 👎 rate the whole answer: the bar moves to its last message
      } else {
        run = null;
      }
    }
    rows.set(entry.id, row);
    list.append(row);
    if (live && entry.from === "bot") {
      announcer.append(el("p", { text: "Assistant: " + entry.text }));
      while (announcer.childNodes.length > 3) announcer.firstChild.remove();
    }
    scrollDown();
  }

  function add(entry, live = true) {
    entry.id = entry.id || newId().slice(0, 12);
    entries.push(entry);
    render(entry, live);
    save();
    return entry;
  }

  function showTyping(on) {
    typing.hidden = !on;
    if (on) scrollDown();
  }

  // ---- feedback ------------------------------------------------------------------------------------------------
  async function rate(head, rating, bar, thanks) {
    if (head.rating === rating) return;
    const answer = entries.filter((e) => e.run === head.id || e.id === head.id).map((e) => e.text);
    try {
      const reply = await fetch(new URL("api/feedback", BASE), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ conversation_id: sessionId, rating, message_text: answer.join("\n\n").slice(0, 10000) }),
      });
      if (!reply.ok) throw new Error(String(reply.status));
      head.rating = rating;
      save();
      const [up, down] = bar.querySelectorAll("button");
      up.setAttribute("aria-pressed", String(rating === "up"));
      down.setAttribute("aria-pressed", String(rating === "down"));
      thanks.textContent = "Thanks for your feedback!";
    } catch (_) {
      thanks.textContent = "Sorry, your feedback could not be sent.";
    }
  }

  // ---- sending -------------------------------------------------------------------------------------------------
  function emit(entry) {
    entry.status = "sending";
    updateStatus(entry);
    showTyping(true);
    awaiting.push(entry);
    socket.timeout(ACK_MS).emit("user_uttered", { message: entry.payload, session_id: sessionId }, (error) => {
      showTyping(false);
      forget(entry);
      if (entry.status === "sent") return; // its answer came: it got there, whatever became of the ack
      entry.status = error ? "failed" : "sent";
      updateStatus(entry);
    });
  }

  function forget(entry) {
    const at = awaiting.indexOf(entry);
    if (at >= 0) awaiting.splice(at, 1);
  }

  // Only the ack takes an entry off the list: the later replies of the same answer find it confirmed already.
  function confirmOldest() {
    const entry = awaiting[0];
    if (entry && entry.status !== "sent") {
      entry.status = "sent";
      updateStatus(entry);
    }
  }

  function flush() {
    while (ready && queue.length) emit(queue.shift());
  }

  function enqueue(entry) {
    entry.status = "queued";
    queue.push(entry);
    updateStatus(entry);
    setTimeout(() => {
      const at = queue.indexOf(entry);
      if (at >= 0) {
        queue.splice(at, 1);
        entry.status = "failed";
        updateStatus(entry);
      }
    }, QUEUE_MS);
    connect();
    flush();
  }

  function send(payload, shown, fromButton) {
    const entry = add({ from: "user", text: shown, payload, status: "queued" });
    enqueue(entry);
    if (fromButton) input.focus();
  }

  function retry(entry) {
    input.focus(); // the Retry button goes away
    enqueue(entry);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    grow();
    send(text, text, false);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  input.addEventListener("input", grow);

  // ---- the connection ------------------------------------------------------------------------------------------
  function say(text) {
    notice.textContent = text;
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") return;
    const text = typeof data.text === "string" ? data.text : "";
    const raw = [data.quick_replies, data.buttons].find(Array.isArray) || [];
    const buttons = raw
      .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
      .map((b) => ({ title: b.title, payload: b.payload }));
    if (!text && !buttons.length) return;
    showTyping(false);
    confirmOldest();
    const entry = { from: "bot", text, buttons };
    if (run && run.head) entry.run = run.head.id;
    add(entry);
  }

  let socketLib = null;
  function loadSocketLib() {
    if (socketLib) return socketLib;
    socketLib = new Promise((resolve, reject) => {
      const previous = window.io; // the page may use its own socket.io: give it back
      const tag = el("script", { src: new URL("vendor/socket.io.min.js", BASE).href });
      tag.addEventListener("load", () => {
        const ours = window.io;
        if (previous) window.io = previous;
        resolve(ours);
      });
      tag.addEventListener("error", (error) => {
        socketLib = null; // try again on the next message
        tag.remove();
        reject(error);
      });
      document.head.append(tag);
    });
    return socketLib;
  }

  async function connect() {
    if (socket) return;
    socket = "connecting";
    let io;
    try {
      io = await loadSocketLib();
      await configLoaded;
    } catch (_) {
      socket = null;
      say("The chat could not load. Please try again later.");
      return;
    }
    const server = OPTS.server || config.server || BASE.origin;
    // The conversation id in the connection URL too: nginx keeps a conversation on one Rasa server with it
    // (ijm-bot run --instances N), on every request of the connection.
    socket = io(server, {
      path: config.socketPath || "/socket.io",
      reconnectionDelayMax: 5000,
      query: { conversation: sessionId },
    });
    socket.on("connect", () => {
      ready = false;
      socket.emit("session_request", { session_id: sessionId });
    });
    socket.on("session_confirm", (id) => {
      if (id !== sessionId && !(id && id.session_id === sessionId)) return;
      ready = true;
      say("");
      flush();
    });
    socket.on("disconnect", (reason) => {
      ready = false;
      showTyping(false);
      say("Connection lost. Reconnecting…");
      if (reason === "io server disconnect") socket.connect();
    });
    socket.on("connect_error", () => {
      ready = false;
      say("Can't reach the assistant right now. Reconnecting…");
    });
    socket.on("bot_uttered", onBotMessage);
  }

  // ---- opening and closing -------------------------------------------------------------------------------------
  function welcome() {
    if (entries.length) return;
    if (config.privacyNotice) add({ from: "note", text: config.privacyNotice }, false);
    const text = OPTS.greeting || config.welcome || "Hi! How can I help you today?";
    add({ from: "bot", local: true, text, buttons: config.topics || [] }, false);
  }

  // Opened by the visitor: the focus goes to the input. Reopened on a new page: the focus stays where it is.
  async function open(focus = true) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    frame.classList.add("open");
    store.set("open", true);
    if (focus) input.focus();
    await configLoaded;
    welcome();
    scrollDown();
    connect();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    frame.classList.remove("open");
    store.set("open", false);
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open(true) : close()));
  closeButton.addEventListener("click", close);
  frame.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      close();
    }
  });

  const configLoaded = fetch(new URL("widget/config.json", BASE), { credentials: "omit" })
    .then((reply) => (reply.ok ? reply.json() : {}))
    .catch(() => ({}))
    .then((data) => {
      config = data && typeof data === "object" ? data : {};
      if (config.maxMessageChars) input.maxLength = config.maxMessageChars;
    });

  function start() {
    document.body.append(host);
    for (const entry of entries.splice(0)) {
      entries.push(entry);
      render(entry, false);
    }
    if (store.get("open", false)) open(false);
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
