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

// Phones: list tables read as stacked cards. Every table directly in a card (the list
// pages' shape) gets .table-stack and each cell the text of its column head as data-label;
// app.css lays them out below the md breakpoint. A table can opt out with data-no-stack, and
// a table elsewhere (e.g. in a card's body) opt in with data-stack.
function medvigilStackTables(root) {
  root.querySelectorAll(".card > .table-responsive > table, .card > table, table[data-stack]").forEach(function (table) {
    if (table.hasAttribute("data-no-stack") || !table.tHead) return;
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) {
      return th.innerText.trim();
    });
    if (heads.length < 2) return;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[col] || "");
          col += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("table-stack");
  });
}

// Filter forms fold on phones: a GET form in the page with three or more fields gets a
// "Filters" button; folded, only its search box and submit button stay (or nothing, when it
// has no search box). Forms with errors stay open.
// The "Filters (n)" button: how many filters other than the search box are set.
function medvigilCountFilters(form, button, label) {
  var search = form.querySelector("input[type=search], input[name=q]");
  var active = 0;
  form.querySelectorAll("input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea").forEach(function (f) {
    if (f === search) return;
    if (f.type === "checkbox" || f.type === "radio") { if (f.checked) active += 1; }
    else if (f.tagName === "SELECT") { if (f.selectedIndex > 0) active += 1; }
    else if (f.value) active += 1;
  });
  button.textContent = active ? label + " (" + active + ")" : label;
}

function medvigilFoldFilters(root) {
  var phone = window.matchMedia("(max-width: 767.98px)").matches;
  var label = document.body.getAttribute("data-filters-label") || "Filters";
  root.querySelectorAll("main form").forEach(function (form, n) {
    if ((form.getAttribute("method") || "get").toLowerCase() !== "get") return;
    if (form.classList.contains("filter-form")) return;
    var fields = form.querySelectorAll("input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea");
    if (fields.length < 3) return;
    form.classList.add("filter-form");
    if (!form.id) form.id = "filters-" + n;
    var search = form.querySelector("input[type=search], input[name=q]");
    var submit = form.querySelector("button:not([type=button]), input[type=submit]");
    if (search) {
      var row = form.classList.contains("row") ? form : form.querySelector(".row");
      Array.prototype.forEach.call(row ? row.children : [], function (cell) {
        if (cell.contains(search) || (submit && cell.contains(submit))) return;
        if (cell.matches("input[type=hidden]")) return;
        cell.classList.add("filter-hide");
      });
    } else {
      form.classList.add("filter-all");
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-secondary mb-2 filter-toggle";
    button.setAttribute("aria-controls", form.id);
    medvigilCountFilters(form, button, label);
    form.parentNode.insertBefore(button, form);
    var collapsed = phone && !form.querySelector(".is-invalid, .invalid-feedback, .alert-danger");
    form.classList.toggle("filters-collapsed", collapsed);
    button.setAttribute("aria-expanded", collapsed ? "false" : "true");
    button.addEventListener("click", function () {
      var nowCollapsed = form.classList.toggle("filters-collapsed");
      button.setAttribute("aria-expanded", nowCollapsed ? "false" : "true");
    });
  });
}

// A looked-up record prefills empty fields of its form: an element swapped in with
// data-prefill-<field name>="value" (e.g. the unit card of the service intake: the site
// address, contact) fills that field when it is empty or still holds an earlier prefill;
// what the person typed stays.
function medvigilPrefill(root) {
  root.querySelectorAll("[data-prefill]").forEach(function (source) {
    var form = source.closest("form");
    if (!form) return;
    Array.prototype.forEach.call(source.attributes, function (attr) {
      if (attr.name.indexOf("data-prefill-") !== 0) return;
      var field = form.elements.namedItem(attr.name.slice("data-prefill-".length));
      if (!field || !("value" in field)) return;
      if (field.value === "" || field.value === field.getAttribute("data-prefilled")) {
        field.value = attr.value;
        field.setAttribute("data-prefilled", attr.value);
      }
    });
  });
}

medvigilStackTables(document);
medvigilFoldFilters(document);
medvigilPrefill(document);
document.body.addEventListener("htmx:afterSwap", function (evt) {
  medvigilPrefill(evt.detail.target);
});
// After htmx has settled (not merely swapped: settling puts back the new elements' own
// attributes, which would drop the card layout's class from a table keeping its id).
document.body.addEventListener("htmx:afterSettle", function () {
  medvigilStackTables(document);
  // A field whose feedback was swapped in (out of band, e.g. the unit list's scan error)
  // is marked invalid while the feedback shows an error, and no longer once it is gone.
  document.querySelectorAll("form.record-list-filters [aria-describedby]").forEach(function (field) {
    var feedback = document.getElementById(field.getAttribute("aria-describedby"));
    if (feedback) field.classList.toggle("is-invalid", !!feedback.querySelector(".invalid-feedback"));
  });
  var label = document.body.getAttribute("data-filters-label") || "Filters";
  document.querySelectorAll(".filter-toggle[aria-controls]").forEach(function (button) {
    var form = document.getElementById(button.getAttribute("aria-controls"));
    if (form) medvigilCountFilters(form, button, label);
  });
});

// A list's filter form applies a choice at once: a select, a date or a checkbox changed
// submits the form (htmx then swaps the table). The search box waits for Enter or the button.
document.addEventListener("change", function (evt) {
  var field = evt.target;
  var form = field.closest ? field.closest("form.record-list-filters") : null;
  if (!form || field.type === "search" || field.type === "text") return;
  if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
});

// A sort or page link of a list swaps the table alone (htmx) and changes the address: the
// filter form keeps the new order (its hidden "sort"), so filtering next does not undo it.
function medvigilSyncListForms() {
  var sort = new URLSearchParams(window.location.search).get("sort") || "";
  document.querySelectorAll("form.record-list-filters").forEach(function (form) {
    var input = form.querySelector("input[type=hidden][name=sort]");
    if (!sort) { if (input) input.remove(); return; }
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "sort";
      form.insertBefore(input, form.firstChild);
    }
    input.value = sort;
  });
}
document.body.addEventListener("htmx:pushedIntoHistory", medvigilSyncListForms);
window.addEventListener("popstate", function () { setTimeout(medvigilSyncListForms, 0); });

