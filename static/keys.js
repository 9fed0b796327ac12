/* Keyboard shortcuts for people who live in the queue ("?" lists them). Single keys act only
   when no field has the focus; Ctrl+Enter sends the reply from inside it, Escape leaves a field. */
(function () {
  "use strict";
  var help = document.getElementById("shortcuts");
  var selectedId = null;

  function rows() { return Array.from(document.querySelectorAll(".queue li.mention")); }

  function mark(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-current"); });
    if (!row) return;
    selectedId = row.dataset.id;
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
  }

  function select(row) {
    mark(row);
    var open = row && row.querySelector(".actions a.button");
    if (open) open.focus();
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.findIndex(function (r) { return r.dataset.id === selectedId; });
    select(all[Math.max(0, Math.min(all.length - 1, at < 0 ? 0 : at + step))]);
  }

  // Live updates redraw rows: keep the selection on the same mention, and the focus there when
  // the redraw took it away (not when the responder has moved it elsewhere, say to the search).
  document.addEventListener("queue:refreshed", function () {
    if (!selectedId) return;
    var row = document.getElementById("mention-" + selectedId);
    if (!row) { selectedId = null; return; }
    var lost = !document.activeElement || document.activeElement === document.body;
    if (lost) select(row); else mark(row);
  });

  function click(selector) {
    var el = document.querySelector(selector);
    if (el) el.click();
    return Boolean(el);
  }

  function focus(selector) {
    var el = document.querySelector(selector);
    if (el) { el.focus(); return true; }
    return false;
  }

  function current() { return document.getElementById("mention-" + selectedId); }

  var keys = {
    "j": function () { move(1); },
    "k": function () { move(-1); },
    "o": function () { var row = current(); if (row) row.querySelector(".actions a.button").click(); },
    "x": function () { var row = current(); if (row) { var box = row.querySelector("input.pick"); if (box) box.click(); } },
    "/": function () { return focus(".filters input[name=q]"); },
    "c": function () { return click(".toolbar form[action$='/claim'] button"); },
    "r": function () { return focus("#reply-text"); },
    "d": function () { return focus(".toolbar form[action$='/dismiss'] select") || focus("#bulk select[name=reason]"); },
    "a": function () { return focus(".toolbar form[action$='/assign'] select"); },
    "n": function () { return focus("form[action$='/note'] textarea"); },
    "u": function () { window.location.assign("/"); },
    "?": function () { if (help && !help.open) help.showModal(); }
  };

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.id === "reply-text") {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (typing(target)) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    var action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  document.querySelectorAll("button.shortcuts-open").forEach(function (b) {
    b.addEventListener("click", function () { help.showModal(); });
  });
  if (help) {
    help.querySelector("button.close").addEventListener("click", function () { help.close(); });
  }
})();
