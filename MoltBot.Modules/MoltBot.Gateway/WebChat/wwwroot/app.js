// MoltBot web chat: speaks the /ws protocol (docs/protocol.md). No dependencies, works offline.
(function () {
  "use strict";

  var TEXT = {
    en: {
      connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…", offline: "Offline",
      placeholder: "Type a message", send: "Send", typing: "MoltBot is typing…", switchTo: "中文",
      tokenLabel: "This server needs an access token (Gateway:Tokens).", tokenSave: "Connect",
      resumed: "Reconnected.", newSession: "Connection restored (new session).", tokenRejected: "The access token was rejected.",
      busy: "MoltBot is busy; retrying…", error: "Error"
    },
    zh: {
      connecting: "正在连接…", connected: "已连接", reconnecting: "正在重新连接…", offline: "离线",
      placeholder: "输入消息", send: "发送", typing: "MoltBot 正在输入…", switchTo: "English",
      tokenLabel: "此服务器需要访问令牌（Gateway:Tokens）。", tokenSave: "连接",
      resumed: "已重新连接。", newSession: "连接已恢复（新会话）。", tokenRejected: "访问令牌无效。",
      busy: "MoltBot 正忙，正在重试…", error: "错误"
    }
  };

  var $ = function (id) { return document.getElementById(id); };
  var store = window.localStorage;
  var messagesEl = $("messages"), statusEl = $("status"), typingEl = $("typing"), input = $("input");

  var lang = store.getItem("moltbot.lang") || (/^zh/i.test(navigator.language || "") ? "zh" : "en");
  var user = store.getItem("moltbot.user");
  if (!user) { user = "web-" + randomId(); store.setItem("moltbot.user", user); }
  var token = store.getItem("moltbot.token");

  var ws = null, sessionId = null, lastSeq = 0, reconnects = 0, backoff = 500, lastHeard = 0;
  var everConnected = false, heartbeat = null, nextId = 1;
  var outbox = [];            // {id, text, lang, el}: sent but not yet acknowledged; resent after a reconnect
  var botBubbles = {};        // messageId -> bubble element

  function randomId() {
    var a = new Uint8Array(8); (window.crypto || {}).getRandomValues ? crypto.getRandomValues(a) : a.forEach(function (_, i) { a[i] = Math.random() * 256; });
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function t(key) { return TEXT[lang][key]; }
  function hasCjk(s) { return /[\u3400-\u9fff]/.test(s); }

  function applyLanguage() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    input.placeholder = t("placeholder");
    $("send").textContent = t("send");
    $("lang").textContent = t("switchTo");
    $("typing-label").textContent = t("typing");
    $("token-label").textContent = t("tokenLabel");
    $("token-save").textContent = t("tokenSave");
    setStatus(statusEl.dataset.state || "connecting");
  }
  function setLanguage(next) { if (next !== lang) { lang = next; store.setItem("moltbot.lang", lang); applyLanguage(); } }

  function setStatus(state) {
    statusEl.dataset.state = state;
    statusEl.textContent = t(state);
    statusEl.dataset.reconnects = String(reconnects);
    if (sessionId) statusEl.dataset.session = sessionId;
  }

  function scrollDown() { messagesEl.scrollTop = messagesEl.scrollHeight; }
  function bubble(kind, text) {
    var el = document.createElement("div");
    el.className = "msg " + kind;
    el.textContent = text;
    messagesEl.appendChild(el);
    scrollDown();
    return el;
  }
  function note(text) { bubble("note", text); }

  function botBubble(messageId) {
    var el = botBubbles[messageId];
    if (!el) {
      el = bubble("bot", "");
      el.dataset.final = "false";
      el.dataset.deltas = "0";
      el.dataset.messageId = messageId;
      botBubbles[messageId] = el;
    }
    return el;
  }

  function send(frame) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame)); }

  function connect() {
    setStatus(everConnected ? "reconnecting" : "connecting");
    if (!token) { fetchToken(); return; }
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    var socket = new WebSocket(url);
    ws = socket;
    socket.onmessage = function (e) { if (ws === socket) onFrame(JSON.parse(e.data)); };
    socket.onclose = function (e) { if (ws === socket) onClose(e.code); };
  }

  function fetchToken() {
    fetch("/webchat/token", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.token) { token = body.token; connect(); }
        else askToken();
      })
      .catch(function () { setStatus("offline"); later(); });
  }

  function askToken() {
    setStatus("offline");
    $("token-form").hidden = false;
    $("token-input").focus();
  }

  function onFrame(f) {
    lastHeard = Date.now();
    if (typeof f.seq === "number") {
      if (f.seq <= lastSeq) return;   // already shown (never expected: the server replays only what is missing)
      lastSeq = f.seq;
    }
    switch (f.type) {
      case "hello":
        var auth = { type: "auth", token: token, user: user, lang: lang };
        if (sessionId) auth.resume = { session: sessionId, lastSeq: lastSeq };
        send(auth);
        break;
      case "session":
        var resumed = f.resumed && f.session === sessionId;
        if (!resumed) { lastSeq = 0; }
        if (!everConnected && !messagesEl.firstChild) send({ type: "history", limit: 50 });
        if (everConnected) note(resumed ? t("resumed") : t("newSession"));
        sessionId = f.session;
        everConnected = true;
        backoff = 500;
        setStatus("connected");
        startHeartbeat();
        // Anything not acknowledged may never have arrived: resend it (same id, so the server answers it once).
        outbox.forEach(function (m) { send({ type: "send", id: m.id, text: m.text, lang: m.lang }); });
        break;
      case "ack":
        outbox = outbox.filter(function (m) {
          if (m.id !== f.id) return true;
          m.el.dataset.acked = "true";
          return false;
        });
        break;
      case "typing":
        typingEl.hidden = !f.active;
        scrollDown();
        break;
      case "reply.delta":
        var el = botBubble(f.messageId);
        el.textContent += f.text;
        el.dataset.deltas = String(Number(el.dataset.deltas) + 1);
        typingEl.hidden = true;
        scrollDown();
        break;
      case "reply.final":
        var fin = botBubble(f.messageId);
        if (fin.dataset.final !== "true") {
          fin.textContent = f.text;
          fin.dataset.final = "true";
          if (f.failed) fin.classList.add("failed");
          if (f.lang === "zh" || f.lang === "en") setLanguage(f.lang);
        }
        typingEl.hidden = true;
        scrollDown();
        break;
      case "error":
        if (f.code === "queue_full" && f.id) {
          var m = outbox.filter(function (x) { return x.id === f.id; })[0];
          if (m) { note(t("busy")); setTimeout(function () { send({ type: "send", id: m.id, text: m.text, lang: m.lang }); }, f.retryAfterMs || 2000); }
        } else {
          note(t("error") + ": " + f.message);
        }
        break;
      case "history":
        if (messagesEl.querySelector(".msg.user, .msg.bot")) break;  // only fills an empty view (page reload)
        (f.messages || []).forEach(function (h) {
          var b = bubble(h.direction === "in" ? "user" : "bot", h.text);
          if (h.direction !== "in") b.dataset.final = "true";
        });
        break;
      case "pong":
        break;
    }
  }

  function onClose(code) {
    stopHeartbeat();
    ws = null;
    typingEl.hidden = true;
    if (code === 4001) {
      // A web-chat token is only valid while the server runs; fetch a fresh one (or ask for one).
      if (store.getItem("moltbot.token")) { store.removeItem("moltbot.token"); note(t("tokenRejected")); }
      token = null;
      sessionId = null;
    }
    reconnects++;
    setStatus(everConnected ? "reconnecting" : "offline");
    later();
  }

  function later() {
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  }

  // Detects a dead network path the browser has not noticed: no frame for 25 s means reconnect.
  function startHeartbeat() {
    stopHeartbeat();
    heartbeat = setInterval(function () {
      if (Date.now() - lastHeard > 25000 && ws) { ws.close(); onClose(1006); return; }
      send({ type: "ping" });
    }, 10000);
  }
  function stopHeartbeat() { if (heartbeat) { clearInterval(heartbeat); heartbeat = null; } }

  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (hasCjk(text)) setLanguage("zh"); else if (/[a-z]{2,}/i.test(text)) setLanguage("en");
    var id = "m" + Date.now().toString(36) + "-" + (nextId++);
    var el = bubble("user", text);
    el.dataset.acked = "false";
    var m = { id: id, text: text, lang: lang, el: el };
    outbox.push(m);
    send({ type: "send", id: id, text: text, lang: lang });
  });
  var lastTypingSent = 0;
  input.addEventListener("input", function () {
    if (Date.now() - lastTypingSent > 3000) { lastTypingSent = Date.now(); send({ type: "typing", active: true }); }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("lang").addEventListener("click", function () { setLanguage(lang === "zh" ? "en" : "zh"); });
  $("token-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = $("token-input").value.trim();
    if (!value) return;
    token = value;
    store.setItem("moltbot.token", token);
    $("token-form").hidden = true;
    connect();
  });

  applyLanguage();
  connect();
})();
