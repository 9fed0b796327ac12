/* What is new in the live queue: an "N new" marker for mentions that arrive outside the visible
   part of the list, and (opt-in) a desktop notification, with a sound if wanted, for mentions
   that are new and amber or red, or turn so, and for follow-up promises coming due. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var marker = document.getElementById("new-marker");
  var notifyBox = document.getElementById("notify-toggle");
  var soundBox = document.getElementById("sound-toggle");
  var store = window.localStorage;
  var seen = snapshot();          // id -> sla state, as last drawn
  var unseen = new Set();         // new ids below the fold, not yet looked at

  function snapshot() {
    var map = new Map();
    document.querySelectorAll(".queue li.mention[data-sla-state]").forEach(function (row) {
      map.set(row.dataset.id, row.dataset.slaState);
    });
    return map;
  }

  function belowFold(row) { return row.getBoundingClientRect().top > window.innerHeight; }

  function showMarker() {
    unseen.forEach(function (id) {
      var row = document.getElementById("mention-" + id);
      if (!row || !belowFold(row)) unseen.delete(id);
    });
    marker.hidden = unseen.size === 0;
    marker.querySelector(".n").textContent = String(unseen.size);
  }

  marker.addEventListener("click", function () {
    var rows = Array.from(unseen).map(function (id) { return document.getElementById("mention-" + id); })
      .filter(Boolean).sort(function (a, b) { return a.getBoundingClientRect().top - b.getBoundingClientRect().top; });
    if (rows[0]) rows[0].scrollIntoView({ block: "center" });
    unseen.clear();
    showMarker();
  });
  window.addEventListener("scroll", showMarker, { passive: true });

  // Notifications: the browser's permission plus this browser's own choice (kept locally).
  var canNotify = "Notification" in window;
  function wants(key) { return store.getItem(key) === "1"; }
  if (canNotify && notifyBox) {
    notifyBox.closest(".news-options").hidden = false;
    notifyBox.checked = wants("webcare.notify") && Notification.permission === "granted";
    soundBox.checked = wants("webcare.sound");
    notifyBox.addEventListener("change", function () {
      if (!notifyBox.checked) { store.setItem("webcare.notify", "0"); return; }
      Notification.requestPermission().then(function (answer) {
        notifyBox.checked = answer === "granted";
        store.setItem("webcare.notify", notifyBox.checked ? "1" : "0");
      });
    });
    soundBox.addEventListener("change", function () { store.setItem("webcare.sound", soundBox.checked ? "1" : "0"); });
  }

  function beep() {
    var Audio = window.AudioContext || window.webkitAudioContext;
    if (!Audio) return;
    var audio = new Audio(), tone = audio.createOscillator(), gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.1;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.2);
  }

  function notify(title, body, tag) {
    if (!canNotify || !wants("webcare.notify") || Notification.permission !== "granted") return;
    var n = new Notification(title, { body: body, tag: tag });
    n.onclick = function () { window.focus(); if (tag.indexOf("mention-") === 0) window.location.assign("/mentions/" + tag.slice(8)); };
    if (wants("webcare.sound")) beep();
  }

  var titles = live.dataset;
  document.addEventListener("queue:refreshed", function () {
    var now = snapshot();
    now.forEach(function (state, id) {
      var row = document.getElementById("mention-" + id);
      var before = seen.get(id);
      if (before === undefined && belowFold(row)) unseen.add(id);
      var urgent = state === "breached" || state === "warning";
      if (urgent && before !== state) {
        var who = row.querySelector(".author"), text = row.querySelector(".text");
        notify(state === "breached" ? titles.titleRed : titles.titleAmber,
               (who ? who.textContent + ": " : "") + (text ? text.textContent.slice(0, 140) : ""), "mention-" + id);
      }
    });
    seen = now;
    showMarker();
  });

  // Follow-up promises come due as their own events.
  if (window.webcareEvents) {
    window.webcareEvents.addEventListener("follow_up_due", function (event) {
      try {
        var data = JSON.parse(event.data);
        notify(titles.titleFollowUp, data.note || "", "mention-" + data.id);
      } catch (e) { /* not for us */ }
    });
  }
})();
