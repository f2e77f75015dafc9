// A live room's page: its chat over /ws/live/{id}/ (see live/consumers.py for the frames),
// the video stream, and the hosts' buttons on each message. Message text only ever goes
// into the page as text (textContent), never as HTML.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-room]");
  if (!root) return;
  var data = root.dataset;
  var roomId = data.liveRoom;
  var viewer = data.viewer || "";
  var isHost = data.role === "host" || data.role === "cohost";

  // --- The video -------------------------------------------------------------------------
  var video = root.querySelector("[data-live-video]");
  if (video) {
    var source = video.dataset.src;
    var native = video.canPlayType("application/vnd.apple.mpegurl");
    if (!native && window.Hls && window.Hls.isSupported()) {
      video.removeAttribute("src");
      var hls = new window.Hls({ enableWorker: false }); // no blob: workers under our CSP
      hls.loadSource(source);
      hls.attachMedia(video);
    }
  }

  // --- Forms posted with fetch (pin, delete, mute, ban, unpin) -----------------------------
  var errorBox = root.querySelector("[data-live-error]");
  var errorTimer = null;
  function say(text, sticky) {
    if (!errorBox) return;
    errorBox.textContent = text;
    errorBox.hidden = !text;
    clearTimeout(errorTimer);
    if (text && !sticky) errorTimer = setTimeout(function () { say(""); }, 8000);
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("[data-live-action]")) return;
    event.preventDefault();
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" }
    }).then(function (response) {
      return response.json().then(function (body) { say(body.message || "", false); });
    }).catch(function () { say(data.i18nOffline, false); });
  });

  // --- Drawing messages ----------------------------------------------------------------------
  var chat = root.querySelector("[data-live-chat]");
  var template = root.querySelector("[data-live-message-template]");
  if (!chat || !template) return; // an ended room (its transcript) or a banned viewer
  var lastId = 0;

  function roleLabel(role) {
    return role === "host" ? data.i18nHost : role === "cohost" ? data.i18nCohost : "";
  }

  function profileUrl(username) {
    return data.profileUrl.replace("__username__", encodeURIComponent(username));
  }

  function timeText(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    return date.toLocaleTimeString(document.documentElement.lang || undefined,
      { hour: "2-digit", minute: "2-digit" });
  }

  function nearBottom() {
    return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  }

  function draw(frame) {
    var id = String(frame.id);
    if (document.getElementById("message-" + id)) return; // seen before a reconnect
    var item = template.content.firstElementChild.cloneNode(true);
    item.id = "message-" + id;
    item.dataset.messageId = id;
    var author = frame.author || {};
    var own = viewer && author.username === viewer;
    var link = item.querySelector("[data-author]");
    link.textContent = author.name || author.username || "";
    link.href = profileUrl(author.username || "");
    var role = item.querySelector("[data-role]");
    role.textContent = roleLabel(author.role);
    role.hidden = !role.textContent;
    var time = item.querySelector("[data-time]");
    time.dateTime = frame.created_at || "";
    time.textContent = timeText(frame.created_at);
    var text = item.querySelector("[data-text]");
    text.textContent = frame.text;
    if (frame.language) text.lang = frame.language;
    var translation = item.querySelector("[data-translation]");
    if (frame.translation && frame.translation.text) {
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = data.i18nTranslation + ": ";
      translation.appendChild(label);
      translation.appendChild(document.createTextNode(frame.translation.text));
      translation.lang = frame.translation.language || "";
      translation.hidden = false;
    }
    var report = item.querySelector("[data-report]");
    if (report) {
      report.href = data.reportUrl.replace("__id__", id);
      report.hidden = own;
    }
    item.querySelectorAll("[data-live-action]").forEach(function (form) {
      form.action = data.actionUrl.replace("__id__", id).replace("__action__", form.dataset.liveAction);
      if (form.hasAttribute("data-others-only") && (own || author.role !== "viewer")) form.remove();
      else if (form.hasAttribute("data-own-or-host")) form.hidden = !(own || isHost);
    });
    var stick = nearBottom();
    chat.appendChild(item);
    if (stick || own) chat.scrollTop = chat.scrollHeight;
    var number = parseInt(id, 10);
    if (number > lastId) lastId = number;
  }

  function withdraw(id) {
    var item = document.getElementById("message-" + id);
    if (item) item.remove();
    var pinned = root.querySelector("[data-live-pinned]");
    if (pinned && pinned.dataset.messageId === String(id)) pinned.hidden = true;
  }

  // --- The room's header, pinned message and settings ------------------------------------------
  function setText(selector, text) {
    var node = root.querySelector(selector);
    if (node) node.textContent = text;
  }

  function drawRoom(room) {
    if (!room) return;
    if (room.status && room.status !== data.status) {
      location.reload(); // going live or ending changes what the page offers: ask the server
      return;
    }
    setText("[data-live-title]", room.title);
    if (typeof room.viewers === "number") setText("[data-live-viewers]", String(room.viewers));
    var cohosts = root.querySelector("[data-live-cohosts]");
    var list = root.querySelector("[data-live-cohost-list]");
    if (cohosts && list && room.cohosts) {
      list.textContent = "";
      room.cohosts.forEach(function (person) {
        var link = document.createElement("a");
        link.className = "live-person";
        link.href = profileUrl(person.username);
        link.textContent = person.name || person.username;
        list.appendChild(link);
      });
      cohosts.hidden = room.cohosts.length === 0;
    }
    var pinned = root.querySelector("[data-live-pinned]");
    if (pinned) {
      pinned.hidden = !room.pinned;
      pinned.dataset.messageId = room.pinned ? String(room.pinned.id) : "";
      if (room.pinned) {
        setText("[data-live-pinned-author]", room.pinned.author.name || room.pinned.author.username);
        setText("[data-live-pinned-text]", room.pinned.text);
      }
    }
    var slow = root.querySelector("[data-live-slow]");
    if (slow && typeof room.slow_mode_seconds === "number") {
      slow.textContent = slow.dataset.template.replace("__seconds__", String(room.slow_mode_seconds));
      slow.hidden = room.slow_mode_seconds === 0;
    }
  }

  // --- The socket ------------------------------------------------------------------------------
  var socket = null;
  var delay = 1000;
  var pending = {};
  var sequence = 0;
  var FINAL = { 4401: true, 4403: true, 4404: true }; // not coming back by retrying

  function address() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var query = [];
    if (lastId) query.push("after=" + lastId);
    if (!viewer) query.push("lang=" + encodeURIComponent(data.lang));
    return scheme + location.host + "/ws/live/" + roomId + "/" + (query.length ? "?" + query.join("&") : "");
  }

  function handle(frame) {
    switch (frame.type) {
      case "room.state":
        root.dataset.connected = "true";
        // The state is read just before this connection is counted in: count it too.
        if (frame.room && typeof frame.room.viewers === "number") frame.room.viewers += 1;
        drawRoom(frame.room);
        break;
      case "room.updated": drawRoom(frame.room); break;
      case "chat.message": draw(frame); break;
      case "chat.deleted": withdraw(frame.id); break;
      case "presence": setText("[data-live-viewers]", String(frame.viewers)); break;
      case "room.ended": location.reload(); break;
      case "member.muted": say(data.i18nMuted, true); break;
      case "chat.ack":
        delete pending[frame.client_id];
        if (frame.held) say(data.i18nHeld, false);
        break;
      case "error":
        if (frame.client_id && pending[frame.client_id] !== undefined && input && !input.value) {
          input.value = pending[frame.client_id]; // give back what could not be sent
        }
        delete pending[frame.client_id];
        say(frame.message || frame.code, false);
        break;
    }
  }

  function connect() {
    socket = new WebSocket(address());
    socket.onopen = function () { delay = 1000; if (errorBox && errorBox.textContent === data.i18nReconnecting) say(""); };
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (error) { return; }
      if (frame && typeof frame.type === "string") handle(frame);
    };
    socket.onclose = function (close) {
      socket = null;
      delete root.dataset.connected;
      if (close.code === 4410) { location.reload(); return; } // the room ended
      if (FINAL[close.code]) return;
      say(data.i18nReconnecting, true);
      setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    };
  }

  // Keep idle connections open through proxies that drop quiet sockets.
  setInterval(function () {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
  }, 30000);

  // --- Sending ---------------------------------------------------------------------------------
  var form = root.querySelector("[data-live-send]");
  var input = form && form.querySelector("input[name=text]");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      if (!socket || socket.readyState !== WebSocket.OPEN) { say(data.i18nOffline, false); return; }
      sequence += 1;
      var clientId = "c" + Date.now().toString(36) + "-" + sequence;
      pending[clientId] = text;
      socket.send(JSON.stringify({ type: "chat.send", text: text, client_id: clientId }));
      input.value = "";
    });
  }

  if ("WebSocket" in window) connect();
})();
