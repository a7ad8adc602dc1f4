// Wake-on-LAN: keeps running wake jobs' status up to date by polling the
// API (the page's session authenticates it). Loaded by /wake and
// /wake/{id}; without it those pages show their status as of loading.
(function () {
  "use strict";
  var every = 2000;
  var label = { no_route: "no route", sent: "sent, watching…" };

  function text(el, s) { if (el && el.textContent !== s) { el.textContent = s; } }

  function renderTargets(box, job) {
    job.targets.forEach(function (t) {
      var row = box.querySelector('[data-target-id="' + t.id + '"]');
      if (!row) { return; }
      var st = row.querySelector(".wake-status");
      if (st) {
        st.className = "wake-status wake-" + t.status;
        text(st, label[t.status] || t.status);
      }
      text(row.querySelector(".wake-method"), t.method || "");
      text(row.querySelector(".wake-took"), t.took_s ? t.took_s.toFixed(1) + " s" : "");
      var detail = t.detail || "";
      if (t.confirmed_by) { detail += (detail ? " " : "") + "seen by " + t.confirmed_by; }
      text(row.querySelector(".wake-detail"), detail);
    });
  }

  function renderCounts(box, job) {
    var cell = box.querySelector(".wake-counts");
    if (!cell) { return; }
    var parts = Object.keys(job.counts).sort().map(function (k) {
      return job.counts[k] + " " + (label[k] ? label[k].replace("…", "") : k);
    });
    text(cell, parts.join(" "));
  }

  function watch(box) {
    var id = box.getAttribute("data-wake-job");
    function poll() {
      fetch("/api/v1/wake/" + encodeURIComponent(id), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (job) {
          renderTargets(box, job);
          renderCounts(box, job);
          text(box.querySelector(".wake-job-status"), job.status);
          box.setAttribute("data-status", job.status);
          if (job.status === "running") {
            setTimeout(poll, every);
          } else {
            var live = box.querySelector(".wake-live");
            if (live) { live.remove(); }
          }
        })
        .catch(function () { setTimeout(poll, every * 5); });
    }
    setTimeout(poll, every);
  }

  document.querySelectorAll('[data-wake-job][data-status="running"]').forEach(watch);
})();
