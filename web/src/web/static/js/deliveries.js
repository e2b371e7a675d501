// Deliveries: a button with data-copy="<input id>" copies that input's value (a link's URL,
// shown once) to the clipboard and says so; without the clipboard API the text is selected.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    const input = document.getElementById(button.getAttribute("data-copy"));
    const said = button.parentElement ? button.parentElement.querySelector(".copied") : null;
    if (!input) return;
    const tell = function (text) { if (said) said.textContent = text; };
    input.focus();
    input.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(
        function () { tell("Copied."); },
        function () { tell("Select the link and copy it (Ctrl+C)."); }
      );
    } else {
      tell("Select the link and copy it (Ctrl+C).");
    }
  });
})();
