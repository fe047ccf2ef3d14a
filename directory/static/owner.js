/* Owner pages: what improves them when JavaScript runs. Every form works without it and
   the server checks everything again on submit.
   - A form with data-handle-check="URL": the handle field's availability, asked as the
     person types (debounced), is announced in the field's polite status line.
   - A form with data-handle-kind: the value field's hint follows the chosen kind. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function handleCheck(form) {
    var input = form.querySelector("input[name=handle]");
    var status = document.getElementById("id_handle_status");
    if (!input || !status) { return; }
    var url = form.getAttribute("data-handle-check");
    var initial = input.value.trim();
    var timer = null;
    var asked = 0;

    function show(text, kind) {
      status.textContent = text;
      status.classList.remove("ok", "bad");
      if (kind) { status.classList.add(kind); }
    }

    function ask() {
      var value = input.value.trim();
      if (!value || value === initial) { show("", null); return; }
      var serial = ++asked;
      var target = url + (url.indexOf("?") < 0 ? "?" : "&") + "handle=" + encodeURIComponent(value);
      fetch(target, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok && response.status !== 429) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (answer) {
          if (serial !== asked) { return; }  // a newer question is on its way
          if (answer.available === null) { show(answer.message, null); return; }
          show(answer.message, answer.available ? "ok" : "bad");
        })
        .catch(function () { if (serial === asked) { show("", null); } });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 400);
    });
  }

  function kindHint(form) {
    var select = form.querySelector("select[name=kind]");
    var hint = document.getElementById("id_value_helptext");
    if (!select || !hint) { return; }
    var general = hint.textContent;
    function update() {
      var option = select.options[select.selectedIndex];
      var text = option && option.getAttribute("data-hint");
      hint.textContent = text || general;
    }
    select.addEventListener("change", update);
    update();
  }

  ready(function () {
    document.querySelectorAll("form[data-handle-check]").forEach(handleCheck);
    document.querySelectorAll("form[data-handle-kind]").forEach(kindHint);
  });
})();
