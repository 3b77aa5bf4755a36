// The hierarchy editor's tree: expand a node by fetching its children once (htmx), then
// collapse and expand it locally; close an inline panel; keep the expand controls'
// aria-expanded in step with what is shown after every htmx swap; move a node by
// dragging its row onto another. No inline scripts
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

  // Opening a tag from the "find" box closes its suggestions.
  document.addEventListener("submit", function (event) {
    var results = document.getElementById("find-results");
    if (results && event.target instanceof Element && event.target.matches("form.find")) {
      results.innerHTML = "";
    }
  });

  // Drag a row onto another tag's row to move it there: the same POST as the move
  // picker (the answer re-renders the tree; a refusal shows in the dragged node's panel).
  var dragged = null;

  function dropTarget(event) {
    var row = event.target instanceof Element && event.target.closest(".node > .row[data-tag-id]");
    if (!row || !dragged || row === dragged) { return null; }
    if (dragged.parentElement.contains(row)) { return null; }  // its own branch: a cycle
    return row;
  }

  function clearHighlight() {
    document.querySelectorAll(".row.drop-target").forEach(function (row) {
      row.classList.remove("drop-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var row = event.target instanceof Element && event.target.closest(".row[data-move-url]");
    if (!row) { return; }
    dragged = row;
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.tagId);
  });

  document.addEventListener("dragover", function (event) {
    var row = dropTarget(event);
    if (!row) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!row.classList.contains("drop-target")) {
      clearHighlight();
      row.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var row = dropTarget(event);
    if (!row) { return; }
    event.preventDefault();
    var source = dragged;
    var values = {};
    values[source.dataset.moveField] = row.dataset.tagId;
    window.htmx.ajax("POST", source.dataset.moveUrl, {
      source: source, target: "#panel-" + source.dataset.tagId, swap: "innerHTML", values: values
    });
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    clearHighlight();
  });

  // Esc closes the "find" suggestions, and the rename / move / add-child / delete panel the
  // focus is in (or, with the focus elsewhere, any open panel); the focus goes back to the
  // row the panel belongs to, so the keyboard user is where they started.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var results = document.getElementById("find-results");
    if (results) { results.innerHTML = ""; }
    var active = document.activeElement;
    var panel = active && active.closest ? active.closest(".node-panel") : null;
    var panels = panel ? [panel] : Array.prototype.filter.call(
      document.querySelectorAll(".node-panel"), function (p) { return p.children.length; });
    panels.forEach(function (p) {
      p.innerHTML = "";
      var row = p.parentElement && p.parentElement.querySelector(":scope > .row");
      var back = row && row.querySelector(".node-actions button, .node-actions a, a.node-name");
      if (panel && back) { back.focus(); }
    });
  });
})();
