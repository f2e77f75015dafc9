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
