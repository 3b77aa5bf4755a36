// The hierarchy editor's tree: expand a node by fetching its children once (htmx), then
// collapse and expand it locally; close an inline panel; keep the expand controls'
// aria-expanded in step with what is shown after every htmx swap. No inline scripts
// (the Content-Security-Policy forbids them): everything is wired up here.
(function () {
  "use strict";

  function listOf(toggle) {
    return document.getElementById(toggle.getAttribute("aria-controls"));
  }

  function isOpen(list) {
    return !!list && !list.hidden && list.dataset.loaded === "true";
  }

  function sync(toggle) {
    toggle.setAttribute("aria-expanded", isOpen(listOf(toggle)) ? "true" : "false");
  }

  function syncAll() {
    document.querySelectorAll("a.toggle[aria-controls]").forEach(sync);
  }

  function expand(toggle) {
    var list = listOf(toggle);
    if (!list) { return; }
    if (isOpen(list)) {
      list.hidden = true;
    } else if (list.dataset.loaded === "true") {
      list.hidden = false;
    } else if (!toggle.classList.contains("loading")) {
      toggle.classList.add("loading");
      list.hidden = false;
      window.htmx.ajax("GET", toggle.dataset.childrenUrl, { target: list, swap: "innerHTML" });
      return;
    }
    sync(toggle);
  }

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) { return; }
    var toggle = event.target.closest("a.toggle[data-children-url]");
    if (toggle) {
      event.preventDefault();
      expand(toggle);
      return;
    }
    var close = event.target.closest("[data-close-panel]");
    var panel = close && close.closest(".node-panel");
    if (panel) {
      event.preventDefault();
      panel.innerHTML = "";
      return;
    }
    var found = event.target.closest(".find-results a");
    if (found) {
      document.getElementById("find-results").innerHTML = "";
    }
  });

  // A branch that arrived (or failed to): it is loaded; stop the spinner.
  document.addEventListener("htmx:afterRequest", function (event) {
    var list = event.detail && event.detail.target;
    if (!(list instanceof Element) || !list.matches("ul.children, ul.tree-list")) { return; }
    list.dataset.loaded = "true";
    var toggle = document.querySelector('a.toggle[aria-controls="' + list.id + '"]');
    if (toggle) {
      toggle.classList.remove("loading");
      sync(toggle);
    }
  });

  document.addEventListener("htmx:afterSettle", syncAll);

  // Esc closes the "find" suggestions.
  document.addEventListener("keydown", function (event) {
    var results = document.getElementById("find-results");
    if (event.key === "Escape" && results) { results.innerHTML = ""; }
  });
})();
