/* xiangzhi page behaviour. No inline scripts; no external requests. */
(function () {
  "use strict";
  var FULL_ID = /^\s*\d{17}[\dXx]\s*$/;
  // A full ID number must never travel in a URL: the registry search form sends it by POST
  // to the exact-lookup endpoint instead.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches || !form.matches("form[data-id-lookup]")) return;
    var q = form.querySelector("input[name=q]");
    if (!q || !FULL_ID.test(q.value)) return;
    ev.preventDefault();
    ev.stopPropagation(); // htmx must not also send the (now emptied) search
    var post = document.getElementById("xz-id-lookup");
    if (!post) return;
    post.querySelector("input[name=id_number]").value = q.value.trim();
    q.value = "";
    post.submit();
  }, true);
  document.addEventListener("htmx:configRequest", function (ev) {
    var q = ev.detail.parameters && ev.detail.parameters.q;
    if (q && FULL_ID.test(q)) { ev.preventDefault(); }
    // While an ID number is being typed, live search stays quiet (no digits in the URL).
    var trig = ev.detail.triggeringEvent;
    if (q && trig && trig.type === "input" && /^\s*\d{7,17}[\dXx]?\s*$/.test(q)) { ev.preventDefault(); }
  });
  // Fragments that answer with an error status (422 form errors, 403, 503) are still shown
  // where the request came from an element inside [data-xz-swap-errors].
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var cfg = ev.detail.requestConfig;
    var elt = cfg && cfg.elt;
    if (ev.detail.xhr && ev.detail.xhr.status >= 400 && elt && elt.closest && elt.closest("[data-xz-swap-errors]")) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
  // Confirmation before destructive submits: <button data-xz-confirm="确定？">.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-xz-confirm]");
    if (btn && !window.confirm(btn.getAttribute("data-xz-confirm"))) { ev.preventDefault(); }
  });
  // Print buttons (no inline scripts).
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-xz-print]");
    if (btn) { ev.preventDefault(); window.print(); }
  });
  // Searchable selects where tom-select is loaded on the page.
  function initTom(root) {
    if (!window.TomSelect) return;
    (root || document).querySelectorAll("select[data-xz-tom]").forEach(function (el) {
      if (el.tomselect || el.options.length < 8) return;
      new window.TomSelect(el, { maxOptions: null, allowEmptyOption: true });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initTom(document); });
})();
