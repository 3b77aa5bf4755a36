// The rule form (templates/rules/_editor.html): the live preview swaps each field's
// errors out of band as the user types; keep the field's red outline (.has-error) in
// step with them (expressions.js keeps aria-invalid in step).
(function () {
  "use strict";

  function sync() {
    document.querySelectorAll(".rule-form [data-expr-feedback]").forEach(function (feedback) {
      var field = feedback.closest(".field");
      if (field) {
        field.classList.toggle("has-error", Boolean(feedback.querySelector(".errors")));
      }
    });
  }

  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("htmx:oobAfterSwap", sync);
})();
