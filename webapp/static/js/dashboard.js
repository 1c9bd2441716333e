// The dashboard: each chart is drawn from the table of numbers below it (one source for
// both: what the chart shows is what the table says), and a run in progress is polled
// until it ends. Served as a file: the Content Security Policy allows no inline script.
(function () {
  "use strict";

  var PALETTE = ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1", "#dc3545", "#198754",
                 "#0dcaf0", "#ffc107", "#d63384", "#6c757d"];
  // Alert severities keep their meaning: three colours, then churn-warning levels.
  var SEVERITY = {green: "#198754", yellow: "#ffc107", red: "#dc3545",
                  level_1: "#f6c177", level_2: "#fd7e14", level_3: "#b02a37"};

  if (window.Chart) {
    document.querySelectorAll("table[data-chart]").forEach(draw);
  }
  document.querySelectorAll("tr[data-status-url]").forEach(pollRun);

  // Row labels (the row's <th scope="row">) and one series per column whose header
  // carries data-series, the numbers taken from the cells' data-value.
  function readTable(table) {
    var series = [];
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, index) {
      if (cell.dataset.series) {
        series.push({key: cell.dataset.series, label: cell.textContent.trim(), index: index,
                     data: []});
      }
    });
    var labels = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var head = row.querySelector("th[scope='row']");
      if (!head) { return; }
      labels.push(head.textContent.trim());
      series.forEach(function (one) { one.data.push(Number(row.cells[one.index].dataset.value)); });
    });
    return {labels: labels, series: series};
  }

  function colour(index) { return PALETTE[index % PALETTE.length]; }

  function draw(table) {
    var canvas = document.getElementById(table.dataset.canvas);
    var numbers = readTable(table);
    if (!canvas || !numbers.labels.length || !numbers.series.length) { return; }
    var config;
    if (table.dataset.chart === "doughnut") {
      var only = numbers.series[0];
      config = {
        type: "doughnut",
        data: {labels: numbers.labels, datasets: [{
          label: only.label, data: only.data, backgroundColor: numbers.labels.map(function (_, i) {
            return colour(i);
          })}]},
        options: {aspectRatio: 1.6, plugins: {legend: {position: "right"}}}
      };
    } else {
      config = {
        type: "bar",
        data: {labels: numbers.labels, datasets: numbers.series.map(function (one, i) {
          return {label: one.label, data: one.data, backgroundColor: SEVERITY[one.key] || colour(i)};
        })},
        options: {aspectRatio: 3.2, scales: {x: {stacked: true},
                                             y: {stacked: true, beginAtZero: true,
                                                 ticks: {precision: 0}}}}
      };
    }
    config.options.animation = false;
    config.options.responsive = true;
    new window.Chart(canvas, config);
  }

  // A run started from this page: ask for its status every second; when it has ended,
  // reload the page (its figures and the runs table are then up to date).
  function pollRun(row) {
    var url = row.dataset.statusUrl;
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (run) {
          if (run.status === "running") { window.setTimeout(tick, 1000); }
          else { window.location.reload(); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 1000);
  }
}());
