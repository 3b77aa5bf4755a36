// The tag pages' small behaviours (no inline scripts: the CSP forbids them).
// - row selection: "select all on this page", the selected count, highlighted rows, bulk
//   buttons enabled only with a selection, and confirmations that say what will happen;
// - Enter in a bulk field presses that field's own button; Esc cancels an inline edit;
// - picking a colour unticks its "no colour" box;
// - "Clear filters" empties the filter form and reloads the results in place.
(function () {
  "use strict";

  function rowBoxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-tag-select]"));
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  function fieldValue(id) {
    var input = document.getElementById(id);
    return input ? input.value.trim() : "";
  }

  function confirmText(kind, count) {
    var tags = plural(count, "tag", "tags");
    if (kind === "delete") {
      var deep = document.getElementById("bulk-hierarchy");
      return "Delete " + tags + (deep && deep.checked ? " and all their descendants" : "") +
        "? You can restore them from the list with “Show deleted”, or undo the change in the audit log.";
    }
    if (kind === "move") {
      var parent = fieldValue("bulk-parent");
      return "Move " + tags + (parent ? " under " + parent : " to the top level") + "?";
    }
    var target = fieldValue("bulk-target");
    return "Merge " + plural(mergedAway(target), "tag", "tags") + " into " + (target || "…") +
      "? Their resources get " + (target || "the target") + " and the merged tags are deleted.";
  }

  // The lookup key of a typed path or qualified name, as the server makes it (the group
  // prefix does not count; NFKC, case folded, the segments trimmed).
  function pathKey(text) {
    var path = text.indexOf("::") >= 0 ? text.slice(text.indexOf("::") + 2) : text;
    path = path.split(".").map(function (part) { return part.trim(); }).join(".");
    return path.normalize("NFKC").toLowerCase().normalize("NFKC");
  }

  // The ticked tags a merge deletes: the target stays when it is ticked too.
  function mergedAway(target) {
    var key = target ? pathKey(target) : null;
    return rowBoxes().filter(function (box) {
      return box.checked && box.dataset.tagKey !== key;
    }).length;
  }

  function refresh() {
    var boxes = rowBoxes();
    var ticked = boxes.filter(function (box) { return box.checked; });
    boxes.forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("selected", box.checked); }
    });
    var all = document.querySelector("input[data-tags-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && ticked.length === boxes.length;
      all.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
    }
    var count = document.querySelector("[data-selection-count]");
    if (count) {
      count.textContent = ticked.length ? plural(ticked.length, "tag", "tags") + " selected"
        : "No tags selected";
    }
    var bar = document.getElementById("bulk-form");
    if (bar) { bar.classList.toggle("has-selection", ticked.length > 0); }
    document.querySelectorAll("[data-needs-selection]").forEach(function (button) {
      button.disabled = ticked.length === 0;
      button.setAttribute("hx-confirm", confirmText(button.dataset.confirm, ticked.length));
    });
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches) { return; }
    if (box.matches("input[data-tags-select-all]")) {
      rowBoxes().forEach(function (item) { item.checked = box.checked; });
    }
    if (box.matches("input[data-tags-select-all], input[data-tag-select], #bulk-hierarchy")) {
      refresh();
    }
  });

  // The confirmation names the parent / target typed so far.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.id === "bulk-parent" || input.id === "bulk-target") { refresh(); }
    if (input.matches && input.matches("input[type=color][data-clears]")) {
      var none = document.getElementById(input.dataset.clears);
      if (none) { none.checked = false; }
    }
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches) { return; }
    if (event.key === "Enter" && input.matches("[data-enter-presses]")) {
      event.preventDefault();
      var button = document.getElementById(input.dataset.enterPresses);
      if (button && !button.disabled) { button.click(); }
    } else if (event.key === "Escape") {
      // Not "tr.editing": until htmx settles a swapped row, it keeps the old row's class.
      var row = input.closest("tr");
      var cancel = row && row.querySelector("[data-cancel-edit]");
      if (!cancel) { return; }
      // htmx wires up swapped-in content when it settles; processing now is idempotent and
      // lets an Esc pressed right after "Edit" work too.
      if (window.htmx) { window.htmx.process(row); }
      cancel.click();
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-clear-filters]");
    var form = document.getElementById("tag-filters");
    if (!link || !form || !window.htmx) { return; }
    event.preventDefault();
    form.querySelectorAll("input[type=search], input[type=text]").forEach(function (input) {
      input.value = "";
    });
    form.querySelectorAll("input[type=checkbox]").forEach(function (input) {
      input.checked = false;
    });
    ["f-group", "f-source"].forEach(function (id) {
      var select = document.getElementById(id);
      if (select) { select.value = ""; }
    });
    window.htmx.trigger(form, "submit");
  });

  // "Edit attributes…" posts the list's current address (its filters, pushed into the
  // address bar as they change) with the ticked ids. On the bulk-edit page, touching an
  // attribute's value ticks its "change" box (data-ticks names the box).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-bulk-edit]");
    var next = document.getElementById("bulk-next");
    if (button && next) { next.value = window.location.pathname + window.location.search; }
  });

  function tickFor(event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-ticks]")) { return; }
    if (input.type === "checkbox" && !input.checked) { return; }
    var box = document.getElementById(input.dataset.ticks);
    if (box) { box.checked = true; }
  }
  document.addEventListener("input", tickFor);
  document.addEventListener("change", tickFor);

  // A bulk-edit preview holds for the form it was made from: once a field above it changes,
  // its Apply is disabled until the next preview.
  function stalePreview(event) {
    var input = event.target;
    if (!input.closest || !input.closest("#bulk-edit-form") ||
        input.closest("#bulk-edit-preview")) { return; }
    var apply = document.getElementById("be-apply");
    var note = document.getElementById("be-stale");
    if (apply) { apply.disabled = true; }
    if (note) { note.hidden = false; }
  }
  document.addEventListener("input", stalePreview);
  document.addEventListener("change", stalePreview);

  // After htmx swapped rows, the bulk form or the whole list, recount.
  document.addEventListener("htmx:load", refresh);
  document.addEventListener("DOMContentLoaded", refresh);
})();
