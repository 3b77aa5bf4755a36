// Bulk tagging page: keyboard use of the tag picker, and a preview that never goes stale.
// Everything else is htmx; no inline scripts (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  function form() { return document.getElementById("bulk-form"); }
  function query() { return document.getElementById("tag-query"); }
  function options() { return document.getElementById("tag-options"); }
  function optionButtons() {
    var box = options();
    return box ? Array.prototype.slice.call(box.querySelectorAll("button.option")) : [];
  }

  // Enter picks the first option for the text in the box; when those options are still
  // on their way, it picks the first one as soon as they arrive.
  var pickWhenLoaded = false;

  function optionsAreFor(text) {
    var list = options() && options().querySelector(".options-list");
    return Boolean(list) && list.dataset.query === text.trim();
  }

  function pickFirst() {
    var buttons = optionButtons();
    if (buttons.length) { buttons[0].click(); }
  }

  function closeOptions() {
    var box = options();
    if (box) { box.textContent = ""; }
    if (query()) { query().setAttribute("aria-expanded", "false"); }
  }

  // A preview describes the choice it was made from; once the choice changes, say so
  // instead of offering to apply an outdated preview.
  function markPreviewStale() {
    var preview = document.getElementById("bulk-preview");
    if (!preview || !preview.classList.contains("preview") || preview.classList.contains("stale")) {
      return;
    }
    var note = document.createElement("div");
    note.id = "bulk-preview";
    note.className = "stale-note";
    note.setAttribute("role", "status");
    note.textContent = "The choice changed since the preview. Preview again to see the new change.";
    preview.replaceWith(note);
  }

  function inChoice(element) {
    return form() && form().contains(element) && element.id !== "tag-query";
  }

  document.addEventListener("change", function (event) {
    if (inChoice(event.target)) { markPreviewStale(); }
  });
  document.addEventListener("input", function (event) {
    if (inChoice(event.target)) { markPreviewStale(); }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!form() || !form().contains(target)) { return; }
    var buttons = optionButtons();
    if (target === query()) {
      if (event.key === "Enter") {
        event.preventDefault();  // never submit the page from the tag box
        if (!target.value.trim()) { return; }
        if (optionsAreFor(target.value)) {
          pickFirst();
        } else {
          pickWhenLoaded = true;
        }
      } else if (event.key === "ArrowDown" && buttons.length) {
        event.preventDefault();
        buttons[0].focus();
      } else if (event.key === "Escape") {
        closeOptions();
      }
      return;
    }
    var index = buttons.indexOf(target);
    if (index >= 0) {
      if (event.key === "ArrowDown" && index + 1 < buttons.length) {
        event.preventDefault();
        buttons[index + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (index > 0 ? buttons[index - 1] : query()).focus();
      } else if (event.key === "Escape") {
        closeOptions();
        query().focus();
      }
      return;
    }
    // Text filters refresh as you type; Enter must not reload the whole page.
    if (event.key === "Enter" && target.matches("input[type=text], input[type=search]")) {
      event.preventDefault();
    }
  });

  // After the settle, htmx has wired up the new option buttons: they can be clicked.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "tag-options" || !query()) { return; }
    query().setAttribute("aria-expanded", optionButtons().length ? "true" : "false");
    if (pickWhenLoaded && optionsAreFor(query().value)) {
      pickWhenLoaded = false;
      pickFirst();
    }
  });

  // A tag added or removed changes the choice; after picking an option, the box is
  // emptied for the next tag.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!event.detail.successful || !elt || !elt.matches) { return; }
    if (elt.matches("#tag-options button.option, #chosen-tags button.remove")) {
      markPreviewStale();
    }
    if (elt.matches("#tag-options button.option") && query()) {
      query().value = "";
      closeOptions();
      query().focus();
    }
  });

  // Close the options when the user clicks elsewhere.
  document.addEventListener("click", function (event) {
    var box = options();
    if (box && box.childElementCount && !box.contains(event.target) && event.target !== query()) {
      closeOptions();
    }
  });
})();
