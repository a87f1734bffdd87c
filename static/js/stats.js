// Statistics pages: uPlot charts from data-chart attributes, and live numbers polled from a
// small JSON endpoint (data-live-url) every data-poll-ms. No inline scripts (CSP).
(function () {
  "use strict";

  var charts = [];
  var EXPONENT = { JPY: 0 };

  function parse(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
  }

  function toTimestamps(days) {
    // "YYYY-MM-DD" (a local day) or "YYYY-MM-DD HH:00" (an hour of today), drawn as given.
    return days.map(function (d) {
      return Date.parse(d.length > 10 ? d.replace(" ", "T") + ":00Z" : d + "T00:00:00Z") / 1000;
    });
  }

  function chartData(series, names) {
    return [toTimestamps(series.days)].concat(names.map(function (n) { return series[n] || []; }));
  }

  function drawChart(el) {
    var series = parse(el, "data-chart");
    var labels = parse(el, "data-series-labels") || {};
    if (!series || !window.uPlot) return;
    var names = Object.keys(labels);
    var colors = ["#4f46e5", "#0ea5e9", "#f59e0b", "#16a34a", "#15803d", "#db2777"];
    var opts = {
      width: Math.max(280, el.clientWidth - 8),
      height: 260,
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true }, conv: { auto: true } },
      axes: [{}, { label: labels[names[0]] || "" }, { side: 1, scale: "conv", grid: { show: false } }],
      series: [{}].concat(names.map(function (name, i) {
        var conv = name === "conversions" || name === "approved";
        return { label: labels[name], stroke: colors[i % colors.length], width: 2,
                 scale: conv ? "conv" : "y", points: { show: series.days.length < 40 } };
      }))
    };
    var plot = new window.uPlot(opts, chartData(series, names), el);
    charts.push({ el: el, plot: plot, names: names });
  }

  function setText(root, key, text) {
    root.querySelectorAll('[data-live="' + key + '"]').forEach(function (node) {
      if (node.textContent !== text) {
        node.textContent = text;
        node.classList.add("flash-update");
        setTimeout(function () { node.classList.remove("flash-update"); }, 900);
      }
    });
  }

  function update(root, data, locale) {
    var number = new Intl.NumberFormat(locale);
    ["clicks", "unique_clicks", "flagged_clicks"].forEach(function (k) {
      setText(root, k, number.format(data[k]));
    });
    var total = 0;
    Object.keys(data.conversions || {}).forEach(function (status) {
      total += data.conversions[status];
      setText(root, "conversions." + status, number.format(data.conversions[status]));
    });
    setText(root, "conversions.total", number.format(total));
    setText(root, "funnel.clicks", number.format(data.valid_clicks));
    setText(root, "funnel.conversions", number.format(total));
    setText(root, "funnel.approved", number.format((data.conversions || {}).approved || 0));
    Object.keys(data.earnings || {}).forEach(function (currency) {
      var money = new Intl.NumberFormat(locale, { style: "currency", currency: currency });
      var exponent = EXPONENT[currency] === undefined ? 2 : EXPONENT[currency];
      Object.keys(data.earnings[currency]).forEach(function (status) {
        var minor = data.earnings[currency][status];
        setText(root, "earnings." + currency + "." + status,
                money.format(minor / Math.pow(10, exponent)));
      });
    });
    if (data.chart) {
      charts.forEach(function (c) { c.plot.setData(chartData(data.chart, c.names)); });
    }
  }

  function poll(root) {
    var url = root.getAttribute("data-live-url");
    var every = parseInt(root.getAttribute("data-poll-ms"), 10) || 5000;
    var locale = root.getAttribute("data-locale") || "en";
    var status = document.querySelector("[data-live-status]");
    function tick() {
      if (document.hidden) { setTimeout(tick, every); return; }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          update(root, data, locale);
          if (status) status.classList.remove("stale");
        })
        .catch(function () { if (status) status.classList.add("stale"); })
        .then(function () { setTimeout(tick, every); });
    }
    setTimeout(tick, every);
  }

  document.querySelectorAll("[data-chart]").forEach(drawChart);
  var live = document.querySelector("[data-live-url]");
  if (live) poll(live);
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.plot.setSize({ width: Math.max(280, c.el.clientWidth - 8), height: 260 }); });
  });
})();
