/* Charts drawn from their own tables (progressive enhancement).
 *
 * Markup:
 *   <figure class="chart" data-chart="line|bar|hbar" data-series="1,2" data-percent="2">
 *     <figcaption>…</figcaption>
 *     <table>… first column: labels; numeric cells carry data-value …</table>
 *   </figure>
 *
 * Without JavaScript (or without Chart.js) people read the table. With it, a canvas is drawn
 * above the table from the columns listed in data-series (0-based, the label column is 0);
 * columns listed in data-percent are drawn on a 0–100 % axis on the right. A cell whose
 * data-value is empty (suppressed or not applicable) is a gap, never a zero.
 * Chart.js is served from this site (static/vendor/chartjs), never from another host.
 */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var PALETTE = ["#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#6a4c93", "#5c6b73"];

  function cellValue(cell) {
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-value");
    if (raw === null || raw === "") { return null; }
    var n = Number(raw);
    return isFinite(n) ? n : null;
  }

  function columns(attr) {
    return (attr || "").split(",").filter(function (s) { return s.trim() !== ""; })
      .map(function (s) { return parseInt(s, 10); });
  }

  function draw(figure) {
    var table = figure.querySelector("table");
    if (!table || figure.getAttribute("data-drawn")) { return; }
    var kind = figure.getAttribute("data-chart") || "bar";
    var series = columns(figure.getAttribute("data-series"));
    var percent = columns(figure.getAttribute("data-percent"));
    var heads = table.querySelectorAll("thead th");
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    if (!series.length || !rows.length) { return; }
    var labels = rows.map(function (r) { return (r.cells[0].textContent || "").trim(); });
    var datasets = series.map(function (col, i) {
      var isPercent = percent.indexOf(col) >= 0;
      var colour = PALETTE[i % PALETTE.length];
      return {
        label: heads[col] ? heads[col].textContent.trim() : "",
        data: rows.map(function (r) {
          var v = cellValue(r.cells[col]);
          return v === null ? null : (isPercent ? Math.round(v * 1000) / 10 : v);
        }),
        type: isPercent && kind !== "hbar" ? "line" : undefined,
        yAxisID: isPercent && kind !== "hbar" ? "pct" : undefined,
        borderColor: colour,
        backgroundColor: kind === "line" || isPercent ? colour : colour + "cc",
        spanGaps: false,
        tension: 0.2
      };
    });
    var canvasBox = document.createElement("div");
    canvasBox.className = "chart-canvas chart-" + kind;
    // room for every bar's label (Chart.js skips labels that do not fit): 22 px a bar
    canvasBox.style.position = "relative";
    canvasBox.style.height = (kind === "hbar" ? Math.max(120, rows.length * 22 * series.length + 60) : 220) + "px";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    var caption = figure.querySelector("figcaption");
    canvas.setAttribute("aria-label", caption ? caption.textContent.trim() : "chart");
    canvasBox.appendChild(canvas);
    figure.insertBefore(canvasBox, table.closest(".table-wrap") || table);
    var scales = { y: { beginAtZero: true, ticks: { precision: 0 } } };  // counts: no 0.5 on the axis
    // a long name is shortened beside its bar (in full in the table below), to what the width holds
    var most = Math.max(8, Math.round((figure.clientWidth || 320) / 26));
    function shortened(value) {
      var label = String(this.getLabelForValue(value));
      return label.length > most ? label.slice(0, most - 1) + "\u2026" : label;
    }
    if (percent.length && kind !== "hbar") {
      scales.pct = { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                     ticks: { callback: function (v) { return v + "%"; } } };
    }
    new window.Chart(canvas, {
      type: kind === "hbar" ? "bar" : kind,
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: kind === "hbar" ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: kind === "hbar"
          ? { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { autoSkip: false, callback: shortened } } }
          : scales
      }
    });
    figure.setAttribute("data-drawn", "1");
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.chart"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
