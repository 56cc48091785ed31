/* Work order on a phone (SVC-4): nothing typed is lost.
 * - Every field the engineer changes is kept as a draft in localStorage (per work order)
 *   before htmx saves it: {"f": {field: value}} holds only the fields changed and not yet
 *   confirmed by the server.
 * - A successful save (data-save-ok="1") confirms the values that request carried: a field is
 *   dropped from the draft only when its value is still the one that was sent. A change made
 *   while a save was in flight, or a save that failed, stays in the draft.
 * - On load, the draft's fields that differ from what the server has are put back and saved
 *   again (after a lost connection or a reload mid-way); fields not in the draft keep the
 *   server's values.
 * - The signature pad draws with pointer events; its PNG goes in a hidden field on submit.
 * No external code; served from static/ (CSP: script-src 'self'). */
(function () {
  "use strict";
  var form = document.getElementById("wo-form");
  if (form) {
    var key = form.getAttribute("data-draft-key");
    var fields = form.querySelectorAll("textarea, select, input[type=checkbox]");
    var read = function (el) { return el.type === "checkbox" ? (el.checked ? "yes" : "") : el.value; };
    // what the server sent (a reload may show the browser's own restored values instead)
    var served = function (el) {
      if (el.type === "checkbox") { return el.defaultChecked ? "yes" : ""; }
      if (el.tagName === "SELECT") {
        for (var i = 0; i < el.options.length; i++) { if (el.options[i].defaultSelected) { return el.options[i].value; } }
        return el.options.length ? el.options[0].value : "";
      }
      return el.defaultValue;
    };
    var write = function (el, v) { if (el.type === "checkbox") { el.checked = v === "yes"; } else { el.value = v; } };
    var load = function () {
      var d;
      try { d = JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { d = {}; }
      if (!d || typeof d !== "object") { return {}; }
      return (d.f && typeof d.f === "object") ? d.f : d;  // an older draft held every field
    };
    var dirty = load();
    var persist = function () {
      try {
        if (Object.keys(dirty).length) { localStorage.setItem(key, JSON.stringify({ f: dirty })); }
        else { localStorage.removeItem(key); }
      } catch (e) { /* storage full or off */ }
    };
    var sent = null;  // the values the save in flight carried (htmx sends one at a time)
    var restored = false;
    fields.forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(dirty, el.name)) {
        if (dirty[el.name] !== served(el)) { write(el, dirty[el.name]); restored = true; }
        else { delete dirty[el.name]; }  // the server already has it
      }
      var keep = function () { dirty[el.name] = read(el); persist(); };
      el.addEventListener("input", keep);
      el.addEventListener("change", keep);
    });
    persist();
    if (restored && !form.querySelector("fieldset[disabled]")) {
      var note = document.getElementById("draft-restored");
      if (note) { note.classList.remove("d-none"); }
      // after htmx has bound the form (it initialises on DOMContentLoaded)
      window.addEventListener("load", function () {
        if (window.htmx) { window.htmx.trigger(form, "change"); }
      });
    }
    document.body.addEventListener("htmx:configRequest", function (ev) {
      if (ev.detail.elt !== form) { return; }
      sent = {};
      fields.forEach(function (el) { sent[el.name] = read(el); });
    });
    document.body.addEventListener("htmx:afterRequest", function (ev) {
      if (ev.detail.elt !== form) { return; }
      var xhr = ev.detail.xhr;
      var ok = xhr && xhr.status === 200 && xhr.responseText.indexOf('data-save-ok="1"') !== -1;
      if (ok && sent) {
        Object.keys(sent).forEach(function (name) {
          if (Object.prototype.hasOwnProperty.call(dirty, name) && dirty[name] === sent[name]) { delete dirty[name]; }
        });
        persist();
      }
      sent = null;
    });
    document.body.addEventListener("htmx:afterSwap", function (ev) {
      var ok = ev.detail.target && ev.detail.target.querySelector("[data-save-ok='1']");
      if (ok) {
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
