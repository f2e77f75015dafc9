// The note composer: uploads photos as they are picked (or dropped), lets the author reorder
// them (drag, or the buttons for keyboards), choose the cover, describe each photo, and counts
// the title exactly as the server does. Without this script the form still posts the files.
(function () {
  "use strict";
  var form = document.querySelector("[data-composer]");
  if (!form) return;

  // Mirror of WIDE_RANGES in papercrane/notes/text.py (a test keeps them identical).
  var WIDE_RANGES = [
    [0x1100, 0x115F], [0x2E80, 0x303E], [0x3041, 0x33FF], [0x3400, 0x4DBF], [0x4E00, 0x9FFF],
    [0xA000, 0xA4CF], [0xAC00, 0xD7A3], [0xF900, 0xFAFF], [0xFE30, 0xFE4F], [0xFF00, 0xFF60],
    [0xFFE0, 0xFFE6], [0x1F300, 0x1F64F], [0x1F900, 0x1F9FF], [0x20000, 0x3FFFD]
  ];

  function isWide(codePoint) {
    return WIDE_RANGES.some(function (range) { return codePoint >= range[0] && codePoint <= range[1]; });
  }

  function displayUnits(text) {
    var units = 0;
    for (var character of text) units += isWide(character.codePointAt(0)) ? 1 : 0.5;
    return units;
  }

  var labels = form.dataset;
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var maxMedia = parseInt(labels.maxMedia, 10);
  var tiles = form.querySelector("[data-tiles]");
  var idsInput = form.querySelector("[data-media-ids]");
  var fileInput = form.querySelector("#photos");
  var dropzone = form.querySelector("[data-dropzone]");
  var uploadError = form.querySelector("[data-upload-error]");
  var titleInput = form.querySelector("[data-title]");
  var titleCount = form.querySelector("[data-title-count]");
  var pending = 0;
  var dragged = null;

  function updateTitleCount() {
    var max = parseFloat(titleCount.dataset.max);
    var units = displayUnits(titleInput.value.trim());
    titleCount.textContent = units + " / " + max;
    titleCount.classList.toggle("over", units > max);
  }

  function showError(message) {
    uploadError.textContent = message;
    uploadError.hidden = !message;
  }

  function sync() {
    var items = Array.prototype.slice.call(tiles.children);
    idsInput.value = items.filter(function (li) { return li.dataset.mediaId; })
      .map(function (li) { return li.dataset.mediaId; }).join(",");
    items.forEach(function (li, index) { li.classList.toggle("is-cover", index === 0); });
  }

  function button(label, text, onClick) {
    var control = document.createElement("button");
    control.type = "button";
    control.textContent = text;
    control.setAttribute("aria-label", label);
    control.title = label;
    control.addEventListener("click", onClick);
    return control;
  }

  function decorate(li) {
    var bar = document.createElement("div");
    bar.className = "tile-controls";
    var badge = document.createElement("span");
    badge.className = "tile-badge";
    badge.textContent = labels.labelCoverBadge;
    bar.append(
      badge,
      button(labels.labelEarlier, "←", function () {
        if (li.previousElementSibling) tiles.insertBefore(li, li.previousElementSibling);
        sync();
      }),
      button(labels.labelLater, "→", function () {
        if (li.nextElementSibling) tiles.insertBefore(li.nextElementSibling, li);
        sync();
      }),
      button(labels.labelCover, "★", function () { tiles.prepend(li); sync(); }),
      button(labels.labelRemove, "✕", function () { li.remove(); sync(); })
    );
    li.prepend(bar);
    li.draggable = true;
    li.addEventListener("dragstart", function () { dragged = li; li.classList.add("dragging"); });
    li.addEventListener("dragend", function () { li.classList.remove("dragging"); dragged = null; sync(); });
    li.addEventListener("dragover", function (event) {
      if (!dragged || dragged === li) return;
      event.preventDefault();
      var box = li.getBoundingClientRect();
      var after = event.clientX > box.left + box.width / 2;
      tiles.insertBefore(dragged, after ? li.nextElementSibling : li);
    });
  }

  function altInput(mediaId) {
    var input = document.createElement("input");
    input.name = "alt_" + mediaId;
    input.maxLength = 500;
    input.placeholder = labels.labelAlt;
    input.setAttribute("aria-label", labels.labelAlt);
    return input;
  }

  function upload(file) {
    if (tiles.children.length >= maxMedia) { showError(labels.labelTooMany); return; }
    var li = document.createElement("li");
    li.className = "tile uploading";
    var preview = document.createElement("img");
    preview.className = "tile-img";
    preview.alt = "";
    preview.src = URL.createObjectURL(file);
    var status = document.createElement("span");
    status.className = "tile-status";
    status.textContent = labels.labelUploading;
    li.append(preview, status);
    tiles.append(li);
    decorate(li);
    pending += 1;
    var body = new FormData();
    body.append("file", file);
    fetch("/api/v1/media", { method: "POST", body: body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        if (!result.ok) throw new Error(result.data.detail || result.data.title || "");
        li.dataset.mediaId = result.data.id;
        li.classList.remove("uploading");
        status.remove();
        li.append(altInput(result.data.id));
      })
      .catch(function (error) {
        li.remove();
        showError(file.name + ": " + error.message);
      })
      .finally(function () { pending -= 1; sync(); });
  }

  function uploadAll(files) {
    showError("");
    Array.prototype.forEach.call(files, upload);
  }

  function suggestTopics(input, list) {
    var tokens = input.value.split(/[\s,，、#]+/);
    var last = tokens.pop() || "";
    fetch("/api/v1/topics/suggest?q=" + encodeURIComponent(last), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { items: [] }; })
      .then(function (data) {
        list.replaceChildren();
        data.items.forEach(function (name) {
          var option = document.createElement("option");
          option.value = tokens.concat([name]).join(" ");
          list.append(option);
        });
      });
  }

  // With the script, photos upload as they are picked; the form then sends only their ids.
  form.classList.add("enhanced");
  fileInput.removeAttribute("name");
  fileInput.addEventListener("change", function () { uploadAll(fileInput.files); fileInput.value = ""; });
  dropzone.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
      dropzone.classList.add("dragover");
    }
  });
  dropzone.addEventListener("dragleave", function () { dropzone.classList.remove("dragover"); });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    dropzone.classList.remove("dragover");
    uploadAll(event.dataTransfer.files);
  });
  tiles.addEventListener("dragover", function (event) { if (dragged) event.preventDefault(); });
  Array.prototype.forEach.call(tiles.children, decorate);
  titleInput.addEventListener("input", updateTitleCount);
  var topics = form.querySelector("[data-topics]");
  var suggestions = form.querySelector("[data-topic-suggestions]");
  var timer = null;
  topics.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { suggestTopics(topics, suggestions); }, 200);
  });
  topics.addEventListener("focus", function () { suggestTopics(topics, suggestions); }, { once: true });
  form.addEventListener("submit", function (event) {
    if (pending > 0) { event.preventDefault(); showError(labels.labelWait); }
  });
  updateTitleCount();
  sync();
})();
