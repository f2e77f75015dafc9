// The note page carousel: swipe natively (scroll snapping), or use the buttons and arrow keys.
(function () {
  "use strict";
  document.querySelectorAll("[data-carousel]").forEach(function (carousel) {
    var track = carousel.querySelector("[data-track]");
    var current = carousel.querySelector("[data-current]");
    var slides = track.children.length;
    function index() { return Math.round(track.scrollLeft / track.clientWidth); }
    function go(step) {
      var target = Math.max(0, Math.min(slides - 1, index() + step));
      track.scrollTo({ left: target * track.clientWidth, behavior: "smooth" });
    }
    var prev = carousel.querySelector("[data-prev]");
    var next = carousel.querySelector("[data-next]");
    if (prev) prev.addEventListener("click", function () { go(-1); });
    if (next) next.addEventListener("click", function () { go(1); });
    track.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") { event.preventDefault(); go(-1); }
      if (event.key === "ArrowRight") { event.preventDefault(); go(1); }
    });
    track.addEventListener("scroll", function () {
      if (current) current.textContent = String(index() + 1);
    }, { passive: true });
  });
})();

// Reading time, for Explore (members with personalization on only): the time the page was
// visible, sent once when it is hidden or left.
(function () {
  "use strict";
  var note = document.querySelector("[data-dwell-note]");
  if (!note) return;
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var total = 0;
  function pause() {
    if (visibleSince !== null) { total += Date.now() - visibleSince; visibleSince = null; }
  }
  function send() {
    pause();
    if (total < 1000) return;
    var body = JSON.stringify({ note_id: note.dataset.dwellNote, dwell_ms: Math.round(total) });
    total = 0;
    fetch("/api/v1/feeds/dwell", {
      method: "POST", body: body, keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": note.dataset.csrf }
    }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") visibleSince = Date.now(); else send();
  });
  window.addEventListener("pagehide", send);
})();
