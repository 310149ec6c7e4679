try{Object.defineProperty(Navigator.prototype,"language",{get:function(){return "nl-BE"},configurable:true});Object.defineProperty(Navigator.prototype,"languages",{get:function(){return ["nl-BE","nl"]},configurable:true})}catch(e){}
/*
 * The chat page's own script (put in the page by assistant/web/chatpage.py, after LIVC_TEXT,
 * the page's words from assistant/core/messages.py). Everything it writes into the page is
 * text (textContent, attributes); it never builds HTML from strings.
 *
 * - Keeps the conversation in this tab (sessionStorage, never on the server): the chat hands
 *   over a record per answer in #livc-keep; after a reload they go back one at a time
 *   through #livc-restore, so the conversation, its sources and its follow-ups come back.
 * - Copy: an answer as plain text with its numbered sources under it (not its HTML).
 * - Export: the kept records to POST gesprek/export, which returns a Markdown or Word file.
 * - Markers [n] open their source card and show it from its header; "Lees als nieuwe vraag".
 * - Accessibility: Dutch names where Gradio's are English or raw HTML, a skip link.
 */
(function () {
  "use strict";
  var TEXT = window.LIVC_TEXT || {};
  var STORE = "livc-gesprek";
  var MAX_RESTORE_CHARS = 19000;  // the chat's guard refuses a text over 20 000 characters
  var restoring = false;
  var lastKept = null;

  function $(selector) { return document.querySelector(selector); }
  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) { return values[k] != null ? values[k] : m; });
  }

  // -------------------------------------------------------------------------
  // The conversation kept in this tab

  function stored() {
    try {
      var data = JSON.parse(sessionStorage.getItem(STORE) || "[]");
      return Array.isArray(data) ? data : [];
    } catch (e) { return []; }
  }

  function keptField() { return $("#livc-keep textarea"); }

  function saveKept() {
    var field = keptField();
    if (!field || restoring) return;
    var value = field.value;
    if (lastKept === null) { lastKept = value; return; }  // the page's first value: nothing new yet
    if (value === lastKept) return;
    lastKept = value;
    try {
      if (value === "[]" || !value) sessionStorage.removeItem(STORE);
      else sessionStorage.setItem(STORE, value);
    } catch (e) {}
  }

  function setField(field, value) {
    var setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
    setter.call(field, value);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function waitFor(test, ms) {
    return new Promise(function (resolve) {
      var started = Date.now();
      (function poll() {
        var value = test();
        if (value || Date.now() - started > ms) resolve(value);
        else setTimeout(poll, 60);
      })();
    });
  }

  function keptCount() {
    try { return JSON.parse(keptField().value || "[]").length; } catch (e) { return -1; }
  }

  function compact(record) {
    // A record too long for one event goes back without its passages' sentences: the
    // server takes those passages from the index by their ids.
    var text = JSON.stringify(record);
    if (text.length <= MAX_RESTORE_CHARS) return text;
    ["citations", "suggestions"].forEach(function (key) {
      (record[key] || []).forEach(function (c) { c.sentences = []; });
    });
    return JSON.stringify(record);
  }

  function restore() {
    var records = stored();
    if (!records.length) return;
    restoring = true;
    waitFor(function () { return $("#livc-restore textarea") && $("#livc-restore-go") && keptField(); }, 15000)
      .then(function (ready) {
        if (!ready) return;
        var chain = Promise.resolve();
        records.forEach(function (record, i) {
          chain = chain.then(function () {
            setField($("#livc-restore textarea"), compact(record));
            return new Promise(function (r) { setTimeout(r, 30); });
          }).then(function () {
            $("#livc-restore-go").click();
            return waitFor(function () { return keptCount() > i; }, 5000);
          });
        });
        return chain;
      })
      .then(function () {
        restoring = false;
        var field = keptField();
        lastKept = field ? field.value : lastKept;
        if (field && keptCount() > 0) sessionStorage.setItem(STORE, field.value);
      });
  }

  function keptRecords() {
    try { var data = JSON.parse((keptField() || {}).value || "[]"); return Array.isArray(data) ? data : []; }
    catch (e) { return []; }
  }

  // -------------------------------------------------------------------------
  // Copy: the answer as plain text, the numbered sources under it

  function plainMarkdown(text) {
    return String(text || "").split("\n").map(function (line) {
      return line.replace(/^\s*>\s?/, "").replace(/\*\*([^*]+)\*\*/g, "$1").replace(/^(\s*)[*+]\s+/, "$1- ");
    }).join("\n").replace(/\n{3,}/g, "\n\n").trim();
  }

  function sourceLine(c) {
    var path = (c.section_path && c.section_path.length ? c.section_path : [c.section]).join(" \u203a ");
    var page = c.page ? ", " + format(TEXT.page, { page: c.page }) : "";
    var url = "";
    try { url = new URL(String(c.url || ""), location.href).href; } catch (e) {}
    return "[" + c.n + "] " + c.title + " \u203a " + path + page + (url ? "\n    " + url : "");
  }

  function plainAnswer(record) {
    var lines = [];
    [record.notice, record.language_note].forEach(function (t) { if (t) lines.push(t); });
    if (record.abstained) {
      lines.push(TEXT.abstainTitle, "", TEXT.abstainText);
      if (record.suggestions && record.suggestions.length) {
        lines.push("", TEXT.nearest + ":");
        record.suggestions.forEach(function (c) { lines.push(sourceLine(c).replace(/^\[\d+\] /, "- ")); });
      }
      return lines.join("\n");
    }
    if (record.confidence === "low") lines.push(TEXT.low);
    if (record.mode === "faq" && record.citations && record.citations.length) {
      lines.push(TEXT.faq + " \u00b7 " + record.citations[0].section);
    }
    if (lines.length) lines.push("");
    lines.push(plainMarkdown(record.text));
    if (record.citations && record.citations.length) {
      lines.push("", TEXT.sources + ":");
      record.citations.forEach(function (c) { lines.push(sourceLine(c)); });
    }
    return lines.join("\n");
  }

  function recordOf(message) {
    var reply = message.querySelector(".livc-reply[id^='antwoord-']");
    if (!reply) return null;
    var turn = Number(reply.id.slice("antwoord-".length));
    return keptRecords().filter(function (r) { return r.turn === turn; })[0] || null;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#livc-chat .message-row button[title='" +
      TEXT.copyButton + "']");
    var row = button && button.closest(".message-row");
    var message = row && row.querySelector("[data-testid='bot'], [data-testid='user']");
    if (!message || !navigator.clipboard) return;
    var record = recordOf(message);
    var plain = record ? plainAnswer(record) : message.innerText.trim();
    // Gradio copies the message's HTML source on this click; ours replaces it just after.
    setTimeout(function () { navigator.clipboard.writeText(plain).catch(function () {}); }, 150);
  }, true);

  // -------------------------------------------------------------------------
  // Export: what this tab keeps, as a file

  function exportAs(kind) {
    var records = keptRecords();
    if (!records.length) { say(TEXT.exportEmpty); return; }
    fetch("gesprek/export", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: kind, turns: records })
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      var name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
      return response.blob().then(function (blob) { download(blob, name ? name[1] : "livc-gesprek." + kind); });
    }).catch(function () { say(TEXT.exportFailed); });
  }

  function download(blob, name) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  }

  function say(text) {
    var status = $("#livc-status");
    if (status) { status.textContent = ""; setTimeout(function () { status.textContent = text; }, 50); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#livc-export-md, #livc-export-docx");
    if (!button) return;
    event.preventDefault();
    exportAs(button.id === "livc-export-md" ? "md" : "docx");
  }, true);

  // -------------------------------------------------------------------------
  // Markers, "Terug naar het gesprek" and "Lees als nieuwe vraag"

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#bron-"], a[href="#livc-chat"]:not(.livc-skip)');
    if (!link) return;
    var id = link.getAttribute("href").slice(1);
    var card = document.getElementById(id);
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    var block = card.closest("details");
    if (block) block.open = true;
    // "start": a tall card's header (document and section) stays in view.
    card.scrollIntoView({ behavior: "smooth", block: "start" });
    card.classList.remove("livc-flash");
    void card.offsetWidth;
    card.classList.add("livc-flash");
    card.focus({ preventScroll: true });
  }, true);

  // Gradio opens every link of a message in a new tab; a link into the document viewer opens
  // in this one, so "Terug" (or the browser's back) returns to the conversation kept here.
  // Ctrl/Cmd/Shift or the middle button still open a new tab.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#livc-sources a.livc-open, #livc-chat .livc-abstain a");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    event.stopPropagation();
    saveKept();
    location.assign(link.href);
  }, true);

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#opnieuw-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    var field = $("#livc-reask textarea");
    var go = $("#livc-reask-go");
    if (!field || !go) return;
    setField(field, link.getAttribute("href").slice("#opnieuw-".length));
    setTimeout(function () { go.click(); }, 30);
  }, true);

  // -------------------------------------------------------------------------
  // Accessibility: Dutch names, the messages read as their text, a skip link

  function setAttr(el, name, value) {
    if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  function dutchNames() {
    var chat = $("#livc-chat");
    if (chat && !chat.hasAttribute("tabindex")) chat.setAttribute("tabindex", "-1");  // the skip link's target
    var log = $("#livc-chat [role='log']");
    if (log) setAttr(log, "aria-label", TEXT.log);
    // Gradio labels each message with its raw HTML ("bot's message: <div ..."): the text itself is read instead.
    document.querySelectorAll("#livc-chat [data-testid='bot'][aria-label], #livc-chat [data-testid='user'][aria-label]")
      .forEach(function (el) { el.removeAttribute("aria-label"); });
    var stop = $("#livc-stop");
    if (stop) setAttr(stop, "aria-label", TEXT.stop);  // "Stop" alone does not say what stops
    var examples = $("#livc-chat .examples");
    if (examples) {
      setAttr(examples, "role", "group");
      setAttr(examples, "aria-label", TEXT.examples);
      examples.querySelectorAll("button[aria-label^='Select example']").forEach(function (b, i) {
        setAttr(b, "aria-label", format(TEXT.example, { n: i + 1, text: b.innerText.trim() }));
      });
    }
    document.querySelectorAll("#livc-chat button[title='Liked'], #livc-chat button[title='Disliked']")
      .forEach(function (b) {
        var label = b.title === "Liked" ? TEXT.liked : TEXT.disliked;
        setAttr(b, "title", label);
        setAttr(b, "aria-label", label);
      });
  }

  function latestAnswer() {
    var replies = document.querySelectorAll("#livc-chat [data-testid='bot']");
    return replies.length ? replies[replies.length - 1] : null;
  }

  function addSkipLink() {
    if ($(".livc-skip")) return;
    var link = document.createElement("a");
    link.className = "livc-skip";
    link.href = "#livc-chat";  // the conversation; a click goes on to its latest answer
    link.textContent = TEXT.skip;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var target = latestAnswer();
      if (!target) { var q = $("#livc-question textarea"); if (q) q.focus(); return; }
      target.setAttribute("tabindex", "-1");
      target.scrollIntoView({ block: "start" });
      target.focus({ preventScroll: true });
    });
    document.body.insertBefore(link, document.body.firstChild);
    var status = document.createElement("div");
    status.id = "livc-status";
    status.className = "livc-status";
    status.setAttribute("role", "status");
    document.body.appendChild(status);
  }

  // -------------------------------------------------------------------------
  // After a thumbs down the reasons appear; on a small screen below the fold, so they are
  // scrolled into view. Everything else above is (re)applied when Gradio changes the page.

  // The thanks after a thumb also appears beside that thumb for a moment (the page's own line
  // for it sits far away, under the input).
  var lastThumb = null;
  var lastThanks = "";
  document.addEventListener("click", function (event) {
    var b = event.target.closest && event.target.closest("#livc-chat .message-row button[title]");
    if (b && /nuttig/i.test(b.title)) lastThumb = b;
  }, true);

  function thankBesideThumb() {
    var line = $("#livc-feedback-note");
    var text = line ? line.innerText.trim() : "";
    if (text === lastThanks) return;
    lastThanks = text;
    if (!text || !lastThumb || !document.body.contains(lastThumb)) return;
    var r = lastThumb.getBoundingClientRect();
    var bubble = $(".livc-thanks") || document.body.appendChild(document.createElement("div"));
    bubble.className = "livc-thanks";
    bubble.setAttribute("aria-hidden", "true");  // the page's line says it to screen readers already
    bubble.textContent = text;
    bubble.style.top = (window.scrollY + r.top - 4) + "px";
    bubble.style.left = (window.scrollX + r.right + 8) + "px";
    bubble.hidden = false;
    clearTimeout(bubble.livcTimer);
    bubble.livcTimer = setTimeout(function () { bubble.hidden = true; }, 3000);
  }

  var reasonShown = false;
  var pending = false;
  function onChange() {
    var box = document.getElementById("livc-reason");
    var shown = !!(box && box.offsetParent);
    if (shown && !reasonShown) setTimeout(function () {
      box.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }, 100);
    reasonShown = shown;
    if (pending) return;
    pending = true;
    setTimeout(function () { pending = false; dutchNames(); saveKept(); thankBesideThumb(); }, 50);
  }

  function start() {
    addSkipLink();
    new MutationObserver(onChange).observe(document.documentElement, {
      childList: true, subtree: true, characterData: true,
      attributes: true, attributeFilter: ["aria-label", "title", "role"]
    });
    setInterval(saveKept, 1000);  // a value Gradio sets is no DOM change: looked at once a second too
    restore();
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
