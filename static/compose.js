/* The reply composer: one-click openers, the live tone check, follow-up suggestions.
   Everything the server returns is shown with textContent, never as HTML. */
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form) return;
  var textarea = document.getElementById("reply-text");
  var findingsList = document.getElementById("findings");
  var counter = document.getElementById("reply-count");
  var suggestions = document.getElementById("follow-up-suggestions");
  var dueInput = document.getElementById("follow-up-due");
  var detail = document.querySelector(".mention-detail");
  var limit = Number(form.dataset.textLimit || 0);
  var csrf = document.body.dataset.csrf;
  var timer = null;
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

  function graphemes(text) {
    if (!segmenter) return Array.from(text).length;
    var n = 0;
    for (var _ of segmenter.segment(text)) n++; // eslint-disable-line no-unused-vars
    return n;
  }

  document.querySelectorAll("button.opener").forEach(function (button) {
    button.addEventListener("click", function () {
      var opener = button.dataset.text;
      textarea.value = textarea.value.trim() ? opener + "\n" + textarea.value : opener;
      textarea.focus();
      scheduleCheck();
    });
  });

  function showCount(n) {
    counter.textContent = limit ? n + " / " + limit : String(n);
    counter.classList.toggle("over", limit > 0 && n > limit);
  }

  // Suggestions come in the team's timezone ("2026-11-23T16:00:00+01:00") and the form reads
  // its field in that timezone too, so the wall-clock part is used as is, whatever the
  // browser's own timezone.
  function teamWallClock(iso) { return iso.slice(0, 16); }

  function render(result) {
    // The server counts as the channel does (X weighs links and emoji); it corrects the
    // browser's grapheme count once the check comes back.
    if (typeof result.length === "number") showCount(result.length);
    findingsList.replaceChildren();
    result.findings.forEach(function (f) {
      var li = document.createElement("li");
      li.className = "finding rule-" + f.rule;
      var quote = document.createElement("q");
      quote.textContent = textarea.value.slice(f.start, f.end);
      var message = document.createElement("span");
      message.textContent = " " + f.message + " ";
      var better = document.createElement("em");
      better.textContent = f.suggestion;
      li.append(quote, message, better);
      findingsList.append(li);
    });
    if (!suggestions || !dueInput) return;
    suggestions.replaceChildren();
    result.follow_up_suggestions.forEach(function (iso) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "suggestion";
      b.textContent = teamWallClock(iso).replace("T", " ");
      b.addEventListener("click", function () { dueInput.value = teamWallClock(iso); });
      suggestions.append(b);
    });
  }

  function check() {
    timer = null;
    var text = textarea.value;
    if (!text.trim()) { findingsList.replaceChildren(); return; }
    fetch("/api/replies/check", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text, language: detail.dataset.language, mention_id: Number(detail.dataset.mentionId) })
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (result) { if (result && textarea.value === text) render(result); })
      .catch(function () { /* the check helps; sending never depends on it */ });
  }

  function scheduleCheck() {
    showCount(graphemes(textarea.value));
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, 350);
  }

  textarea.addEventListener("input", scheduleCheck);
  showCount(graphemes(textarea.value));
})();
