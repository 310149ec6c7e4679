/*
 * LIVC-assistent widget: one <script> tag on an intranet page adds a floating
 * "Vraag het draaiboek" button that opens the chat in a panel.
 *
 *   <script src="https://assistent.example.be/livc/widget.js" defer
 *           data-label="Vraag het draaiboek" data-position="right" data-color="#1d4f91"></script>
 *
 * data- attributes (all optional): label (button text), title (panel title), position
 * (right | left), color (#rgb or #rrggbb), open (true: start open), server (the app's
 * URL when it differs from where this script came from), mode (floating | inline) and
 * target (inline: CSS selector of the element to fill; the /embed page uses this).
 *
 * Why it is built this way:
 * - Shadow DOM with every inherited style reset: the host page's CSS cannot reach into
 *   the widget, and the widget's CSS cannot leak out. No global variables.
 * - Self-contained: no other script, font or stylesheet is loaded from anywhere.
 * - Answers come from the JSON API (POST api/v1/ask) and are built with createElement
 *   and textContent only: text from answers or documents can never become HTML. The widget
 *   asks for server-sent events ("stream": true): with a language model on the server the
 *   checked sentences show as they come; without one the stream holds only the answer,
 *   rendered as before. A plain JSON reply (refusals, errors) is read as it always was.
 * - Stop aborts the request: the server sees the client leave and closes its stream to the model.
 * - No key or token in the page: the browser's own sign-in (single sign-on at the proxy,
 *   or none) goes with each request; the app sets no cookies.
 */
