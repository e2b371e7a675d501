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

// The slideshow order: drag an image (SortableJS) or press its Up/Down button; the form is
// posted by htmx either way, and the focus returns to the moved image's button.
(function () {
  "use strict";
  let moving = false;
  function sortable() {
    const list = document.getElementById("slides");
    const form = document.getElementById("slideshow-form");
    if (!list || !form || typeof Sortable === "undefined" || list.dataset.sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      animation: 120,
      draggable: ".slide",
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        moving = false;
        htmx.trigger(form, "submit");
      },
    });
  }
  document.addEventListener("click", function (event) {
    const button = event.target instanceof HTMLElement ? event.target.closest("#slideshow-form button[name=move]") : null;
    if (button) moving = true;
  });
  document.addEventListener("htmx:afterSettle", function () {
    sortable();
    const form = document.getElementById("slideshow-form");
    if (!moving || !form || !form.dataset.moved) return;
    moving = false;
    const cut = form.dataset.moved.lastIndexOf(":"); // image ids hold colons themselves
    const id = form.dataset.moved.slice(0, cut), direction = form.dataset.moved.slice(cut + 1);
    const other = direction === "up" ? "down" : "up";
    const target = document.getElementById(direction + "-" + id);
    const fallback = document.getElementById(other + "-" + id);
    if (target && !target.disabled) target.focus();
    else if (fallback) fallback.focus();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", sortable);
  else sortable();
})();

