/* Webcare Monitor: live queue and countdowns. No inline script anywhere (strict CSP). */
(function () {
  "use strict";
  var body = document.body;
  var targetSeconds = Number(body.dataset.targetSeconds || 3600);
  var warningSeconds = Number(body.dataset.warningSeconds || 2700);
  var amberFrom = targetSeconds - warningSeconds; // seconds left at which amber starts
  var loadedAt = Date.now();

  // The top bar's menu closes on a click elsewhere and on Escape (back to its button), as menus do.
  document.querySelectorAll("details.menu").forEach(function (menu) {
    document.addEventListener("click", function (event) { if (!menu.contains(event.target)) menu.open = false; });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
  });

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
  // A row redrawn on its own since carries the moment it arrived (data-at).
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown").forEach(function (el) {
      var left = Number(el.dataset.secondsLeft);
      if (el.dataset.clockRunning === "true") left -= (now - Number(el.dataset.at || loadedAt)) / 1000;
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
  var ROWS_PER_UPDATE = 50; // as app/mentions/dashboard.py: a bigger burst redraws the whole list
  var changed = new Set();  // mention ids whose row may have changed since the last update
  var wantAll = false;      // something only the whole list can answer
  var timer = null;
  var inflight = false;

  // An event on a mention redraws its row; anything else, or an event this script cannot read,
  // the whole list. Bursts of events are gathered into one request.
  function schedule(id) {
    if (Number.isInteger(id) && id > 0) changed.add(id); else wantAll = true;
    if (!timer) timer = setTimeout(run, 250);
  }

  function run() {
    timer = null;
    if (inflight) { timer = setTimeout(run, 300); return; }
    var ids = Array.from(changed);
    var shown = current();
    var whole = wantAll || ids.length > ROWS_PER_UPDATE || !shown || !shown.hasAttribute("data-rows");
    changed.clear();
    wantAll = false;
    inflight = true;
    (whole ? refresh() : update(ids))
      .catch(function () { wantAll = true; /* the next event or the periodic resync tries again */ })
      .finally(function () { inflight = false; });
  }

  function current() { return document.getElementById("live-inner"); }

  function fetchDoc(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (resp.redirected || resp.status === 401) { window.location.assign("/login"); return null; }
        if (!resp.ok) throw new Error(String(resp.status));
        return resp.text();
      })
      .then(function (html) { return html === null ? null : new DOMParser().parseFromString(html, "text/html"); });
  }

  function copyTabCounts(fresh) {
    fresh.querySelectorAll(".fresh-tab-counts [data-tab]").forEach(function (el) {
      var count = document.querySelector("[data-tab-count='" + el.dataset.tab + "']");
      if (count) count.textContent = el.textContent;
    });
  }

  function redrawn() {
    tick();
    document.dispatchEvent(new CustomEvent("queue:refreshed"));
  }

  // The whole list again.
  function refresh() {
    return fetchDoc(partialUrl).then(function (doc) {
      var fresh = doc && doc.getElementById("live-inner");
      var shown = current();
      if (!fresh || !shown) return;
      // Keep what the responder ticked for bulk dismiss across the refresh.
      var picked = new Set(Array.from(shown.querySelectorAll("input.pick:checked")).map(function (el) { return el.value; }));
      fresh.querySelectorAll("input.pick").forEach(function (el) { el.checked = picked.has(el.value); });
      // Keep what a person is typing or has opened (an edit before approving) across the refresh.
      fresh.querySelectorAll("[data-keep][id]").forEach(function (el) {
        var was = document.getElementById(el.id);
        if (!was) return;
        if (el.tagName === "DETAILS") el.open = was.open;
        else el.value = was.value;
      });
      var focused = document.activeElement && document.activeElement.id;
      shown.replaceWith(document.importNode(fresh, true));
      var refocus = focused && document.getElementById(focused);
      if (refocus && document.activeElement !== refocus) refocus.focus();
      copyTabCounts(fresh);
      loadedAt = Date.now();
      redrawn();
    });
  }

  function rowsUrl(ids) {
    var url = new URL(partialUrl, window.location.href);
    url.pathname += "/rows";
    ids.forEach(function (id) { url.searchParams.append("ids", String(id)); });
    return url.pathname + url.search;
  }

  // Only the rows of `ids`, with the page's order and counts. Rows on the page that this one
  // lacks (they slid onto the first page as others left it, or their event is still on its
  // way) are asked for next, as if they had changed.
  function update(ids) {
    return fetchDoc(rowsUrl(ids)).then(function (doc) {
      if (!doc) return null;
      var news = doc.getElementById("queue-update");
      var list = document.querySelector("#live-inner[data-rows] ol.queue");
      var page = news && news.dataset.page ? news.dataset.page.split(",") : [];
      // To or from an empty list: the whole fragment says what to show instead.
      if (!news || !list || !page.length || list.querySelector("li.empty")) return refresh();
      var rows = new Map();
      news.querySelectorAll("ol.queue > li.mention").forEach(function (li) { rows.set(li.dataset.id, li); });
      var missing = page.filter(function (id) { return !rows.has(id) && !document.getElementById("mention-" + id); });
      if (missing.length > ROWS_PER_UPDATE) return refresh();
      place(list, page, rows);
      copyTabCounts(news);
      replaceOrDrop(current().querySelector(".counters"), news.querySelector(".counters"));
      replaceOrDrop(current().querySelector("p.more"), news.querySelector("p.more"), list);
      redrawn();
      missing.forEach(function (id) { schedule(Number(id)); });
      return null;
    });
  }

  // The list becomes the page: rows that left it go, the fresh rows replace their old selves
  // (ticked or not as before), then the rows are put in the server's order, moving only those
  // out of place so scroll position, focus and selection of the others stay.
  function place(list, page, rows) {
    var onPage = new Set(page);
    list.querySelectorAll(":scope > li.mention").forEach(function (li) { if (!onPage.has(li.dataset.id)) li.remove(); });
    var at = String(Date.now());
    rows.forEach(function (li, id) {
      var row = document.importNode(li, true);
      row.querySelectorAll(".countdown").forEach(function (el) { el.dataset.at = at; });
      var old = document.getElementById("mention-" + id);
      if (old) {
        var box = old.querySelector("input.pick"), fresh = row.querySelector("input.pick");
        if (box && fresh) fresh.checked = box.checked;
        old.replaceWith(row);
      } else {
        list.appendChild(row);
      }
    });
    var cursor = list.firstElementChild;
    page.forEach(function (id) {
      var row = document.getElementById("mention-" + id);
      if (!row) return;
      if (row === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(row, cursor);
    });
  }

  function replaceOrDrop(old, fresh, after) {
    if (old && fresh) old.replaceWith(document.importNode(fresh, true));
    else if (old) old.remove();
    else if (fresh && after) after.after(document.importNode(fresh, true));
  }

  function setStatus(ok) {
    if (!status) return;
    status.textContent = ok ? status.dataset.ok : status.dataset.lost;
    status.className = ok ? "ok" : "lost";
  }

  // EventSource reconnects by itself and replays from Last-Event-ID; after a gap the whole list
  // is read again all the same (a replay has a limit, and rows may have changed state meanwhile).
  var source = new EventSource("/api/events");
  var lost = false;
  window.webcareEvents = source; // one stream per page: other scripts listen on it too
  source.onopen = function () { setStatus(true); if (lost) schedule(null); lost = false; };
  source.onerror = function () { setStatus(false); lost = true; };
  ["mention.created", "mention.updated"].forEach(function (type) {
    source.addEventListener(type, function (event) {
      var id = null;
      try {
        var data = JSON.parse(event.data);
        // A step of a reply in approval also changes the author's "in approval" box: the whole list.
        id = String(data.action || "").indexOf("approval") === 0 ? null : data.id;
      } catch (e) { /* not understood: the whole list */ }
      schedule(id);
    });
  });
  ["source.health", "approval_waiting"].forEach(function (type) {
    source.addEventListener(type, function () { schedule(null); });
  });
  // Someone opened or left a mention: its row's "has it open" marker changes (typing does not show here).
  source.addEventListener("presence.changed", function (event) {
    try {
      var data = JSON.parse(event.data);
      if (!data.typing_only) schedule(data.id);
    } catch (e) { schedule(null); }
  });
  setInterval(function () { schedule(null); }, 30000); // resync: clocks that start at opening time, missed edges
})();