(function () {
  "use strict";

  var script = document.currentScript || findScript();
  if (!script || script.getAttribute("data-livc-started")) return;
  script.setAttribute("data-livc-started", "1");

  var TEXT = {
    label: "Vraag het draaiboek",
    title: "LIVC-assistent",
    intro: "Stel een vraag over de LIVC-R. Elk antwoord citeert letterlijk uit het draaiboek of de " +
      "vraag-en-antwoordfiche, met de bron erbij.",
    placeholder: "Typ uw vraag (zonder namen of casusdetails)",
    send: "Vraag",
    newChat: "Nieuw gesprek",
    close: "Sluiten",
    privacy: "Typ geen namen of details van een casus.",
    waiting: "Even zoeken in de gids\u2026",
    sources: "Bronnen",
    source: "Bron",
    open: "Open in het document",
    faq: "Antwoord uit de vraag-en-antwoordfiche",
    low: "Mogelijk relevant \u2014 controleer de bron",
    generated: "Gegenereerd antwoord \u2014 elke zin is gecontroleerd tegen de geciteerde bronnen.",
    abstainTitle: "Dit staat niet in de gids",
    abstainText: "Het draaiboek en de vraag-en-antwoordfiche beantwoorden deze vraag niet. " +
      "De assistent antwoordt alleen met citaten uit de gids en gokt niet.",
    nearest: "Deze onderdelen komen het dichtst in de buurt:",
    unreachable: "De assistent is niet bereikbaar. Probeer het later opnieuw.",
    failed: "Er ging iets mis bij het zoeken in de gids. Probeer het opnieuw.",
    signIn: "U bent niet aangemeld.",
    signInLink: "Open de assistent om u aan te melden",
    page: "p. ",
    more: "meer",  // opens the whole passage of a source card
    copy: "Kopieer",
    copyTitle: "Kopieer het antwoord met de bronnen",
    copied: "Gekopieerd",
    useful: "Nuttig",
    notUseful: "Niet nuttig",
    reasonsTitle: "Wat klopte er niet? (optioneel)",
    // The reasons the app stores (assistant/core/messages.py, FEEDBACK_REASONS): the same words.
    reasons: ["bron klopt niet", "antwoord onvolledig", "antwoord klopt niet", "vraag niet begrepen",
      "verkeerd onderwerp", "iets anders"],
    shareQuestion: "Stuur mijn vraag mee (zonder namen)",
    noteLabel: "Toelichting (optioneel, zonder namen)",
    sendReason: "Versturen",
    thanks: "Bedankt voor uw feedback.",
    feedbackFailed: "Uw feedback kon niet worden bewaard.",
    sourcesHeading: "Bronnen:",
    // While a generated answer is written (the words of the chat's, assistant/core/messages.py).
    stop: "Stop",
    stopTitle: "Stop het antwoord",
    stopped: "Gestopt. Stel de vraag opnieuw om een antwoord te krijgen."
  };
  var STOP_AFTER_MS = 1000;  // Stop shows once a sentence came or the answer takes this long

  var config = readConfig(script);
  var history = [];
  var turn = 0;
  var busy = false;
  var running = null;  // the AbortController of the answer on its way

  var host = document.createElement("div");
  host.setAttribute("data-livc-widget", config.mode);
  var root = host.attachShadow({ mode: "open" });
  applyStyles(root, css(config));

  var ui = build(config);
  root.appendChild(ui.wrapper);
  mount();

  // ---------------------------------------------------------------------------
  // Configuration

  function findScript() {
    var all = document.querySelectorAll("script[src]");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(all[i].src)) return all[i];
    }
    return null;
  }

  function readConfig(el) {
    var data = function (name) { return (el.getAttribute("data-" + name) || "").trim(); };
    var color = data("color");
    var server = data("server") || el.src;
    return {
      base: new URL(data("server") ? server.replace(/\/?$/, "/") : ".", server).href,
      mode: data("mode") === "inline" ? "inline" : "floating",
      target: data("target"),
      label: data("label") || TEXT.label,
      title: data("title") || TEXT.title,
      left: data("position") === "left",
      color: /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(color) ? color : "#1d4f91",
      open: data("open") === "true"
    };
  }

  // ---------------------------------------------------------------------------
  // Building the interface (createElement only)

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function build(cfg) {
    var wrapper = el("div", "livc " + cfg.mode + (cfg.left ? " left" : ""));
    var launcher = null;
    if (cfg.mode === "floating") {
      launcher = el("button", "launcher");
      launcher.type = "button";
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-controls", "livc-panel");
      launcher.appendChild(el("span", "bubble", "?"));
      launcher.appendChild(el("span", "label", cfg.label));
      launcher.addEventListener("click", function () { setOpen(ui.panel.hidden); });
      wrapper.appendChild(launcher);
    }
    var panel = el("section", "panel");
    panel.id = "livc-panel";
    panel.setAttribute("role", cfg.mode === "floating" ? "dialog" : "region");
    panel.setAttribute("aria-label", cfg.title);
    panel.hidden = cfg.mode === "floating";

    var head = el("header", "head");
    head.appendChild(el("span", "title", cfg.title));
    var reset = el("button", "new", TEXT.newChat);
    reset.type = "button";
    reset.addEventListener("click", newConversation);
    head.appendChild(reset);
    if (launcher) {
      var close = el("button", "close", "\u00d7");
      close.type = "button";
      close.setAttribute("aria-label", TEXT.close);
      close.title = TEXT.close;
      close.addEventListener("click", function () { setOpen(false); launcher.focus(); });
      head.appendChild(close);
    }
    panel.appendChild(head);

    var log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.appendChild(el("p", "intro", TEXT.intro));
    panel.appendChild(log);

    var form = el("form", "ask");
    var input = el("textarea", "question");
    input.rows = 2;
    input.maxLength = 2000;
    input.placeholder = TEXT.placeholder;
    input.setAttribute("aria-label", TEXT.placeholder);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    var send = el("button", "send", TEXT.send);
    send.type = "submit";
    form.appendChild(input);
    form.appendChild(send);
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    panel.appendChild(form);
    panel.appendChild(el("p", "privacy", TEXT.privacy));
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && launcher) { setOpen(false); launcher.focus(); }
    });
    wrapper.appendChild(panel);
    return { wrapper: wrapper, launcher: launcher, panel: panel, log: log, input: input, send: send };
  }

  function mount() {
    var target = config.mode === "inline" && config.target ? document.querySelector(config.target) : null;
    var place = function () {
      (target || document.body).appendChild(host);
      if (config.open || config.mode === "inline") setOpen(true, false);
    };
    if (document.body) place();
    else document.addEventListener("DOMContentLoaded", place);
  }

  function setOpen(open, focus) {
    ui.panel.hidden = !open;
    if (ui.launcher) ui.launcher.setAttribute("aria-expanded", String(open));
    if (open && focus !== false) ui.input.focus();
  }

  function newConversation() {
    if (running) running.abort();  // its answer has no conversation to go to any more
    history = [];
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
    ui.log.appendChild(el("p", "intro", TEXT.intro));
    ui.input.value = "";
    ui.input.focus();
  }

  // ---------------------------------------------------------------------------
  // Asking

  function submit() {
    var question = ui.input.value.trim();
    if (!question || busy) return;
    busy = true;
    ui.send.disabled = true;
    ui.input.value = "";
    var asked = el("div", "msg user", question);
    ui.log.appendChild(asked);
    var pending = el("div", "msg bot pending", TEXT.waiting);
    ui.log.appendChild(pending);
    scrollDown();
    ask(question, pending).then(function (reply) {
      if (pending.parentNode !== ui.log) return;  // "Nieuw gesprek" cleared the log meanwhile
      ui.log.replaceChild(reply, pending);
      // The question stays in view above its answer, without scrolling the host page.
      ui.log.scrollTop = asked.offsetTop - 8;
    }).finally(function () {
      busy = false;
      ui.send.disabled = false;
    });
  }

  function ask(question, pending) {
    var body = JSON.stringify({ question: question, history: history.slice(-5), stream: true });
    var controller = new AbortController();
    var live = writing(pending, controller);
    running = controller;
    return fetch(config.base + "api/v1/ask", {
      method: "POST",
      mode: "cors",
      credentials: "include",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream, application/json" },
      body: body,
      signal: controller.signal
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.ok && response.body && type.indexOf("text/event-stream") === 0) {
        return readEvents(response.body, live).then(function (data) { return reply(question, 200, data); });
      }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return reply(question, response.status, data);
      });
    }).catch(function () {
      // Stopped: what was written so far is dropped, not kept as if it were the whole answer.
      if (controller.signal.aborted) return el("div", "msg bot stopped", TEXT.stopped);
      return el("div", "msg bot error", TEXT.unreachable);
    }).finally(function () {
      live.done();
      if (running === controller) running = null;
    });
  }

  function reply(question, status, data) {
    if (status >= 200 && status < 300 && data && typeof data.text === "string") {
      history.push(question);
      var box = renderAnswer(data, turn++);
      box.appendChild(renderActions(data, question));
      return box;
    }
    return renderError(status, data);
  }

  // The waiting bubble while an answer streams: the checked sentences as text, and Stop.
  function writing(pending, controller) {
    var text = null;
    var stop = button("stop", TEXT.stop);
    stop.setAttribute("aria-label", TEXT.stopTitle);
    stop.title = TEXT.stopTitle;
    stop.hidden = true;
    stop.addEventListener("click", function () { controller.abort(); });
    pending.appendChild(stop);
    var timer = setTimeout(function () { stop.hidden = false; }, STOP_AFTER_MS);
    return {
      sentence: function (words) {
        if (!text) {
          pending.textContent = "";
          pending.className = "msg bot pending writing";
          pending.appendChild(el("p", "generated-label", TEXT.generated));
          text = el("p", "written");
          pending.appendChild(text);
          pending.appendChild(stop);
        }
        text.textContent += (text.textContent ? " " : "") + words;
        stop.hidden = false;
        scrollDown();
      },
      discard: function () {  // the server replaced them by the quoted answer, which follows
        if (!text) return;
        pending.textContent = TEXT.waiting;
        pending.className = "msg bot pending";
        pending.appendChild(stop);
        text = null;
      },
      done: function () { clearTimeout(timer); stop.hidden = true; }
    };
  }

  // Server-sent events from a fetch body: sentence, discard, citations, answer, error.
  // Resolves with the answer's body (or an error's {code, message}).
  function readEvents(stream, live) {
    var reader = stream.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var result = null;
    function handle(block) {
      var name = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data += line.slice(5).replace(/^ /, "");
      });
      var value;
      try { value = JSON.parse(data); } catch (e) { return; }
      if (name === "sentence" && value && typeof value.text === "string") live.sentence(value.text);
      else if (name === "discard") live.discard();
      else if (name === "answer" || name === "error") result = value;
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (!chunk.done) buffer += decoder.decode(chunk.value, { stream: true });
        buffer = buffer.replace(/\r\n?/g, "\n");
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handle(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        if (result || chunk.done) {
          if (!chunk.done) reader.cancel().catch(function () {});
          return result || {};
        }
        return pump();
      });
    }
    return pump();
  }

  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }

  // ---------------------------------------------------------------------------
  // Rendering answers from JSON: text nodes only

  function renderError(status, data) {
    var box = el("div", "msg bot error");
    var message = data && typeof data.message === "string" ? data.message : "";
    if (status === 401) {
      box.appendChild(el("p", null, message || TEXT.signIn));
      box.appendChild(link(config.base, TEXT.signInLink));
    } else {
      box.appendChild(el("p", null, message || TEXT.failed));
    }
    return box;
  }

  function renderAnswer(data, n) {
    var low = !data.abstained && data.confidence === "low";
    var box = el("div", "msg bot" + (data.abstained ? " abstain" : low ? " low" : ""));
    if (typeof data.notice === "string" && data.notice) box.appendChild(el("p", "notice", data.notice));
    if (typeof data.language_note === "string" && data.language_note) {
      var note = el("p", "language", data.language_note);
      if (/^[a-z]{2}$/.test(String(data.language || ""))) note.lang = data.language;
      box.appendChild(note);
    }
    if (low) box.appendChild(el("p", "low-label", TEXT.low));
    if (data.mode === "generative") box.appendChild(el("p", "generated-label", TEXT.generated));
    var citations = Array.isArray(data.citations) ? data.citations : [];
    if (data.abstained) {
      box.appendChild(el("p", "abstain-title", TEXT.abstainTitle));
      box.appendChild(el("p", null, TEXT.abstainText));
      var suggestions = Array.isArray(data.suggestions) ? data.suggestions : [];
      if (suggestions.length) {
        box.appendChild(el("p", null, TEXT.nearest));
        var list = el("ul", "nearest");
        suggestions.forEach(function (s) {
          var item = el("li");
          item.appendChild(link(s.url, sectionPath(s)));
          list.appendChild(item);
        });
        box.appendChild(list);
      }
      return box;
    }
    if (data.mode === "faq" && citations.length) {
      var label = el("p", "faq-label", TEXT.faq + " \u00b7 ");
      label.appendChild(el("em", null, String(citations[0].section || "")));
      box.appendChild(label);
    }
    var text = el("div", "text");
    renderMarkdown(text, String(data.text), function (number) { showSource(n, number); });
    box.appendChild(text);
    if (citations.length) box.appendChild(renderSources(citations, n));
    return box;
  }

  // The answer's Markdown, reduced to what answers use: paragraphs, "- " and "1. " lists,
  // **bold**, and [n] markers (which become buttons that show their source).
  function renderMarkdown(container, text, onMarker) {
    text.split(/\n\s*\n/).forEach(function (block) {
      var list = null;
      var para = null;
      block.split("\n").forEach(function (line) {
        var item = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line);
        if (item) {
          var ordered = !!item[1];
          if (!list || (list.tagName === "OL") !== ordered) {
            list = el(ordered ? "ol" : "ul");
            container.appendChild(list);
          }
          var li = el("li");
          inline(li, item[2], onMarker);
          list.appendChild(li);
          para = null;
        } else if (line.trim()) {
          if (!para) {
            para = el("p");
            container.appendChild(para);
            list = null;
          } else {
            para.appendChild(document.createTextNode(" "));
          }
          inline(para, line.replace(/^\s*>\s?/, ""), onMarker);
        }
      });
    });
  }

  function inline(parent, text, onMarker) {
    text.split(/(\*\*[^*]+\*\*|\[\d+\])/).forEach(function (part) {
      if (!part) return;
      var bold = /^\*\*([^*]+)\*\*$/.exec(part);
      var marker = /^\[(\d+)\]$/.exec(part);
      if (bold) {
        parent.appendChild(el("strong", null, bold[1]));
      } else if (marker) {
        var button = el("button", "marker", part);
        button.type = "button";
        button.setAttribute("aria-label", TEXT.source + " " + marker[1]);
        button.addEventListener("click", function () { onMarker(marker[1]); });
        parent.appendChild(button);
      } else {
        parent.appendChild(document.createTextNode(part));
      }
    });
  }

  function renderSources(citations, n) {
    var wrap = el("div", "sources");
    wrap.appendChild(el("p", "sources-title", citations.length === 1 ? TEXT.source : TEXT.sources));
    var list = el("ol", "cards");
    citations.forEach(function (c) {
      var card = el("li", "card");
      card.id = "livc-" + n + "-" + c.n;
      card.tabIndex = -1;
      var head = el("div", "card-head");
      head.appendChild(el("span", "n", String(c.n)));
      var title = String(c.title || c.document || "");
      var doc = el("span", "doc", shortTitle(title));
      doc.title = title;
      head.appendChild(doc);
      if (c.kind === "faq") head.appendChild(el("span", "kind", "vraag-en-antwoordfiche"));
      card.appendChild(head);
      card.appendChild(el("div", "path", sectionPath(c) + (c.page ? " \u00b7 " + TEXT.page + c.page : "")));
      card.appendChild(el("blockquote", "quote", String(c.quote || "")));
      if (c.passage && String(c.passage).trim() !== String(c.quote || "").trim()) {
        var more = el("details", "more");
        more.appendChild(el("summary", null, TEXT.more));
        more.appendChild(el("p", "passage", String(c.passage)));
        card.appendChild(more);
      }
      card.appendChild(link(c.url, TEXT.open));
      list.appendChild(card);
    });
    wrap.appendChild(list);
    return wrap;
  }

  // ---------------------------------------------------------------------------
  // Under each answer: copy with sources, and thumbs with reasons (POST api/v1/feedback)

  function renderActions(data, question) {
    var bar = el("div", "actions");
    var copy = button("act copy", TEXT.copy);
    copy.title = TEXT.copyTitle;
    copy.addEventListener("click", function () {
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(plainAnswer(data)).then(function () {
        copy.textContent = TEXT.copied;
        setTimeout(function () { copy.textContent = TEXT.copy; }, 2000);
      }).catch(function () {});
    });
    bar.appendChild(copy);
    var up = button("act thumb up", TEXT.useful);
    var down = button("act thumb down", TEXT.notUseful);
    [up, down].forEach(function (b) { b.setAttribute("aria-pressed", "false"); bar.appendChild(b); });
    var note = el("span", "thanks");
    note.setAttribute("role", "status");
    bar.appendChild(note);
    var reasons = renderReasons(function (reason, share, words) {
      reasons.hidden = true;
      sendFeedback(data, question, -1, reason, share, note, words);
    });
    reasons.hidden = true;
    up.addEventListener("click", function () {
      press(up, down);
      reasons.hidden = true;
      sendFeedback(data, question, 1, null, false, note);
    });
    down.addEventListener("click", function () {
      press(down, up);
      reasons.hidden = false;
      var first = reasons.querySelector("input");
      if (first) first.focus();
    });
    var wrap = el("div", "feedback");
    wrap.appendChild(bar);
    wrap.appendChild(reasons);
    return wrap;
  }

  function button(className, text) {
    var b = el("button", className, text);
    b.type = "button";
    return b;
  }

  function press(on, off) {
    on.setAttribute("aria-pressed", "true");
    off.setAttribute("aria-pressed", "false");
  }

  function renderReasons(onSend) {
    var box = el("fieldset", "reasons");
    box.appendChild(el("legend", null, TEXT.reasonsTitle));
    var name = "livc-reason-" + Math.random().toString(36).slice(2);
    TEXT.reasons.forEach(function (reason) {
      var label = el("label", "reason");
      var input = el("input");
      input.type = "radio";
      input.name = name;
      input.value = reason;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + reason));
      box.appendChild(label);
    });
    var noteLabel = el("label", "reason note-label", TEXT.noteLabel);
    var note = el("textarea", "note");
    note.rows = 2;
    note.maxLength = 1000;
    noteLabel.appendChild(note);
    box.appendChild(noteLabel);
    var share = el("label", "reason share");
    var tick = el("input");
    tick.type = "checkbox";
    share.appendChild(tick);
    share.appendChild(document.createTextNode(" " + TEXT.shareQuestion));
    box.appendChild(share);
    var send = button("act send-reason", TEXT.sendReason);
    send.addEventListener("click", function () {
      var chosen = box.querySelector("input[type=radio]:checked");
      onSend(chosen ? chosen.value : null, tick.checked, note.value.trim());
    });
    box.appendChild(send);
    return box;
  }

  function sendFeedback(data, question, rating, reason, share, note, words) {
    var cited = (data.abstained ? data.suggestions : data.citations) || [];
    var body = {
      rating: rating,
      reason: reason,
      text: String(data.text || ""),
      mode: String(data.mode || "extractive"),
      abstained: !!data.abstained,
      citations: cited.map(function (c) {
        return { n: c.n, document: String(c.document || ""), section: String(c.section || ""),
          section_path: Array.isArray(c.section_path) ? c.section_path.map(String) : [] };
      }),
      question: share ? question : null,
      note: words || null
    };
    fetch(config.base + "api/v1/feedback", {
      method: "POST",
      mode: "cors",
      credentials: "include",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      note.textContent = response.ok ? TEXT.thanks : TEXT.feedbackFailed;
    }).catch(function () { note.textContent = TEXT.feedbackFailed; });
  }

  // The answer as plain text with its numbered sources under it (for an e-mail or a note).
  function plainAnswer(data) {
    var lines = [];
    [data.notice, data.language_note].forEach(function (t) { if (typeof t === "string" && t) lines.push(t); });
    if (data.abstained) {
      lines.push(TEXT.abstainTitle, "", TEXT.abstainText);
      var near = Array.isArray(data.suggestions) ? data.suggestions : [];
      if (near.length) lines.push("", TEXT.nearest);
      near.forEach(function (s) { lines.push("- " + sourceText(s)); });
      return lines.join("\n");
    }
    if (data.confidence === "low") lines.push(TEXT.low);
    if (lines.length) lines.push("");
    lines.push(String(data.text || "").split("\n").map(function (line) {
      return line.replace(/^\s*>\s?/, "").replace(/\*\*([^*]+)\*\*/g, "$1");
    }).join("\n").trim());
    var citations = Array.isArray(data.citations) ? data.citations : [];
    if (citations.length) {
      lines.push("", TEXT.sourcesHeading);
      citations.forEach(function (c) { lines.push("[" + c.n + "] " + sourceText(c)); });
    }
    return lines.join("\n");
  }

  function sourceText(c) {
    var url = "";
    try { url = new URL(String(c.url || ""), config.base).href; } catch (e) {}
    return String(c.title || c.document || "") + " \u203a " + sectionPath(c) +
      (c.page ? ", " + TEXT.page + c.page : "") + (url ? "\n    " + url : "");
  }

  function showSource(n, number) {
    var card = root.getElementById("livc-" + n + "-" + number);
    if (!card) return;
    var top = card.offsetTop, log = ui.log;  // scroll the log only, never the host page
    if (top < log.scrollTop || top + card.offsetHeight > log.scrollTop + log.clientHeight) {
      log.scrollTo({ top: Math.max(0, top - 8), behavior: "smooth" });
    }
    card.classList.remove("flash");
    void card.offsetWidth;
    card.classList.add("flash");
    card.focus({ preventScroll: true });
  }

  function link(url, text) {
    var a = el("a", "open", text);
    var href = "";
    try { href = new URL(String(url || ""), config.base).href; } catch (e) { href = ""; }
    if (/^https?:\/\//i.test(href)) {
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  function sectionPath(c) {
    var path = Array.isArray(c.section_path) ? c.section_path.map(String) : [];
    return path.length ? path.join(" \u203a ") : String(c.section || "");
  }

  function shortTitle(title) {
    var head = title.split(":")[0].trim();
    return head.length >= 8 && head.length < title.length ? head : title;
  }

  // ---------------------------------------------------------------------------
  // Styles: constructed stylesheets where the browser has them (no <style> element,
  // so a strict style-src on the host page does not block them)

  function applyStyles(shadow, text) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      shadow.appendChild(el("style", null, text));
    }
  }

  function css(cfg) {
    return [
      ":host { all: initial; }",
      ":host([data-livc-widget=inline]) { display: block; width: 100%; height: 100%; }",
      ".livc { --accent: " + cfg.color + "; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif;",
      "  color: #1f2328; text-align: left; letter-spacing: normal; word-spacing: normal; text-transform: none; }",
      ".livc *, .livc *::before, .livc *::after { box-sizing: border-box; }",
      ".livc [hidden] { display: none !important; }",
      ".launcher { position: fixed; bottom: 20px; right: 20px; z-index: 2147483000; display: inline-flex;",
      "  align-items: center; gap: 8px; padding: 12px 18px; border: 0; border-radius: 999px; cursor: pointer;",
      "  background: var(--accent); color: #fff; font-family: inherit; font-size: 15px; font-weight: 600; line-height: 1.2;",
      "  box-shadow: 0 4px 14px rgba(0,0,0,.25); }",
      ".left .launcher { right: auto; left: 20px; }",
      ".launcher:focus-visible, .livc button:focus-visible, .livc a:focus-visible, .livc textarea:focus-visible {",
      "  outline: 3px solid #ffbf47; outline-offset: 2px; }",
      ".bubble { display: inline-flex; width: 22px; height: 22px; border-radius: 50%; background: #fff;",
      "  color: var(--accent); font-weight: 700; align-items: center; justify-content: center; }",
      ".panel { display: flex; flex-direction: column; background: #fff; overflow: hidden; }",
      ".floating .panel { position: fixed; bottom: 80px; right: 20px; z-index: 2147483000; width: 360px;",
      "  height: 560px; max-width: calc(100vw - 24px); max-height: calc(100vh - 100px); border-radius: 12px;",
      "  border: 1px solid #d0d7de; box-shadow: 0 10px 30px rgba(0,0,0,.25); }",
      ".floating.left .panel { right: auto; left: 20px; }",
      ".livc.inline { height: 100%; }",
      ".inline .panel { width: 100%; height: 100%; min-height: 320px; }",
      ".head { display: flex; align-items: center; gap: 8px; padding: 8px 10px; background: var(--accent); color: #fff; }",
      ".title { flex: 1; font-weight: 700; }",
      ".head button { border: 1px solid rgba(255,255,255,.6); background: transparent; color: #fff; border-radius: 6px;",
      "  padding: 3px 8px; font: inherit; font-size: 13px; cursor: pointer; }",
      ".head .close { font-size: 20px; line-height: 1; padding: 0 8px 2px; border: 0; }",
      ".log { position: relative; flex: 1; min-height: 0; overflow-y: auto; padding: 10px; display: flex; flex-direction: column; gap: 10px; background: #f6f8fa; }",
      ".intro { margin: 0; color: #57606a; font-size: 14px; }",
      ".msg { border-radius: 10px; padding: 8px 10px; max-width: 100%; overflow-wrap: anywhere; }",
      ".msg p { margin: 0 0 6px; } .msg p:last-child { margin-bottom: 0; }",
      ".msg ul, .msg ol { margin: 4px 0 6px; padding-left: 20px; }",
      ".user { align-self: flex-end; background: var(--accent); color: #fff; white-space: pre-wrap; max-width: 85%; }",
      ".bot { align-self: stretch; background: #fff; border: 1px solid #d0d7de; }",
      ".pending { color: #57606a; font-style: italic; }",
      ".writing { color: #1f2328; font-style: normal; }",
      ".stopped { color: #57606a; }",
      ".stop { display: block; margin-top: 6px; border: 1px solid #8c959f; border-radius: 6px; padding: 2px 10px;",
      "  background: #fff; color: #1f2328; font: inherit; font-size: 13px; font-style: normal; cursor: pointer; }",
      ".stop[hidden] { display: none; }",
      ".error { border-color: #cf222e; background: #fff5f5; }",
      ".abstain { background: #fff4e5; border: 1px solid #f3c98b; border-left: 5px solid #b26a00; }",
      ".abstain-title { font-weight: 700; color: #7a4500; }",
      ".low { background: #f4f6f9; border: 1px dashed #8c959f; border-left: 5px solid #57606a; }",
      ".low-label { font-weight: 700; color: #3d4650; }",
      ".generated-label { font-size: 12px; color: #3d4650; margin: 0 0 6px; }",
      ".language { color: #1d4f91; background: #eef3fb; border-radius: 6px; padding: 3px 8px; }",
      ".notice { font-style: italic; color: #57606a; }",
      ".faq-label { display: inline-block; font-size: 12px; font-weight: 600; color: #1e6b34; background: #e6f4ea;",
      "  border-radius: 6px; padding: 2px 6px; }",
      ".marker { border: 0; background: #e8eef8; color: var(--accent); font-family: inherit; font-size: 13px; font-weight: 700; line-height: 1.2;",
      "  border-radius: 4px; padding: 0 3px; margin: 0 1px; cursor: pointer; }",
      ".sources { margin-top: 8px; border-top: 1px solid #d8dee4; padding-top: 6px; }",
      ".sources-title { font-weight: 700; font-size: 13px; }",
      ".msg .cards { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }",
      ".card { border: 1px solid #d0d7de; border-left: 4px solid var(--accent); border-radius: 6px; padding: 6px 8px;",
      "  font-size: 13px; scroll-margin: 8px; }",
      ".card:focus { outline: 2px solid var(--accent); }",
      ".flash { animation: livc-flash 1.4s ease-out; }",
      "@keyframes livc-flash { 0% { background: #fff3b0; } 100% { background: #fff; } }",
      ".card-head { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }",
      ".n { display: inline-flex; min-width: 20px; height: 20px; border-radius: 999px; background: var(--accent);",
      "  color: #fff; font-weight: 700; align-items: center; justify-content: center; font-size: 12px; }",
      ".doc { font-weight: 600; color: #57606a; }",
      ".kind { font-size: 11px; font-weight: 600; background: #e6f4ea; color: #1e6b34; border-radius: 4px; padding: 0 5px; }",
      ".path { font-weight: 600; margin: 3px 0; }",
      ".quote { margin: 4px 0; padding: 4px 8px; border-left: 3px solid #d0d7de; color: #1f2328; white-space: pre-wrap; }",
      ".open { color: var(--accent); font-weight: 600; }",
      ".more { margin: 2px 0 4px; } .more summary { cursor: pointer; color: var(--accent); font-weight: 600; }",
      ".passage { margin: 4px 0; white-space: pre-wrap; color: #1f2328; }",
      ".actions { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-top: 8px; }",
      ".act { border: 1px solid #8c959f; background: #fff; color: #1f2328; border-radius: 6px; padding: 4px 8px;",
      "  font-family: inherit; font-size: 13px; cursor: pointer; min-height: 32px; }",
      ".act[aria-pressed=true] { background: #e8eef8; border-color: var(--accent); color: #163d70; font-weight: 600; }",
      ".thanks { font-size: 13px; color: #1e6b34; }",
      ".reasons { border: 1px solid #d0d7de; border-radius: 6px; margin: 6px 0 0; padding: 6px 8px; font-size: 13px; }",
      ".reasons legend { font-weight: 600; padding: 0 4px; }",
      ".reason { display: block; margin: 2px 0; } .share { margin-top: 6px; }",
      ".note { display: block; width: 100%; margin-top: 2px; font: inherit; font-size: 13px; padding: 4px 6px;",
      "  border: 1px solid #8c959f; border-radius: 6px; resize: vertical; }",
      ".send-reason { margin-top: 6px; }",
      ".ask { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #d0d7de; background: #fff; }",
      ".question { flex: 1; resize: none; font: inherit; font-size: 14px; padding: 6px 8px; border: 1px solid #8c959f;",
      "  border-radius: 6px; color: #1f2328; background: #fff; min-height: 44px; }",
      ".send { border: 0; border-radius: 6px; padding: 0 14px; background: var(--accent); color: #fff; font-family: inherit;",
      "  font-size: 14px; font-weight: 600; cursor: pointer; }",
      ".send:disabled { opacity: .6; cursor: wait; }",
      ".privacy { margin: 0; padding: 0 10px 8px; font-size: 12px; color: #57606a; background: #fff; }"
    ].join("\n");
  }
})();
