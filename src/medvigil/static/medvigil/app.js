// MedVigil: behaviour shared by all pages (no external downloads).
document.addEventListener("htmx:configRequest", function (evt) {
  var el = document.querySelector("[hx-headers]");
  if (!el) return;
  try { Object.assign(evt.detail.headers, JSON.parse(el.getAttribute("hx-headers"))); } catch (e) {}
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
