/* tracekit HTML report: draws the charts from the JSON data island, sorts tables, fits charts
   to the page when printing. Plain JavaScript, no network. */
(function () {
  "use strict";

  var PRINT_WIDTH_PX = 680;
  var data = JSON.parse(document.getElementById("report-data").textContent);

  function escapeLabel(value) {
    // plotly reads a little HTML in labels: show names such as "<module>" as they are
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function formatNs(ns) {
    var units = [["s", 1e9], ["ms", 1e6], ["µs", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(ns) >= units[i][1]) {
        return (ns / units[i][1]).toPrecision(3).replace(/\.?0+$/, "") + " " + units[i][0];
      }
    }
    return Math.round(ns) + " ns";
  }

  function timeUnit(spanNs) {
    if (spanNs >= 5e9) { return {label: "s", scale: 1e9}; }
    if (spanNs >= 5e6) { return {label: "ms", scale: 1e6}; }
    return {label: "µs", scale: 1e3};
  }

  function timelineFigure(spec) {
    var unit = timeUnit(spec.span_ns);
    var laneLabel = {};
    spec.lane_ids.forEach(function (id, i) { laneLabel[id] = escapeLabel(spec.lanes[i]); });
    var traces = spec.kinds.map(function (kind, k) {
      return {
        type: "bar", orientation: "h", name: spec.kind_labels[k], base: [], x: [], y: [], customdata: [],
        marker: {color: spec.colours[k], opacity: kind === "marker" ? 0.45 : 0.9,
                 line: {width: 0}},
        hovertemplate: "%{customdata[0]}<br>" + spec.labels.start + " %{customdata[1]}<br>" +
          spec.labels.duration + " %{customdata[2]}<extra>" + escapeLabel(spec.kind_labels[k]) + "</extra>"
      };
    });
    for (var i = 0; i < spec.lane.length; i++) {
      var trace = traces[spec.kind[i]];
      trace.base.push(spec.start[i] / unit.scale);
      trace.x.push(Math.max(spec.dur[i], 0) / unit.scale);
      trace.y.push(laneLabel[spec.lane[i]]);
      trace.customdata.push([escapeLabel(spec.names[spec.name[i]]), formatNs(spec.start[i]),
                             formatNs(spec.dur[i])]);
    }
    var lanes = spec.lane_ids.map(function (id) { return laneLabel[id]; });
    return {
      data: traces.filter(function (t) { return t.x.length > 0; }),
      layout: {
        height: 90 + 34 * lanes.length,
        barmode: "overlay",
        bargap: 0.25,
        margin: {l: 10, r: 20, t: 36, b: 50},
        font: {family: "system-ui, -apple-system, 'Segoe UI', sans-serif", size: 12},
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        showlegend: true,
        legend: {orientation: "h", x: 0, y: 1.01, yanchor: "bottom"},
        hovermode: "closest",
        hoverlabel: {align: "left"},
        xaxis: {title: {text: spec.labels.axis + " (" + unit.label + ")"}, rangemode: "tozero",
                zeroline: false, gridcolor: "#e5e5e5"},
        yaxis: {type: "category", categoryorder: "array", categoryarray: lanes.slice().reverse(),
                automargin: true}
      }
    };
  }

  function drawChart(div, spec) {
    var figure = spec.type === "timeline" ? timelineFigure(spec) : spec;
    return window.Plotly.newPlot(div, figure.data, figure.layout, data.config);
  }

  function showChartError(div, error) {
    div.className += " chart-error";
    div.textContent = "chart not drawn: " + error;
  }

  function drawCharts() {
    var divs = document.querySelectorAll("div.chart");
    Array.prototype.forEach.call(divs, function (div) {
      var spec = data.charts[div.id];
      if (!spec) { return; }
      if (!window.Plotly) { showChartError(div, "plotly.js missing"); return; }
      try {
        drawChart(div, spec);
      } catch (error) {
        showChartError(div, error);
      }
    });
  }

  function cellValue(cell) {
    if (!cell) { return ""; }
    var sortKey = cell.getAttribute("data-v");
    return sortKey === null ? cell.textContent.trim() : parseFloat(sortKey);
  }

  function compareValues(a, b) {
    var aNumber = typeof a === "number", bNumber = typeof b === "number";
    if (aNumber && bNumber) { return a - b; }
    if (aNumber !== bNumber) { return aNumber ? -1 : 1; }  // numbers before "-"
    return String(a).localeCompare(String(b));
  }

  function sortTable(table, column, header) {
    var descending = header.getAttribute("aria-sort") !== "descending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (x, y) {
      var order = compareValues(cellValue(x.cells[column]), cellValue(y.cells[column]));
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function makeSortable(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      header.addEventListener("click", function () { sortTable(table, column, header); });
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortTable(table, column, header); }
      });
    });
  }

  function inheritColumnHints(table) {
    // each cell without its own hint shows its column's window and formula on hover
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, column) {
        var hint = headers[column] && headers[column].getAttribute("title");
        if (hint && !cell.hasAttribute("title")) { cell.setAttribute("title", hint); }
      });
    });
  }

  function eachPlot(action) {
    if (!window.Plotly) { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".js-plotly-plot"), action);
  }

  function fitChartsToPage() {
    eachPlot(function (div) { window.Plotly.relayout(div, {width: PRINT_WIDTH_PX}); });
  }

  function fitChartsToWindow() {
    eachPlot(function (div) {
      window.Plotly.relayout(div, {width: null, autosize: true});
      window.Plotly.Plots.resize(div);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.data"), inheritColumnHints);
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
  drawCharts();
  window.addEventListener("beforeprint", fitChartsToPage);
  window.addEventListener("afterprint", fitChartsToWindow);
}());
