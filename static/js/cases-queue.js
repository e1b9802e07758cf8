// 事项工作台: searchable selects in the "更多条件" panel, which is fetched when first opened
// (xiangzhi.js turns selects into tom-selects on page load only).
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail && ev.detail.target;
    if (!window.TomSelect || !target || target.id !== "case-more-body") return;
    target.querySelectorAll("select[data-xz-tom]").forEach(function (el) {
      if (el.tomselect || el.options.length < 8) return;
      new window.TomSelect(el, { maxOptions: null, allowEmptyOption: true });
    });
  });
})();
