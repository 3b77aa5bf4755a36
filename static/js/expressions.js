// Tag expression fields (resources and bulk pages): htmx swaps the field's feedback (its
// errors or its matched count) out of band as the user types; keep the field's
// aria-invalid in step with it.  The field itself is never swapped, so it keeps focus.
(function () {
  "use strict";

  function sync() {
    document.querySelectorAll("[data-expr-feedback]").forEach(function (feedback) {
      document.querySelectorAll("[aria-describedby]").forEach(function (field) {
        if (field.getAttribute("aria-describedby").split(/\s+/).indexOf(feedback.id) < 0) {
          return;
        }
        if (feedback.querySelector(".errors")) {
          field.setAttribute("aria-invalid", "true");
        } else {
          field.removeAttribute("aria-invalid");
        }
      });
    });
  }

  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("htmx:oobAfterSwap", sync);
})();
