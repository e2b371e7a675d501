// Calendar: drag a session onto another slot to move it. The move posts the calendar's hidden
// move form (htmx swaps the grid, or shows booking's refusal above it); the session's own page
// has the same move as a form, for the keyboard.
(function () {
  "use strict";
  let dragged = null;
  function cellOf(event) {
    return event.target instanceof Element ? event.target.closest("[data-drop]") : null;
  }
  document.addEventListener("dragstart", function (event) {
    const booking = event.target instanceof Element ? event.target.closest("[data-session-id]") : null;
    if (!booking) return;
    dragged = booking;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", booking.dataset.sessionId);
    booking.classList.add("dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".drop-over").forEach(function (c) { c.classList.remove("drop-over"); });
  });
  document.addEventListener("dragover", function (event) {
    const cell = cellOf(event);
    if (!cell || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("drop-over");
  });
  document.addEventListener("dragleave", function (event) {
    const cell = cellOf(event);
    if (cell) cell.classList.remove("drop-over");
  });
  document.addEventListener("drop", function (event) {
    const cell = cellOf(event);
    const form = document.getElementById("move-form");
    if (!cell || !dragged || !form) return;
    event.preventDefault();
    form.elements.session_id.value = dragged.dataset.sessionId;
    form.elements.version.value = dragged.dataset.version;
    form.elements.starts_at.value = cell.dataset.startsAt;
    form.elements.resource_id.value = cell.dataset.resourceId;
    form.requestSubmit();
  });
})();
