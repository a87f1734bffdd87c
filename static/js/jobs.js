// A background job's page: poll its progress and reload once it finishes (summary, download).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-status") === "done" || box.getAttribute("data-status") === "failed") return;
  var url = box.getAttribute("data-progress-url");
  var every = parseInt(box.getAttribute("data-poll-ms"), 10) || 1000;
  var bar = document.getElementById("job-progress");
  var status = document.getElementById("job-status");
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var template = status.getAttribute("data-running") || "";

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (p) {
        if (!p) return setTimeout(poll, every * 3);
        if (p.finished) { window.location.reload(); return; }
        bar.value = p.percent;
        bar.textContent = p.percent + " %";
        if (template && p.total) {
          status.textContent = template.replace("{done}", format.format(p.done))
                                       .replace("{total}", format.format(p.total));
        }
        setTimeout(poll, every);
      })
      .catch(function () { setTimeout(poll, every * 3); });
  }
  setTimeout(poll, every);
})();