// Export links download what the list shows now: a filter applied in place (htmx) has
// changed the address, not the links rendered with the page.
document.addEventListener("click", function (evt) {
  var link = evt.target.closest ? evt.target.closest(".export-links a[data-format]") : null;
  if (!link) return;
  var params = new URLSearchParams(window.location.search);
  params.delete("page");
  params.set("format", link.getAttribute("data-format"));
  link.setAttribute("href", window.location.pathname + "?" + params.toString());
});

// A tab row that scrolls sideways on a phone (flex-nowrap overflow-auto) shows its current
// tab: without this, the highlighted tab of the later trace pages sits off-screen.
function medvigilShowCurrentTabs(root) {
  root.querySelectorAll(".nav.overflow-auto").forEach(function (row) {
    var current = row.querySelector(".nav-link.active, [aria-current]");
    if (!current || row.scrollWidth <= row.clientWidth) return;
    var box = row.getBoundingClientRect(), tab = current.getBoundingClientRect();
    row.scrollLeft += tab.left - box.left - (box.width - tab.width) / 2;
  });
}
medvigilShowCurrentTabs(document);
// A picker's result (the IMDRF code picker, imdrf/forms.py): a button with data-pick-into (the
// input's id) and data-pick-value adds the value to that input's comma-separated list.
document.addEventListener("click", function (evt) {
  var button = evt.target.closest ? evt.target.closest("[data-pick-into]") : null;
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-pick-into"));
  if (!input) return;
  var value = button.getAttribute("data-pick-value");
  var items = input.value.split(/[\s,;，；、]+/).filter(Boolean);
  if (items.indexOf(value) < 0) items.push(value);
  input.value = items.join(", ");
  input.dispatchEvent(new Event("change", {bubbles: true}));
  input.focus();
});
