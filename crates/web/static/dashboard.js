// Draws the supervision dashboard's charts with Chart.js from the figures the server embedded
// in #dashboard-data (the same figures as /api/v1/stats/trend and /api/v1/stats/kpis).
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof Chart === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var labels = data.labels;
  var common = { responsive: true, maintainAspectRatio: false, animation: false };
  function value(row, code) {
    for (var i = 0; i < row.kpis.length; i++) {
      if (row.kpis[i].code === code) { return row.kpis[i].value; }
    }
    return null;
  }
  var charts = {};
  charts.trend = new Chart(document.getElementById("chart-trend"), {
    type: "line",
    data: {
      labels: data.trend.map(function (r) { return r.key; }),
      datasets: [
        { label: labels.submitted, data: data.trend.map(function (r) { return r.counters.submitted; }), borderColor: "#0b5cad", yAxisID: "y" },
        { label: labels.decided, data: data.trend.map(function (r) { return r.counters.decided; }), borderColor: "#2e7d32", yAxisID: "y" },
        { label: labels.on_time_rate, data: data.trend.map(function (r) { return value(r, "on_time_rate"); }), borderColor: "#c0392b", borderDash: [4, 4], yAxisID: "rate" }
      ]
    },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true }, rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } })
  });
  charts.departments = new Chart(document.getElementById("chart-departments"), {
    type: "bar",
    data: {
      labels: data.departments.map(function (r) { return r.name || r.key || "—"; }),
      datasets: [
        { label: labels.decided, data: data.departments.map(function (r) { return r.counters.decided; }), backgroundColor: "#0b5cad", xAxisID: "x" },
        { label: labels.on_time_rate, data: data.departments.map(function (r) { return value(r, "on_time_rate"); }), backgroundColor: "#f5b041", xAxisID: "rate" }
      ]
    },
    options: Object.assign({}, common, { indexAxis: "y", scales: { x: { beginAtZero: true, position: "top" }, rate: { min: 0, max: 100, position: "bottom" } } })
  });
  charts.ratings = new Chart(document.getElementById("chart-ratings"), {
    type: "doughnut",
    data: {
      labels: labels.levels,
      datasets: [{ data: data.total.rating_distribution, backgroundColor: ["#1b5e20", "#66bb6a", "#fdd835", "#fb8c00", "#c62828"] }]
    },
    options: common
  });
  var c = data.total.counters;
  charts.hotline = new Chart(document.getElementById("chart-hotline"), {
    type: "bar",
    data: {
      labels: labels.loop,
      datasets: [{ label: labels.tickets, data: [c.tickets, c.tickets_replied, c.tickets_replied_on_time, c.tickets_called_back, c.tickets_satisfied, c.tickets_closed], backgroundColor: "#0b5cad" }]
    },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } })
  });
  // For tests and tools: the drawn charts and how many points each holds.
  window.tongbanCharts = charts;
  document.body.setAttribute("data-charts-ready", "true");
})();
