/* Draws the overview chart from the JSON the page embeds (#overview-chart-data); no inline script. */
(function () {
  "use strict";
  var holder = document.getElementById("overview-chart");
  var source = document.getElementById("overview-chart-data");
  if (!holder || !source || !window.Plotly) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var colors = { conversations: "#2dd4bf", leads: "#4f46e5" };

  var traces = data.series.map(function (series) {
    var common = {
      name: series.name,
      x: data.x,
      y: series.y,
      hovertemplate: "%{y:,.0f}<extra>" + series.name + "</extra>",
    };
    if (series.key === "conversations") {
      return Object.assign(common, { type: "bar", marker: { color: colors.conversations } });
    }
    return Object.assign(common, {
      type: "scatter",
      mode: "lines+markers",
      line: { color: colors.leads, width: 2.5 },
      marker: { color: colors.leads, size: 5 },
    });
  });

  var layout = {
    height: 340,
    margin: { l: 44, r: 12, t: 36, b: 36 },
    separators: data.separators,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: window.getComputedStyle(document.body).fontFamily, size: 12, color: "#64748b" },
    bargap: 0.35,
    hovermode: "x unified",
    legend: { orientation: "h", x: 0, y: 1.14, font: { color: "#0f172a" } },
    xaxis: {
      type: "date",
      tickformat: data.tickFormat,
      hoverformat: data.hoverFormat,
      showgrid: false,
      linecolor: "#e4e8ee",
      ticks: "outside",
      tickcolor: "#e4e8ee",
    },
    yaxis: { rangemode: "tozero", gridcolor: "#eef2f6", zeroline: false, tickformat: ",~r" },
  };

  window.Plotly.newPlot(holder, traces, layout, {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  });
})();
