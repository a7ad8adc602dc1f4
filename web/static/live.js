// lanscout live scan progress: follows the server-sent events of a running
// scan and updates the progress bar, the status line and the list of
// devices found. The page works without it (a meta refresh inside
// <noscript> reloads it instead).
"use strict";
(function () {
  function text(el, s) { if (el) { el.textContent = s; } }

  function describe(p) {
    var parts = [];
    if (p.phase === "starting") { parts.push("Scanning"); }
    else if (p.phase === "sweep") {
      parts.push(p.total ? "Scanning" + (p.pass > 1 ? " (pass " + p.pass + ")" : "") + ": " + p.sent + " of " + p.total + " addresses probed" : "Scanning");
    } else if (p.phase === "snmp") {
      parts.push(p.snmp_total ? "Scanning over SNMP: " + p.snmp_done + " of " + p.snmp_total + " addresses done" : "Scanning over SNMP");
    } else if (p.phase === "storing") { parts.push("Storing the results"); }
    else if (p.phase === "remote") { parts.push("Running on " + p.scanner.kind + (p.scanner.id ? " " + p.scanner.id : "")); }
    else if (p.phase === "ended") { parts.push("Scan " + p.status); }
    if (p.found) { parts.push(p.found + " answered"); }
    parts.push(p.recorded + " device" + (p.recorded === 1 ? "" : "s") + " stored");
    if (p.snmp_answered) { parts.push(p.snmp_answered + " answered SNMP"); }
    if (p.elapsed_s >= 1) { parts.push(Math.round(p.elapsed_s) + " s"); }
    var s = parts.join(" · ");
    if (p.error) { s += " — " + p.error; }
    return s;
  }

  // Screen readers hear milestones only (the first device, the end), not
  // every change of the status line, which moves several times a second.
  function announce(box, s) {
    var el = box.querySelector(".live-announce");
    if (el) { el.textContent = s; }
  }

  function addDevice(list, d) {
    if (!list) { return; }
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = "/devices/" + d.id;
    a.className = "mono";
    a.textContent = d.ip;
    li.appendChild(a);
    var badge = document.createElement("span");
    badge.className = "badge cat-" + d.category;
    badge.textContent = d.category === "loadbalancer" ? "load balancer" : d.category;
    li.appendChild(document.createTextNode(" "));
    li.appendChild(badge);
    var more = [d.name, d.mac, d.vendor].filter(Boolean).join(" · ");
    if (more) {
      var span = document.createElement("span");
      span.className = "muted";
      span.textContent = " " + more;
      li.appendChild(span);
    }
    list.appendChild(li);
    var none = document.getElementById("no-devices");
    if (none) { none.remove(); }
  }

  function follow(box) {
    if (!window.EventSource) { return; }
    var status = box.querySelector(".live-status");
    var bar = box.querySelector(".live-bar");
    var list = box.dataset.devices ? document.getElementById(box.dataset.devices) : null;
    var es = new EventSource(box.dataset.events);
    box.classList.add("live-on");
    // The clock ticks between events: a scan waiting on slow devices
    // sends none for a while. Elapsed time is the server's, plus the time
    // since its last event, so the clocks need not agree.
    var last = null, lastAt = 0;
    var tick = window.setInterval(function () {
      if (last && last.status === "running") {
        var p = Object.assign({}, last);
        p.elapsed_s = last.elapsed_s + (Date.now() - lastAt) / 1000;
        text(status, describe(p));
      }
    }, 1000);
    es.addEventListener("progress", function (ev) {
      var p = JSON.parse(ev.data);
      last = p;
      lastAt = Date.now();
      text(status, describe(p));
      if (bar) {
        if (p.phase === "sweep" && p.total > 0) { bar.max = p.total; bar.value = p.sent; }
        else if (p.phase === "snmp" && p.snmp_total > 0) { bar.max = p.snmp_total; bar.value = p.snmp_done; }
        else if (p.phase === "storing" || p.phase === "ended") { bar.max = 1; bar.value = 1; }
        else { bar.removeAttribute("value"); }
      }
    });
    var devices = 0;
    es.addEventListener("device", function (ev) {
      addDevice(list, JSON.parse(ev.data));
      devices++;
      if (devices === 1) { announce(box, "Devices are arriving."); }
    });
    es.addEventListener("end", function (ev) {
      es.close();
      window.clearInterval(tick);
      var run = JSON.parse(ev.data);
      box.classList.remove("live-on");
      box.classList.add("live-ended");
      if (bar) { bar.max = 1; bar.value = 1; }
      var summary = "Scan " + run.status + ": " + run.stats.recorded + " device" +
        (run.stats.recorded === 1 ? "" : "s") + " found, " + run.stats.new_devices + " new.";
      announce(box, summary);
      if (status) {
        status.textContent = summary + " ";
        var a = document.createElement("a");
        a.href = window.location.pathname;
        a.textContent = "Reload for the updated counts";
        status.appendChild(a);
      }
    });
    es.onerror = function () {
      // The server ends the stream after the end event; anything else is
      // a dropped connection EventSource retries by itself.
      if (es.readyState === EventSource.CLOSED) { box.classList.remove("live-on"); }
    };
  }

  document.querySelectorAll("[data-events]").forEach(follow);
})();
