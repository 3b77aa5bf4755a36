// Small behaviours of the admin that htmx does not cover. No inline scripts: the
// Content-Security-Policy forbids them, so everything is wired up here.
(function () {
  "use strict";

  // Close an open <details class="..."> menu when the user clicks elsewhere or presses Esc.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[open].scope-switcher, details[open].menu-button")
      .forEach(function (menu) {
        if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
      });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details[open]").forEach(function (menu) {
        menu.removeAttribute("open");
      });
    }
  });

  // The top navigation on narrow screens: the "Menu" button shows and hides it (the CSS
  // shows the links while aria-expanded is "true"); Esc or a click elsewhere closes it.
  function navToggle() {
    return document.querySelector("[data-nav-toggle]");
  }

  function setNavOpen(toggle, open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var toggle = navToggle();
    if (!toggle || !(event.target instanceof Element)) { return; }
    if (event.target.closest("[data-nav-toggle]")) {
      setNavOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
    } else if (toggle.getAttribute("aria-expanded") === "true" &&
               !event.target.closest("#" + toggle.getAttribute("aria-controls"))) {
      setNavOpen(toggle, false);
    }
  });
  document.addEventListener("keydown", function (event) {
    var toggle = navToggle();
    if (event.key !== "Escape" || !toggle || toggle.getAttribute("aria-expanded") !== "true") {
      return;
    }
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    var inside = menu && menu.contains(document.activeElement);
    setNavOpen(toggle, false);
    if (inside || document.activeElement === toggle) { toggle.focus(); }
  });

  // A field with a character limit shows "n / limit" as it is typed: the input carries
  // data-counter="<id of the counter>" and maxlength (see the field macro in _field.html).
  function updateCounter(input) {
    var counter = document.getElementById(input.dataset.counter);
    var limit = parseInt(input.getAttribute("maxlength"), 10);
    if (!counter || !limit) { return; }
    var used = input.value.length;
    counter.textContent = used + " / " + limit;
    counter.classList.toggle("near", used >= limit * 0.9 && used < limit);
    counter.classList.toggle("full", used >= limit);
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input instanceof HTMLElement && input.dataset.counter) { updateCounter(input); }
  });
  // Fields swapped in by htmx (or restored by the browser) start with the right count.
  function updateCounters(root) {
    if (!root || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-counter]").forEach(updateCounter);
  }
  document.addEventListener("DOMContentLoaded", function () { updateCounters(document); });
  document.addEventListener("htmx:load", function (event) { updateCounters(event.target); });

  // Enter in a one-line textarea (data-enter-submits) saves its form, as Enter does in a
  // text input; Shift+Enter still starts a new line.
  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.altKey ||
        event.ctrlKey || event.metaKey || !(area instanceof HTMLTextAreaElement) ||
        !area.hasAttribute("data-enter-submits") || !area.form) {
      return;
    }
    event.preventDefault();
    area.form.requestSubmit();
  });

  // "Select all" checkboxes: <input type="checkbox" data-select-all="name"> ticks every
  // checkbox named `name` in the same form.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) { return; }
    var form = box.form || document;
    form.querySelectorAll('input[type="checkbox"][name="' + box.dataset.selectAll + '"]')
      .forEach(function (item) { item.checked = box.checked; });
    box.dispatchEvent(new Event("selection-changed", { bubbles: true }));
  });

  // Confirmation dialogs (the Undo buttons, see templates/_undo.html): a button with
  // data-dialog="<id>" opens that <dialog> instead of submitting its own form (which, without
  // JavaScript, leads to the confirmation as a page).  [data-dialog-close] or Esc closes it,
  // as does a click on the backdrop; focus goes back to the button that opened it.
  var dialogOpeners = new WeakMap();

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) { return; }
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.dialog);
      if (!dialog || typeof dialog.showModal !== "function") { return; }
      event.preventDefault();
      dialogOpeners.set(dialog, opener);
      dialog.showModal();
      var cancel = dialog.querySelector("[data-dialog-close]");  // the harmless choice
      if (cancel) { cancel.focus(); }
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer && closer.closest("dialog")) {
      closer.closest("dialog").close();
    } else if (event.target instanceof HTMLDialogElement && event.target.open) {
      var box = event.target.getBoundingClientRect();  // a click outside the box: backdrop
      if (event.clientX < box.left || event.clientX > box.right ||
          event.clientY < box.top || event.clientY > box.bottom) { event.target.close(); }
    }
  });
  document.addEventListener("close", function (event) {
    var opener = event.target instanceof HTMLDialogElement && dialogOpeners.get(event.target);
    if (opener && opener.isConnected) { opener.focus(); }
  }, true);

  // Errors that htmx could not swap (network down, server crash) still reach the user.
  document.addEventListener("htmx:sendError", function () {
    showFlash("The server could not be reached. Check your connection and try again.");
  });

  function showFlash(message) {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var note = document.createElement("div");
    note.className = "flash flash-error";
    note.setAttribute("role", "alert");
    note.textContent = message;
    box.appendChild(note);
  }
})();
