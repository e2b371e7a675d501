// Deliveries: a button with data-copy="<input id>" copies that input's value (a link's URL,
// shown once) to the clipboard and says so. Focus stays on the button, so a keyboard user
// (Enter or Space on it) can go on from there; without the clipboard API the text is
// selected for Ctrl+C instead.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    const input = document.getElementById(button.getAttribute("data-copy"));
    const said = document.getElementById(button.getAttribute("data-copy") + "-said");
    if (!input) return;
    const tell = function (text) { if (said) said.textContent = text; };
    const selectIt = function () {
      input.focus();
      input.select();
      tell("Select the link and copy it (Ctrl+C).");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(
        function () { tell("Copied."); },
        selectIt
      );
    } else {
      selectIt();
    }
  });
})();
