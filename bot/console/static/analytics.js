// Draws the console's analytics charts (/console/analytics) with Chart.js, from the page's JSON block.
(function () {
  "use strict";
  var block = document.getElementById("data");
  if (!block || typeof Chart === "undefined") return;
  var data = JSON.parse(block.textContent);
  var colours = ["#003366", "#c8102e", "#6a8caf", "#f2a900", "#2e7d32", "#7b1fa2"];

  // A chart with no value other than 0 or none (e.g. no feedback yet) says so, rather than leaving a blank
  // canvas: an empty doughnut draws nothing at all.
  var nothingToShow = {
    id: "ijmNothingToShow",
    afterDraw: function (drawn) {
      var anything = drawn.data.datasets.some(function (set) {
        return set.data.some(function (value) { return typeof value === "number" && value !== 0; });
      });
      if (anything) return;
      var area = drawn.chartArea;
      var context = drawn.ctx;
      context.save();
      context.textAlign = "center";
      context.textBaseline = "middle";
      context.fillStyle = "#555";
      context.font = "16px system-ui, sans-serif";
      context.fillText("Nothing in this period", (area.left + area.right) / 2, (area.top + area.bottom) / 2);
      context.restore();
    }
  };

  data.charts.forEach(function (chart) {
    var canvas = document.getElementById("chart-" + chart.name);
    if (!canvas) return;
    var labels = chart.rows.map(function (row) { return String(row[0]); });
    var series = chart.columns.slice(1);
    var datasets = series.map(function (column, i) {
      var colour = colours[i % colours.length];
      return {
        label: column,
        data: chart.rows.map(function (row) { return row[i + 1]; }),
        borderColor: chart.kind === "doughnut" ? "#fff" : colour,
        backgroundColor: chart.kind === "doughnut" ? colours.slice(0, labels.length) : colour
      };
    });
    // As wide as the page and half as tall, doughnuts too (Chart.js draws them square by default).
    var options = { responsive: true, animation: false, aspectRatio: 2 };
    if (chart.kind !== "doughnut") {
      options.scales = { y: { beginAtZero: true } };
      if (chart.name === "fallback") {
        options.scales.y.max = 1;  // a share of the messages
      } else {
        options.scales.y.ticks = { precision: 0 };  // counts: no 0.2 conversation on the axis
      }
    }
    new Chart(canvas, {
      type: chart.kind,
      data: { labels: labels, datasets: datasets },
      options: options,
      plugins: [nothingToShow]
    });
  });
})();
