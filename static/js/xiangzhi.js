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
    var post = document.getElementById("xz-id-lookup");
    if (!post) return;
    post.querySelector("input[name=id_number]").value = q.value.trim();
    q.value = "";
    post.submit();
  }, true);
  document.addEventListener("htmx:configRequest", function (ev) {
    var q = ev.detail.parameters && ev.detail.parameters.q;
    if (q && FULL_ID.test(q)) { ev.preventDefault(); }
  });
})();
