// The studio's shared page behaviour (no inline scripts: the CSP forbids them).
// Keyboard: "g" then a screen's letter opens it (the letters are on the menu's links).
(function () {
  "use strict";
  let pending = null;
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
    if (pending === "g") {
      const link = document.querySelector('a[data-key="g ' + event.key + '"]');
      pending = null;
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    if (event.key === "g") { pending = "g"; setTimeout(function () { pending = null; }, 1500); }
  });
  // An htmx error answer lands in #flash; move focus there so it is read and seen.
  document.addEventListener("htmx:afterSwap", function (event) {
    const flash = document.getElementById("flash");
    if (flash && event.detail.target === flash && flash.textContent.trim()) {
      flash.setAttribute("tabindex", "-1");
      flash.focus();
    }
  });
  // A network failure of an htmx call is shown, not swallowed.
  document.addEventListener("htmx:sendError", function () {
    const flash = document.getElementById("flash");
    if (flash) flash.innerHTML = '<p class="error">The studio app cannot be reached; check the connection and try again.</p>';
  });
})();
