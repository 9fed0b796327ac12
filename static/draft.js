/* "Draft a reply": asks the server for an AI draft and streams it into the reply box (server-
   sent events over a POST, so the CSRF header goes along). The server has already held the
   draft to the tone check; the live check in compose.js shows what remains once the text is
   in. Nothing is sent from here. Texts are set with textContent/value, never as HTML. */
(function () {
  "use strict";
  var bar = document.getElementById("draft");
  var textarea = document.getElementById("reply-text");
  if (!bar || !textarea) return;
  var button = document.getElementById("draft-button");
  var undo = document.getElementById("draft-undo");
  var status = document.getElementById("assist-status");
  var csrf = document.body.dataset.csrf;
  var own = "";   // what the person had written before the draft replaced it
  var finished = false;

  function say(message, failed) {
    status.textContent = message;
    status.classList.toggle("failed", !!failed);
  }

  function failure(reason) {
    if (reason === "timeout") return bar.dataset.msgTimeout;
    if (reason === "rate_limited") return bar.dataset.msgRateLimited;
    return bar.dataset.msgFailed;
  }

  function setText(text) {
    textarea.value = text;
    textarea.dispatchEvent(new Event("input"));   // compose.js counts and tone-checks it
  }

  function busy(on) {
    button.disabled = on;
    textarea.readOnly = on;
    textarea.setAttribute("aria-busy", on ? "true" : "false");
  }

  function handle(kind, data) {
    if (kind === "delta") { textarea.value += data.text; }
    else if (kind === "revising") { textarea.value = ""; say(bar.dataset.msgRevising); }
    else if (kind === "done") {
      finished = true;
      setText(data.text);
      say(data.findings.length ? bar.dataset.msgFindings : bar.dataset.msgDone);
      undo.hidden = !own.trim();
    } else if (kind === "error") { throw { reason: data.reason }; }
  }

  // One server-sent event block: "event: name\ndata: {...}".
  function parse(block) {
    var kind = "message", data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) kind = line.slice(7);
      else if (line.indexOf("data: ") === 0) data += line.slice(6);
    });
    return [kind, data ? JSON.parse(data) : {}];
  }

  async function read(response) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var step = await reader.read();
      if (step.done) break;
      buffer += decoder.decode(step.value, { stream: true });
      var blocks = buffer.split("\n\n");
      buffer = blocks.pop();
      blocks.forEach(function (block) { if (block.trim()) handle.apply(null, parse(block)); });
    }
  }

  async function draft() {
    own = textarea.value;
    undo.hidden = true;
    busy(true);
    say(bar.dataset.msgWriting);
    try {
      var response = await fetch("/api/mentions/" + bar.dataset.mentionId + "/draft/stream", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "text/event-stream" },
        body: JSON.stringify({ tone: bar.dataset.tone })
      });
      if (!response.ok) {
        var body = await response.json().catch(function () { return {}; });
        throw { reason: body.reason };
      }
      textarea.value = "";
      finished = false;
      await read(response);
      if (!finished) throw { reason: "unreachable" };   // the stream broke off before the end
    } catch (problem) {
      setText(own);   // a failed draft leaves the person's own text as it was
      say(failure(problem && problem.reason), true);
    } finally {
      busy(false);
      textarea.focus();
    }
  }

  button.addEventListener("click", draft);
  undo.addEventListener("click", function () {
    setText(own);
    undo.hidden = true;
    say(bar.dataset.msgRestored);
    textarea.focus();
  });
})();
