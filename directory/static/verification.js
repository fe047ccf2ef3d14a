/* The proof page while a check runs: the page works without this (it says to reload);
   here the page asks for itself every few seconds and, once the check is recorded, puts
   the new state in place and says so in the polite live region #check-status. */
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var TRIES = 40;

  // A selector that finds the same control in the new copy of the page, or null.
  function selectorOf(element) {
    if (element.id) { return "#" + CSS.escape(element.id); }
    var copy = element.getAttribute("data-copy");
    if (copy) { return 'button[data-copy="' + CSS.escape(copy) + '"]'; }
    if (element.name && element.value) {
      return element.tagName.toLowerCase() + '[name="' + CSS.escape(element.name) + '"][value="' + CSS.escape(element.value) + '"]';
    }
    return null;
  }

  function start() {
    var proof = document.getElementById("proof");
    var status = document.getElementById("check-status");
    if (!proof || !status || !proof.hasAttribute("data-poll") || !window.fetch || !window.DOMParser) {
      return;
    }
    var url = proof.getAttribute("data-poll");
    var tries = 0;

    function later() {
      tries += 1;
      if (tries >= TRIES) {
        status.textContent = proof.getAttribute("data-poll-late") || "";
        return;
      }
      window.setTimeout(ask, EVERY_MS);
    }

    function ask() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById("proof");
          if (!fresh || fresh.hasAttribute("data-poll")) { later(); return; }
          var node = document.importNode(fresh, true);
          var focused = proof.contains(document.activeElement) ? selectorOf(document.activeElement) : null;
          proof.replaceWith(node);
          if (window.worldbook) { window.worldbook.copyButtons(node); }
          status.textContent = node.getAttribute("data-announce") || "";
          // Keep keyboard focus where it was when the same control is still there.
          var again = focused && node.querySelector(focused);
          if (again) { again.focus(); }
        }, later);
    }

    window.setTimeout(ask, EVERY_MS);
  }

  if (document.readyState !== "loading") { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
