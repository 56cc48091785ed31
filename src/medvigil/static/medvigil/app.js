// MedVigil: behaviour shared by all pages (no external downloads).
document.addEventListener("htmx:configRequest", function (evt) {
  var el = document.querySelector("[hx-headers]");
  if (!el) return;
  try { Object.assign(evt.detail.headers, JSON.parse(el.getAttribute("hx-headers"))); } catch (e) {}
});
// No inline scripts (the Content-Security-Policy allows scripts from our own files only):
// page behaviour is declared with data attributes and wired here.
document.addEventListener("DOMContentLoaded", function () {
  // Open a dialog the server marked to show at once (e.g. a signature dialog with errors).
  document.querySelectorAll(".modal[data-autoshow]").forEach(function (modal) {
    if (window.bootstrap) { bootstrap.Modal.getOrCreateInstance(modal).show(); }
  });
  // <datalist data-options-url>: inputs using it get suggestions from that URL as you type.
  document.querySelectorAll("datalist[data-options-url]").forEach(function (list) {
    document.querySelectorAll('input[list="' + list.id + '"]').forEach(function (input) {
      var timer;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          if (!window.htmx) return;
          var url = list.dataset.optionsUrl + "?q=" + encodeURIComponent(input.value);
          htmx.ajax("GET", url, {target: "#" + list.id, swap: "innerHTML"});
        }, 250);
      });
    });
  });
});
document.body.addEventListener("htmx:beforeRequest", function () {
  document.getElementById("htmx-progress")?.classList.add("htmx-request");
});
document.body.addEventListener("htmx:afterRequest", function () {
  document.getElementById("htmx-progress")?.classList.remove("htmx-request");
});
// Open a dialog requested by the server after an htmx swap (e.g. the signature dialog).
document.body.addEventListener("htmx:afterSwap", function (evt) {
  var modal = evt.detail.target.querySelector(".modal[data-autoshow]");
  if (modal) { bootstrap.Modal.getOrCreateInstance(modal).show(); }
});
