// Search as you type: the form still works without this script (it submits to /search).
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-search]");
  if (!form || !window.fetch || !window.AbortController) return;
  var input = form.querySelector("input[name=q]");
  var region = document.getElementById(form.getAttribute("data-live-search"));
  var timer = null;
  var pending = null;

  function show(html) {
    region.innerHTML = html;
    region.setAttribute("aria-busy", "false");
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
          region.textContent = "Search is not answering; press Enter to try again.";
          region.setAttribute("aria-busy", "false");
        }
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  });
  // Down arrow moves from the box into the results; Escape in the results returns to it.
  input.addEventListener("keydown", function (event) {
    var first = region.querySelector("a");
    if (event.key === "ArrowDown" && first) { event.preventDefault(); first.focus(); }
  });
  region.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { input.focus(); }
  });
})();
