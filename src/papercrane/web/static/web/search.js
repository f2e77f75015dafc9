// The search page. Suggestions as you type: the box becomes an ARIA 1.2 combobox whose listbox
// is filled from /search/suggest (an HTML fragment, escaped by the server). Arrow keys move
// through the options, Enter picks one (it fills the box and searches), Escape closes the list.
// Nothing is fetched while an input method is composing (pinyin, kana), so only the words a
// person commits are looked up. Without this script the form still searches.
(function () {
  "use strict";
  var input = document.querySelector("[data-suggest]");
  var list = input && document.getElementById(input.dataset.suggestList);
  if (!input || !list || !window.fetch) return;
  var form = input.form;
  var status = form.querySelector("[data-suggest-status]");
  var DEBOUNCE_MS = 150;
  var timer = 0;
  var serial = 0;
  var controller = null;
  var active = -1;
  var composing = false;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);

  function options() { return list.querySelectorAll("[role=option]"); }

  function setActive(index) {
    var items = options();
    active = index;
    for (var i = 0; i < items.length; i++) {
      items[i].setAttribute("aria-selected", i === index ? "true" : "false");
    }
    if (index >= 0 && items[index]) {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function isOpen() { return !list.hidden; }

  function open() {
    if (!options().length) { close(); return; }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close() {
    setActive(-1);
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function show(html, thenActivate) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var fresh = holder.content.querySelector("[role=listbox]");
    list.replaceChildren.apply(list, fresh ? Array.prototype.slice.call(fresh.children) : []);
    if (status) status.textContent = fresh ? fresh.dataset.status || "" : "";
    active = -1;
    if (document.activeElement !== input) return;
    open();
    if (thenActivate && options().length) setActive(0);
  }

  function load(thenActivate) {
    window.clearTimeout(timer);
    var mine = ++serial;
    if (controller) controller.abort();
    controller = "AbortController" in window ? new AbortController() : null;
    var url = input.dataset.suggest + "?q=" + encodeURIComponent(input.value);
    fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (mine === serial) show(html, thenActivate); })
      .catch(function () { /* aborted by a newer request, or offline: keep what is shown */ });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { load(false); }, DEBOUNCE_MS);
  }

  function choose(option) {
    if (option.dataset.href) {  // a note: open it rather than search for its title
      window.location.assign(option.dataset.href);
      return;
    }
    input.value = option.dataset.value || "";
    close();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  input.addEventListener("input", function () { if (!composing) schedule(); });
  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { composing = false; schedule(); });

  input.addEventListener("keydown", function (event) {
    if (event.isComposing || event.keyCode === 229) return; // the input method's own keys
    var count = options().length;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!isOpen()) { if (count) { open(); setActive(0); } else { load(true); } return; }
        setActive(active + 1 < count ? active + 1 : 0);
        break;
      case "ArrowUp":
        if (!isOpen()) return;
        event.preventDefault();
        setActive(active > 0 ? active - 1 : count - 1);
        break;
      case "Enter":
        if (isOpen() && active >= 0) { event.preventDefault(); choose(options()[active]); }
        break;
      case "Escape":
        if (isOpen()) { event.preventDefault(); close(); }
        break;
      case "Tab":
        close();
        break;
    }
  });

  input.addEventListener("blur", function () { close(); });
  // Keep the focus in the box while an option is pressed, so the click lands on the option.
  list.addEventListener("mousedown", function (event) { event.preventDefault(); });
  list.addEventListener("click", function (event) {
    var option = event.target.closest("[role=option]");
    if (option) choose(option);
  });
  list.addEventListener("mousemove", function (event) {
    var option = event.target.closest("[role=option]");
    if (!option) return;
    var index = Array.prototype.indexOf.call(options(), option);
    if (index !== active) setActive(index);
  });
  form.addEventListener("submit", function () { window.clearTimeout(timer); serial++; close(); });
})();

// "Load more" appends the next page of cards (htmx); keyboard users continue from its first card.
document.addEventListener("htmx:afterSettle", function (event) {
  var target = event.detail && event.detail.target;
  if (!target || target.id !== "note-pages") return;
  var pages = target.querySelectorAll(".masonry");
  var first = pages.length && pages[pages.length - 1].querySelector(".card-link");
  if (first) first.focus();
});
