// Search as you type, as a WAI-ARIA combobox with a listbox popup (APG combobox pattern).
// The form still works without this script (it submits to /search).
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-search]");
  if (!form || !window.fetch || !window.AbortController) return;
  var input = form.querySelector("input[name=q]");
  var region = document.getElementById(form.getAttribute("data-live-search"));
  var status = document.getElementById("live-status");
  var timer = null;
  var pending = null;
  var active = -1;

  function options() {
    return region.querySelectorAll("[role=option]");
  }

  function choose(index) {
    var all = options();
    if (active >= 0 && all[active]) all[active].setAttribute("aria-selected", "false");
    active = index;
    if (index < 0 || !all[index]) {
      active = -1;
      input.removeAttribute("aria-activedescendant");
      return;
    }
    all[index].setAttribute("aria-selected", "true");
    all[index].scrollIntoView({ block: "nearest" });
    input.setAttribute("aria-activedescendant", all[index].id);
  }

  function show(html) {
    region.innerHTML = html;
    region.hidden = false;
    region.setAttribute("aria-busy", "false");
    active = -1;
    input.removeAttribute("aria-activedescendant");
    input.setAttribute("aria-expanded", options().length ? "true" : "false");
    var summary = region.querySelector("[data-live-status], [role=alert]");
    if (status) status.textContent = summary ? summary.textContent : "";
  }

  function collapse() {
    choose(-1);
    region.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function run() {
    var query = input.value.trim();
    if (pending) pending.abort();
    if (!query) { show(""); return; }
    pending = new AbortController();
    region.setAttribute("aria-busy", "true");
    var url = form.action + "?" + new URLSearchParams({ q: query, partial: "1" });
    fetch(url, { signal: pending.signal, headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(show)
      .catch(function (error) {
        if (error.name !== "AbortError") {
          // The sentence comes from the page, translated (data-unavailable on the form).
          var unavailable = form.getAttribute("data-unavailable") || "";
          show("");
          if (status) status.textContent = unavailable;
          region.textContent = unavailable;
        }
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });

  input.addEventListener("keydown", function (event) {
    var count = options().length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!count) return;
      event.preventDefault();
      if (region.hidden) { region.hidden = false; input.setAttribute("aria-expanded", "true"); }
      var step = event.key === "ArrowDown" ? 1 : -1;
      choose(active < 0 ? (step > 0 ? 0 : count - 1) : (active + step + count) % count);
    } else if (event.key === "Enter" && active >= 0) {
      var href = options()[active].getAttribute("data-href");
      if (href) { event.preventDefault(); window.location.assign(href); }
    } else if (event.key === "Escape") {
      if (input.getAttribute("aria-expanded") === "true") { event.preventDefault(); collapse(); }
      else if (input.value) { event.preventDefault(); input.value = ""; show(""); }
    }
  });

  // A click on an option opens its entry, as Enter does (options hold no links).
  region.addEventListener("click", function (event) {
    var option = event.target.closest("[role=option]");
    var href = option && option.getAttribute("data-href");
    if (href) window.location.assign(href);
  });
})();
