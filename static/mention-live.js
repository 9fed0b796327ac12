/* The open mention follows the event stream: when a colleague claims, answers or dismisses it,
   the customer writes again or deletes the post, or a lead returns a reply in approval, a notice says so. Nothing is reloaded, so the
   draft in the composer stays as it is (and is saved on the server anyway). */
(function () {
  "use strict";
  var detail = document.querySelector(".mention-detail");
  var notice = document.getElementById("live-change");
  if (!detail || !notice || !window.EventSource) return;
  var id = detail.dataset.mentionId;
  var me = detail.dataset.me;
  var seen = { status: detail.dataset.status, claimedBy: detail.dataset.claimedBy || null,
               posts: Number(detail.dataset.posts), approval: detail.dataset.approval || "" };
  var timer = null;

  function say(key, name) { return (notice.dataset[key] || "").replace("{name}", name || "?"); }

  function changes(m) {
    var said = [];
    if (m.removed) said.push(say("removed"));
    else if (m.status === "answered" && seen.status !== "answered") said.push(say("answered", m.answered_by));
    else if (m.status === "dismissed" && seen.status !== "dismissed") said.push(say("dismissed", m.dismissed_by));
    else if (m.claimed_by && m.claimed_by !== seen.claimedBy && m.claimed_by !== me) said.push(say("claimed", m.claimed_by));
    else if (!m.claimed_by && seen.claimedBy && m.status === "open") said.push(say("released"));
    if (m.conversation.length > seen.posts) said.push(say("wrote"));
    // A lead sent the reply in approval back: the note and the text wait on a reload.
    var approval = m.approval ? m.approval.id + ":" + m.approval.state : "";
    if (approval !== seen.approval && m.approval && m.approval.state === "returned") said.push(say("returned", m.approval.decided_by));
    return said;
  }

  function check() {
    timer = null;
    fetch("/api/mentions/" + id, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (m) {
        if (!m) return;
        var said = changes(m);
        notice.querySelector(".live-change-text").textContent = said.join(" ");
        notice.hidden = said.length === 0;
      })
      .catch(function () { /* the next event tries again */ });
  }

  function later() { if (!timer) timer = setTimeout(check, 300); }

  var source = new EventSource("/api/events");
  source.addEventListener("mention.updated", function (event) {
    try { if (String(JSON.parse(event.data).id) === id) later(); } catch (e) { /* not ours */ }
  });
  // A customer's new post in the thread arrives as a mention of its own.
  source.addEventListener("mention.created", later);
})();
