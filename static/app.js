/* Webcare Monitor: live queue and countdowns. No inline script anywhere (strict CSP). */
(function () {
  "use strict";
  var body = document.body;
  var targetSeconds = Number(body.dataset.targetSeconds || 3600);
  var warningSeconds = Number(body.dataset.warningSeconds || 2700);
  var amberFrom = targetSeconds - warningSeconds; // seconds left at which amber starts
  var loadedAt = Date.now();

  // Selects marked autosubmit (language switch) post their form on change.
  document.querySelectorAll("select.autosubmit").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  // The message after an action stays until closed (no layout jump under the pointer); an
  // undo offer counts down and leaves when the server stops accepting it.
  var toast = document.getElementById("toast");
  if (toast) {
    var closeToast = function () { toast.remove(); };
    toast.querySelector(".toast-close").addEventListener("click", closeToast);
    var undoLeft = Number(toast.dataset.undoSeconds || 0);
    var undoLabel = toast.querySelector(".undo-left");
    if (undoLeft > 0) {
      var undoTimer = setInterval(function () {
        undoLeft -= 1;
        if (undoLabel) undoLabel.textContent = "(" + undoLeft + " s)";
        if (undoLeft <= 0) { clearInterval(undoTimer); toast.querySelector("form.undo").remove(); }
      }, 1000);
    }
  }

  function format(seconds) {
    var sign = seconds < 0 ? "-" : "";
    var s = Math.abs(Math.trunc(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)), ss = String(sec).padStart(2, "0");
    return sign + (h ? h + ":" : "") + mm + ":" + ss;
  }

  function stateFor(left) {
    if (left <= 0) return "breached";
    if (left <= amberFrom) return "warning";
    return "ok";
  }

  // Seconds left are as the server computed them when it rendered the fragment; elapsed time
  // is measured on the client's monotonic-enough clock since receipt, so a wrong client clock
  // does not matter. Stopped clocks (outside opening hours) stay frozen.
  function tick() {
    var elapsed = (Date.now() - loadedAt) / 1000;
    document.querySelectorAll(".countdown").forEach(function (el) {
      var left = Number(el.dataset.secondsLeft);
      if (el.dataset.clockRunning === "true") left -= elapsed;
      el.textContent = format(left);
      var row = el.closest(".mention, .mention-detail");
      if (row && !row.classList.contains("sla-" + stateFor(left)) && el.dataset.clockRunning === "true") {
        row.classList.remove("sla-ok", "sla-warning", "sla-breached");
        row.classList.add("sla-" + stateFor(left));
      }
    });
  }
  setInterval(tick, 1000);

  // The split view reloads on every action: the list keeps where it was scrolled to.
  var listPane = document.querySelector(".workspace.split .queue-page");
  if (listPane) {
    var scrollKey = "webcare.listScroll";
    listPane.scrollTop = Number(sessionStorage.getItem(scrollKey) || 0);
    window.addEventListener("pagehide", function () { sessionStorage.setItem(scrollKey, String(listPane.scrollTop)); });
  }

  var live = document.getElementById("live");
  if (!live) return;
  var partialUrl = live.dataset.partial;
  var status = document.getElementById("stream-status");
  var pending = null;
  var inflight = false;

  function refresh() {
    pending = null;
    if (inflight) { pending = setTimeout(refresh, 300); return; }
    inflight = true;
    fetch(partialUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (resp.redirected || resp.status === 401) { window.location.assign("/login"); return null; }
        return resp.ok ? resp.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live-inner");
        var current = document.getElementById("live-inner");
        if (fresh && current) {
          // Keep what the responder ticked for bulk dismiss across the refresh.
          var picked = new Set(Array.from(current.querySelectorAll("input.pick:checked")).map(function (el) { return el.value; }));
          fresh.querySelectorAll("input.pick").forEach(function (el) { el.checked = picked.has(el.value); });
          current.replaceWith(document.importNode(fresh, true));
          fresh.querySelectorAll(".fresh-tab-counts [data-tab]").forEach(function (el) {
            var count = document.querySelector("[data-tab-count='" + el.dataset.tab + "']");
            if (count) count.textContent = el.textContent;
          });
          loadedAt = Date.now();
          tick();
          document.dispatchEvent(new CustomEvent("queue:refreshed"));
        }
      })
      .catch(function () { /* the next event or the periodic resync tries again */ })
      .finally(function () { inflight = false; });
  }

  function scheduleRefresh() {
    if (!pending) pending = setTimeout(refresh, 250); // bursts of events: one fetch
  }

  function setStatus(ok) {
    if (!status) return;
    status.textContent = ok ? status.dataset.ok : status.dataset.lost;
    status.className = ok ? "ok" : "lost";
  }

  // EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.
  var source = new EventSource("/api/events");
  window.webcareEvents = source; // one stream per page: other scripts listen on it too
  source.onopen = function () { setStatus(true); };
  source.onerror = function () { setStatus(false); };
  ["mention.created", "mention.updated", "source.health"].forEach(function (type) {
    source.addEventListener(type, scheduleRefresh);
  });
  // Someone opened or left a mention: its "has it open" marker changes (typing does not show here).
  source.addEventListener("presence.changed", function (event) {
    try { if (!JSON.parse(event.data).typing_only) scheduleRefresh(); } catch (e) { /* ignore */ }
  });
  setInterval(refresh, 30000); // resync: clocks that start at opening time, missed edges
})();
