// The status dialog: htmx fills <dialog id="status-dialog">, this opens it as a modal (focus
// moves into it, Escape closes it) and closes it on Cancel. Without JS the links open a page.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    const dialog = event.detail.target;
    if (!(dialog instanceof HTMLDialogElement) || dialog.id !== "status-dialog") return;
    if (!dialog.open) dialog.showModal();
    const invalid = dialog.querySelector("[aria-invalid=true], .error");
    const first = invalid || dialog.querySelector("select, input:not([type=hidden]), textarea, button");
    if (first instanceof HTMLElement) {
      if (!first.matches("select, input, textarea, button")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
  });
  document.addEventListener("click", function (event) {
    const close = event.target instanceof Element && event.target.closest("[data-close-dialog]");
    const dialog = close && close.closest("dialog");
    if (dialog instanceof HTMLDialogElement) { event.preventDefault(); dialog.close(); }
  });
})();
