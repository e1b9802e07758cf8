/* Cadre analytics charts: ECharts from the json_script data; the tables beside them are
   the fallback (and what prints). No inline scripts, no external requests. */
(function () {
  "use strict";
  if (!window.echarts) return;
  var COLORS = ["#206bc4", "#2fb344", "#f59f00", "#d63939", "#ae3ec9", "#17a2b8"];
  var charts = [];

  function option(type, d) {
    var base = { color: COLORS, animation: false, tooltip: { trigger: type === "pie" ? "item" : "axis", confine: true } };
    if (type === "pie") {
      base.legend = { bottom: 0, type: "scroll" };
      base.series = [{ type: "pie", radius: ["35%", "62%"], center: ["50%", "44%"],
        label: { position: "inside", formatter: "{c}", color: "#fff" },
        data: d.labels.map(function (l, i) { return { name: l, value: d.values[i] }; }) }];
      return base;
    }
    base.grid = { left: 8, right: 16, top: 24, bottom: 8, containLabel: true };
    base.xAxis = { type: "category", data: d.labels, axisTick: { show: false }, axisLabel: { interval: 0, width: 64, overflow: "break", lineHeight: 14 } };
    base.yAxis = { type: "value", minInterval: 1 };
    base.series = [{ type: "bar", data: d.values, barMaxWidth: 40, label: { show: true, position: "top" } }];
    return base;
  }

  function init() {
    document.querySelectorAll("[data-xz-chart]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-xz-chart"));
      if (!src) return;
      var d = JSON.parse(src.textContent)[el.getAttribute("data-xz-series")];
      if (!d || !d.values.length) { el.style.display = "none"; return; }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(el.getAttribute("data-xz-type"), d));
      el.setAttribute("data-xz-rendered", "1");
      charts.push(chart);
    });
    var timer;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
