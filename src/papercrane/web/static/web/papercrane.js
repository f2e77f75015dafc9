// Papercrane's small client: a live channel for signed-in members (/ws/me/), reconnecting
// with backoff. Pages listen for "papercrane:event" to react to pushes.
(function () {
  "use strict";
  var member = document.body.dataset.member;
  if (!member || !("WebSocket" in window)) return;
  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/me/");
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      document.dispatchEvent(new CustomEvent("papercrane:event", { detail: event }));
    };
    socket.onclose = function (close) {
      if (close.code === 4401) return; // signed out: do not retry
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();

// The header bell: the unread count pushed over /ws/me/ as {"type": "notification.count"}.
document.addEventListener("papercrane:event", function (event) {
  var detail = event.detail || {};
  if (detail.type !== "notification.count" || typeof detail.unread !== "number") return;
  var badge = document.querySelector("[data-unread-badge]");
  var count = badge && badge.querySelector("[data-unread-count]");
  if (!count) return;
  count.textContent = String(detail.unread);
  badge.hidden = detail.unread <= 0;
  badge.classList.toggle("badge", detail.unread > 0); // .badge sets display, which beats [hidden]
});

// Forms that ask before doing something that cannot be undone (e.g. deleting a note).
document.addEventListener("submit", function (event) {
  var message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
