// Groups page: keep the colour picker and the #RRGGBB text field in step. The text field
// is the one submitted (it may be empty: no colour); the picker only helps to fill it.
(function () {
  "use strict";
  var COLOUR = /^#[0-9a-fA-F]{6}$/;

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement)) { return; }
    if (input.dataset.colorFor) {
      var text = document.getElementById(input.dataset.colorFor);
      if (text) { text.value = input.value.toUpperCase(); }
    } else if (input.dataset.colorPicker) {
      var picker = document.getElementById(input.dataset.colorPicker);
      if (picker && COLOUR.test(input.value.trim())) { picker.value = input.value.trim().toLowerCase(); }
    }
  });
})();
