/*
 * Charts of the statistics page. Each chart draws the numbers of the table
 * named by its data-chart-table, so that the chart and its table view never
 * disagree; a hidden count ("< 5") is left out of the chart and named in the
 * tooltip. No inline script or style: the page's CSP allows neither.
 *
 *   <canvas data-chart="bar|line|doughnut" data-chart-table="table-id">
 *   <table id="table-id"><tbody><tr><th>label</th><td data-value="12">12</td>
 */
(function () {
  "use strict";

  function readTable(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var data = { labels: [], values: [], texts: [] };
    rows.forEach(function (row) {
      var label = row.querySelector("th");
      var cell = row.querySelector("td[data-value]");
      if (!label || !cell) {
        return;
      }
      var raw = cell.getAttribute("data-value");
      data.labels.push(label.textContent.trim());
      data.values.push(raw === "" ? null : Number(raw));
      data.texts.push(cell.textContent.trim());
    });
    return data;
  }

  function chartOptions(kind, data) {
    var options = {
      responsive: true,
      aspectRatio: 2,
      animation: false,
      plugins: {
        legend: { display: kind === "doughnut", position: "right" },
        tooltip: {
          callbacks: {
            label: function (item) {
              return " " + data.texts[item.dataIndex];
            }
          }
        }
      }
    };
    if (kind !== "doughnut") {
      options.scales = { y: { beginAtZero: true, ticks: { precision: 0 } } };
    }
    return options;
  }

  function drawChart(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-chart-table"));
    if (!table || !window.Chart) {
      return;
    }
    var kind = canvas.getAttribute("data-chart") || "bar";
    var data = readTable(table);
    if (kind === "bar" && data.labels.length > 20) {
      // The table lists them all; a bar chart of every one would be unreadable.
      data = { labels: data.labels.slice(0, 20), values: data.values.slice(0, 20),
               texts: data.texts.slice(0, 20) };
    }
    var heading = table.querySelector("caption");
    canvas.chart = new window.Chart(canvas, {
      type: kind,
      data: {
        labels: data.labels,
        datasets: [{
          label: heading ? heading.textContent.trim() : "",
          data: data.values,
          fill: false,
          tension: 0.2
        }]
      },
      options: chartOptions(kind, data)
    });
    canvas.setAttribute("data-chart-ready", "true");
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, drawChart);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
