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

  // An opener is the draft's first paragraph: a new one replaces the one before it (or a
  // greeting line typed by hand) instead of stacking, and the signature ends the draft once.
  var signature = form.dataset.signature || "";
  var GREETING = /^(hallo|hoi|hi|hey|hello|dear|beste|goedemorgen|goedemiddag|goedenavond|good (morning|afternoon|evening))\b/i;
  var inserted = new Set();

  function openerTexts() {
    return Array.from(document.querySelectorAll("button.opener")).map(function (b) { return b.dataset.text; });
  }

  function withoutSignature(text) {
    var t = text.replace(/\s+$/, "");
    while (signature && t.endsWith(signature)) t = t.slice(0, -signature.length).replace(/\s+$/, "");
    return t;
  }

  function withOpener(draft, opener) {
    var body = withoutSignature(draft).replace(/^\s+/, "");
    var first = body.split(/\n/)[0];
    var known = openerTexts().concat(Array.from(inserted));
    if (known.indexOf(first.trim()) >= 0 || GREETING.test(first.trim())) body = body.slice(first.length);
    body = body.replace(/^\s+/, "");
    var text = opener + (body ? "\n\n" + body : "");
    return signature ? text + " " + signature : text;
  }

  var openerList = document.getElementById("opener-list");
  openerList.addEventListener("click", function (event) {
    var button = event.target.closest("button.opener");
    if (!button) return;
    inserted.add(button.dataset.text);
    textarea.value = withOpener(textarea.value, button.dataset.text);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  });

  // The draft is saved on the server as it is typed (and again when the connection is back),
  // so a refused send, a reload or a closed tab never loses it. Sending clears it there.
  var mentionId = Number(detail.dataset.mentionId);
  var draftStatus = document.getElementById("draft-status");
  var tone = form.dataset.tone;
  var savedText = textarea.value, savedTone = tone, saveTimer = null;

  function saveDraft() {
    if (saveTimer) { clearTimeout(saveTimer); saveTimer = null; }
    // While an AI draft streams in (draft.js makes the box read-only) the box holds half a
    // draft or nothing: saving that would replace the person's own saved text.
    if (textarea.readOnly) { scheduleSave(); return; }
    var text = textarea.value, forTone = tone;
    if (text === savedText && forTone === savedTone) return;
    fetch("/api/mentions/" + mentionId + "/reply-draft", {
      method: "PUT", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: text, tone: forTone })
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      savedText = text; savedTone = forTone;
      draftStatus.textContent = text.trim() ? draftStatus.dataset.saved : "";
    }).catch(function () {
      draftStatus.textContent = draftStatus.dataset.failed;
      scheduleSave(3000);
    });
  }

  function scheduleSave(delay) {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(saveDraft, delay || 600);
  }

  textarea.addEventListener("input", function () { scheduleSave(); });
  window.addEventListener("online", saveDraft);
  window.addEventListener("pagehide", saveDraft);

  // u/je without a reload: the openers of the other tone replace the list; the draft stays.
  function showOpeners(openers) {
    openerList.replaceChildren();
    openers.forEach(function (o) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "opener";
      b.dataset.text = withoutSignature(o.text);
      b.textContent = b.dataset.text;
      li.append(b);
      openerList.append(li);
    });
  }

  document.querySelectorAll(".tone-switch a[data-tone]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var wanted = link.dataset.tone;
      fetch("/api/mentions/" + mentionId + "/openers?tone=" + wanted, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (result) {
          showOpeners(result.openers);
          tone = form.dataset.tone = wanted;
          document.querySelectorAll(".tone-switch a[data-tone]").forEach(function (other) {
            var active = other === link;
            other.classList.toggle("active", active);
            if (active) other.setAttribute("aria-current", "true"); else other.removeAttribute("aria-current");
          });
          var url = new URL(window.location.href);
          url.searchParams.set("tone", wanted);
          history.replaceState(null, "", url);
          saveDraft();
        })
        .catch(function () { window.location.assign(link.href); }); // the page way still works
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
