// Draws the console's analytics charts (/console/analytics) with Chart.js, from the page's JSON block.
(function () {
  "use strict";
  var block = document.getElementById("data");
  if (!block || typeof Chart === "undefined") return;
  var data = JSON.parse(block.textContent);
  var colours = ["#003366", "#c8102e", "#6a8caf", "#f2a900", "#2e7d32", "#7b1fa2"];
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
    var options = { responsive: true, animation: false };
    if (chart.kind !== "doughnut") {
      options.scales = { y: { beginAtZero: true } };
      if (chart.name === "fallback") options.scales.y.max = 1;
    }
    new Chart(canvas, { type: chart.kind, data: { labels: labels, datasets: datasets }, options: options });
  });
})();
