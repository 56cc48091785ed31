/* Work order on a phone (SVC-4): nothing typed is lost.
 * - Every change is kept as a draft in localStorage (per work order) before htmx saves it.
 * - A successful save (data-save-ok="1") clears the draft; a failed one keeps it.
 * - On load, a draft that differs from what the server has is put back into the fields and
 *   saved again (after a lost connection or a reload mid-way).
 * - The signature pad draws with pointer events; its PNG goes in a hidden field on submit.
 * No external code; served from static/ (CSP: script-src 'self'). */
(function () {
  "use strict";
  var form = document.getElementById("wo-form");
  if (form) {
    var key = form.getAttribute("data-draft-key");
    var fields = form.querySelectorAll("textarea, select, input[type=checkbox]");
    var read = function (el) { return el.type === "checkbox" ? (el.checked ? "yes" : "") : el.value; };
    var write = function (el, v) { if (el.type === "checkbox") { el.checked = v === "yes"; } else { el.value = v; } };
    var load = function () { try { return JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { return {}; } };
    var store = function () {
      var draft = {};
      fields.forEach(function (el) { draft[el.name] = read(el); });
      try { localStorage.setItem(key, JSON.stringify(draft)); } catch (e) { /* storage full or off */ }
    };
    var draft = load();
    var restored = false;
    fields.forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(draft, el.name) && draft[el.name] !== read(el)) {
        write(el, draft[el.name]);
        restored = true;
      }
      el.addEventListener("input", store);
      el.addEventListener("change", store);
    });
    if (restored && !form.querySelector("fieldset[disabled]")) {
      var note = document.getElementById("draft-restored");
      if (note) { note.classList.remove("d-none"); }
      // after htmx has bound the form (it initialises on DOMContentLoaded)
      window.addEventListener("load", function () {
        if (window.htmx) { window.htmx.trigger(form, "change"); }
      });
    }
    document.body.addEventListener("htmx:afterSwap", function (ev) {
      var ok = ev.detail.target && ev.detail.target.querySelector("[data-save-ok='1']");
      if (ok) {
        try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
        var v = document.getElementById("wo-version");
        document.querySelectorAll(".wo-version-copy").forEach(function (c) { if (v) { c.value = v.value; } });
      }
    });
    document.body.addEventListener("htmx:beforeSwap", function (ev) {
      // show the conflict or the refusal (409/400) instead of dropping it
      if (ev.detail.xhr && (ev.detail.xhr.status === 409 || ev.detail.xhr.status === 400)) {
        ev.detail.shouldSwap = true;
        ev.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:sendError", function () {
      var s = document.getElementById("save-status");
      if (s) { s.textContent = s.getAttribute("data-offline") || "offline: kept on this phone"; s.className = "text-warning"; }
    });
    var now = document.getElementById("save-now");
    if (now && window.htmx) {
      now.addEventListener("click", function (ev) { ev.preventDefault(); window.htmx.trigger(form, "change"); });
    }
  }

  var pad = document.getElementById("signature-pad");
  if (pad) {
    var ctx = pad.getContext("2d");
    var drawing = false;
    var drawn = false;
    var size = function () {
      var ratio = window.devicePixelRatio || 1;
      pad.width = pad.clientWidth * ratio;
      pad.height = 180 * ratio;
      ctx.scale(ratio, ratio);
      ctx.lineWidth = 2;
      ctx.lineCap = "round";
      ctx.strokeStyle = "#000";
    };
    size();
    var pos = function (ev) {
      var r = pad.getBoundingClientRect();
      return { x: ev.clientX - r.left, y: ev.clientY - r.top };
    };
    pad.addEventListener("pointerdown", function (ev) {
      drawing = true; var p = pos(ev); ctx.beginPath(); ctx.moveTo(p.x, p.y);
      pad.setPointerCapture(ev.pointerId);
    });
    pad.addEventListener("pointermove", function (ev) {
      if (!drawing) { return; }
      var p = pos(ev); ctx.lineTo(p.x, p.y); ctx.stroke(); drawn = true;
    });
    var stop = function () { drawing = false; };
    pad.addEventListener("pointerup", stop);
    pad.addEventListener("pointerleave", stop);
    document.getElementById("signature-clear").addEventListener("click", function () {
      ctx.clearRect(0, 0, pad.width, pad.height); drawn = false;
    });
    document.getElementById("sign-form").addEventListener("submit", function () {
      document.getElementById("signature-data").value = drawn ? pad.toDataURL("image/png") : "";
    });
  }
})();
