// The session record: ratings by keys 0-5 on the focused image, and the import's progress.
(function () {
  "use strict";
  const csrf = (document.getElementById("import-form") || {}).dataset || {};
  document.addEventListener("keydown", function (event) {
    const tile = event.target instanceof HTMLElement ? event.target.closest(".tile[data-rate]") : null;
    if (!tile || event.target !== tile || !/^[0-5]$/.test(event.key)) return;
    event.preventDefault();
    const id = tile.id;
    htmx.ajax("POST", tile.dataset.rate, { source: tile, target: tile, swap: "outerHTML", values: { stars: event.key } })
      .then(function () { const again = document.getElementById(id); if (again) again.focus(); });
  });
  const form = document.getElementById("import-form");
  if (!form) return;
  const input = document.getElementById("f-files");
  const drop = document.getElementById("drop");
  const bar = document.getElementById("import-progress");
  drop.addEventListener("dragover", function (event) { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    drop.classList.remove("over");
    input.files = event.dataTransfer.files;
  });
  form.addEventListener("submit", function (event) {
    if (!input.files.length) return; // the server says what is missing
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("HX-Request", "true");
    request.setRequestHeader("X-CSRF-Token", csrf.csrf || "");
    bar.hidden = false;
    bar.value = 0;
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    request.addEventListener("load", function () {
      bar.value = 100;
      const answer = new DOMParser().parseFromString(request.responseText, "text/html");
      if (request.status < 300) {
        const report = answer.getElementById("import-report");
        if (report) document.getElementById("import-report").replaceWith(report);
        form.reset();
        htmx.ajax("GET", window.location.pathname, { target: "#grid", select: "#grid", swap: "outerHTML" });
      } else {
        const flash = document.getElementById("flash");
        const message = answer.querySelector(".error");
        flash.textContent = "";
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = message ? message.textContent : "The import was refused (" + request.status + ").";
        flash.appendChild(p);
        flash.setAttribute("tabindex", "-1");
        flash.focus();
      }
    });
    request.addEventListener("error", function () {
      document.getElementById("flash").textContent = "The upload failed: the studio app cannot be reached.";
    });
    request.send(new FormData(form));
  });
})();
