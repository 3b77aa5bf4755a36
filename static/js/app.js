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
