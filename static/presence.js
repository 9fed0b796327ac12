/* Presence: tell colleagues this mention is open here (a heartbeat, "typing" at most every few
   seconds, goodbye on leaving) and show who else has it open or is typing. The server keeps
   the truth (app/mentions/presence.py); `presence.changed` events say when to look again. */
(function () {
  "use strict";
  var box = document.getElementById("presence");
  var textarea = document.getElementById("reply-text");
  if (!box || !window.fetch) return;
  var url = "/api/mentions/" + box.dataset.mentionId + "/presence";
  var csrf = document.body.dataset.csrf;
  var heartbeatMs = Number(box.dataset.heartbeat || 15) * 1000;
  var throttleMs = Number(box.dataset.typingThrottle || 4) * 1000;
  var list = box.querySelector(".presence-list");
  var lastTyping = 0;
  var recheck = null;

  function show(people) {
    list.textContent = "";
    people.forEach(function (p) {
      var li = document.createElement("li");
      li.className = p.typing ? "typing" : "viewing";
      li.textContent = (p.typing ? box.dataset.typing : box.dataset.viewing).replace("{name}", p.username);
      list.appendChild(li);
    });
    box.hidden = people.length === 0;
    // Look again when the first of them stops typing or would count as gone.
    clearTimeout(recheck);
    if (people.length) {
      var soonest = Math.min.apply(null, people.map(function (p) { return p.changes_in; }));
      recheck = setTimeout(look, soonest * 1000 + 500);
    }
  }

  function answered(r) { return r.ok ? r.json().then(function (o) { show(o.people); }) : null; }

  function send(typing) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
                        body: JSON.stringify({ typing: typing }) })
      .then(answered).catch(function () { /* the next heartbeat tries again */ });
  }

  function look() {
    fetch(url, { credentials: "same-origin" }).then(answered).catch(function () { /* next event */ });
  }

  send(false);
  setInterval(function () { send(false); }, heartbeatMs);
  if (textarea) {
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping < throttleMs) return; // never a request per keystroke
      lastTyping = now;
      send(true);
    });
  }
  window.addEventListener("pagehide", function () {
    // keepalive: the request outlives the page that sends it.
    fetch(url, { method: "DELETE", credentials: "same-origin", keepalive: true,
                 headers: { "X-CSRF-Token": csrf } }).catch(function () { /* it expires anyway */ });
  });

  var source = window.webcareEvents || (window.EventSource && new EventSource("/api/events"));
  if (source) {
    source.addEventListener("presence.changed", function (event) {
      try { if (String(JSON.parse(event.data).id) === box.dataset.mentionId) look(); } catch (e) { /* not ours */ }
    });
  }
})();