// The recipe's live preview: the preview JPEG on a canvas with render's tone formulas (levels,
// exposure in linear light, contrast about mid grey, brightness; saturation; colorization) and
// the crops outlined. A canvas needs no inline style, which the CSP forbids.
(function () {
  "use strict";
  const canvas = document.getElementById("recipe-preview");
  const form = document.getElementById("recipe-form");
  if (!form) return;
  const num = function (name, fallback) {
    const input = form.elements.namedItem(name);
    const value = input ? parseFloat(input.value) : NaN;
    return isNaN(value) ? fallback : value;
  };
  const str = function (name) {
    const input = form.elements.namedItem(name);
    return input ? input.value : "";
  };
  function toneTable() {
    const black = num("black", 0), white = num("white", 255), gamma = num("gamma", 1) || 1;
    const gain = Math.pow(2, num("exposure", 0));
    const contrast = 1 + num("contrast", 0) / 100, offset = (num("brightness", 0) / 100) * 0.5;
    const span = Math.max(1, white - black), table = new Uint8ClampedArray(256);
    for (let value = 0; value < 256; value++) {
      let v = Math.pow(Math.min(1, Math.max(0, (value - black) / span)), 1 / gamma);
      v = Math.pow(Math.min(1, Math.pow(v, 2.2) * gain), 1 / 2.2);
      v = (v - 0.5) * contrast + 0.5 + offset;
      table[value] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    return table;
  }
  function tintTable(hex) {
    const mid = [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16) || 0; });
    const table = [];
    for (let i = 0; i < 256; i++) {
      table.push(mid.map(function (m) {
        return i < 127 ? Math.floor((i * m) / 127) : i < 255 ? m + Math.floor(((i - 127) * (255 - m)) / 128) : 255;
      }));
    }
    return table;
  }
  function crops() {
    const found = [];
    const rows = parseInt(str("crop_rows"), 10) || 0;
    for (let i = 0; i < rows; i++) {
      const remove = form.elements.namedItem("crop-" + i + "-remove");
      if (!str("crop-" + i + "-name") || (remove && remove.checked)) continue;
      found.push({
        name: str("crop-" + i + "-name"),
        x: num("crop-" + i + "-x", 0) / 100, y: num("crop-" + i + "-y", 0) / 100,
        w: num("crop-" + i + "-width", 100) / 100, h: num("crop-" + i + "-height", 100) / 100,
      });
    }
    return found;
  }
  // A named ratio W:H keeps the crop's shape on the image's real pixels: width sets height.
  form.addEventListener("input", function (event) {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.type === "range") {
      const out = document.getElementById("o-" + input.name);
      if (out) out.textContent = input.value;
    }
    const key = input instanceof HTMLElement ? input.dataset.cropKey : null;
    if (key !== "width" && key !== "height") return;
    const row = input.closest("[data-crop]");
    const i = row.dataset.crop, ratio = str("crop-" + i + "-ratio");
    const iw = parseFloat(form.dataset.width), ih = parseFloat(form.dataset.height);
    if (!iw || !ih || (ratio.indexOf(":") < 0 && ratio !== "original")) return;
    const parts = ratio === "original" ? [iw, ih] : ratio.split(":").map(Number);
    const perPercent = (iw / ih) * (parts[1] / parts[0]); // height % per width %
    const other = form.elements.namedItem("crop-" + i + "-" + (key === "width" ? "height" : "width"));
    const value = parseFloat(input.value);
    if (!other || isNaN(value)) return;
    other.value = (key === "width" ? value * perPercent : value / perPercent).toFixed(2);
  });
  if (!canvas) return;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const picture = new Image();
  let queued = false;
  function draw() {
    queued = false;
    const w = canvas.width, h = canvas.height;
    context.drawImage(picture, 0, 0, w, h);
    const frame = context.getImageData(0, 0, w, h), px = frame.data;
    const table = toneTable(), saturation = 1 + num("saturation", 0) / 100;
    const mode = str("mode"), strength = Math.min(1, Math.max(0, num("strength", 1)));
    const tint = mode === "tint" ? tintTable(str("tint_color") || "#704214") : null;
    for (let p = 0; p < px.length; p += 4) {
      let r = table[px[p]], g = table[px[p + 1]], b = table[px[p + 2]];
      if (saturation !== 1) {
        const grey = (r * 299 + g * 587 + b * 114) / 1000;
        r = grey + (r - grey) * saturation; g = grey + (g - grey) * saturation; b = grey + (b - grey) * saturation;
      }
      if (mode !== "none" && strength > 0) {
        let tr, tg, tb;
        if (mode === "sepia") {
          tr = 0.393 * r + 0.769 * g + 0.189 * b; tg = 0.349 * r + 0.686 * g + 0.168 * b; tb = 0.272 * r + 0.534 * g + 0.131 * b;
        } else {
          const grey = Math.round(Math.min(255, Math.max(0, (r * 299 + g * 587 + b * 114) / 1000)));
          if (tint) { tr = tint[grey][0]; tg = tint[grey][1]; tb = tint[grey][2]; } else { tr = tg = tb = grey; }
        }
        r = r + (Math.min(255, tr) - r) * strength; g = g + (Math.min(255, tg) - g) * strength; b = b + (Math.min(255, tb) - b) * strength;
      }
      px[p] = r; px[p + 1] = g; px[p + 2] = b;
    }
    context.putImageData(frame, 0, 0);
    const shown = crops();
    if (shown.length) {
      context.save();
      context.fillStyle = "rgba(0, 0, 0, 0.45)";
      context.beginPath();
      context.rect(0, 0, w, h);
      shown.forEach(function (c) { context.rect(c.x * w, c.y * h, c.w * w, c.h * h); });
      context.fill("evenodd");
      context.lineWidth = Math.max(2, w / 300);
      context.strokeStyle = "#f2a900";
      context.fillStyle = "#f2a900";
      context.font = Math.max(12, Math.round(w / 40)) + "px system-ui, sans-serif";
      shown.forEach(function (c) {
        context.strokeRect(c.x * w, c.y * h, c.w * w, c.h * h);
        context.fillText(c.name, c.x * w + 6, c.y * h + Math.max(14, w / 35));
      });
      context.restore();
    }
    canvas.dataset.drawn = String((parseInt(canvas.dataset.drawn || "0", 10) || 0) + 1);
  }
  function redraw() {
    if (!picture.complete || queued) return;
    queued = true;
    window.requestAnimationFrame(draw);
  }
  picture.addEventListener("load", redraw);
  picture.src = canvas.dataset.src;
  form.addEventListener("input", redraw);
  form.addEventListener("change", redraw);
})();

// A memory card's files: posted with upload progress, then the answer (the dry run, or the
// form with its refusal) replaces the page's main part, at the card's own address.
(function () {
  "use strict";
  const form = document.getElementById("card-form");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const bar = document.getElementById("card-progress");
  form.addEventListener("submit", function (event) {
    if (!input.files.length) return; // the server says what is missing
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRF-Token", form.elements.namedItem("csrf_token").value);
    bar.hidden = false;
    bar.value = 0;
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    request.addEventListener("load", function () {
      bar.value = 100;
      const answer = new DOMParser().parseFromString(request.responseText, "text/html");
      const main = answer.querySelector("main");
      if (!main) return;
      document.querySelector("main").replaceWith(main);
      document.title = answer.title;
      const commit = main.querySelector("#corrections form");
      if (commit) history.replaceState(null, "", commit.getAttribute("action").replace(/\/commit$/, "") + window.location.search);
      main.focus();
    });
    request.addEventListener("error", function () {
      document.getElementById("flash").textContent = "The upload failed: the studio app cannot be reached.";
    });
    request.send(new FormData(form));
  });
})();
