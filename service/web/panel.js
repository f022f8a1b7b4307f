/* The fact-check panel: split a draft into sentences, check each one, mark the text and
   show the evidence of the selected sentence. Plain JavaScript, no build step.

   The host page (the CMS) talks to the panel with postMessage:
     host → panel  {type: "factcheck:config", apiKey, apiBase, editorId, timeoutMs, concurrency}
     host → panel  {type: "factcheck:check", text}
     panel → host  {type: "factcheck:ready"}                      (to any origin, carries nothing)
     panel → host  {type: "factcheck:result", sentences: [...]}   (only to the configured host)
   The API key comes from the host page only; it is never stored or put in a URL. */
(() => {
  "use strict";

  // A clock drawn in SVG: U+23F1 (stopwatch) is in no font Chromium finds on a plain
  // Linux desktop and showed as an empty box.
  function clockIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    for (const [name, value] of Object.entries({
      viewBox: "0 0 16 16", width: "1em", height: "1em", class: "icon",
      "aria-hidden": "true", focusable: "false",
    })) svg.setAttribute(name, value);
    const shape = (tag, attributes) => {
      const node = document.createElementNS(ns, tag);
      for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
      svg.append(node);
    };
    const stroke = { fill: "none", stroke: "currentColor", "stroke-width": "1.6", "stroke-linecap": "round" };
    shape("circle", { cx: "8", cy: "8", r: "6.2", ...stroke });
    shape("path", { d: "M8 4.4V8l2.6 1.6", ...stroke });
    return svg;
  }

  // What kind of conflict the service found between statement and passage, in words.
  const MISMATCH_LABELS = {
    time: [clockIcon, "Time mismatch"],
    number: [() => icon("#"), "Number mismatch"],
    entity: [() => icon("≠"), "Different person or place"],
    polarity: [() => icon("✗"), "Did not happen"],
  };

  const VERDICTS = {
    supported: { icon: "✓", label: "Supported" },
    refuted: { icon: "✗", label: "Refuted" },
    conflicting: { icon: "⇄", label: "Conflicting" },
    not_enough_info: { icon: "?", label: "Unverified" },
    pending: { icon: "…", label: "Waiting" },
    checking: { icon: "⟳", label: "Checking" },
    error: { icon: "!", label: "Not checked" },
  };
  const STANCES = {
    supports: { icon: "✓", label: "Supports" },
    contradicts: { icon: "✗", label: "Contradicts" },
    neutral: { icon: "–", label: "Neutral" },
  };

  const config = {
    apiBase: new URL("..", window.location.href).href, // the service root above /panel/
    apiKey: null,
    editorId: null,
    timeoutMs: 60000,
    concurrency: 2,
  };
  let hostOrigin = null; // set by the first config message from the parent window
  let run = null; // {controller, sentences, text}

  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const child of children) {
      if (child != null) node.append(child);
    }
    return node;
  };

  const icon = (text) => {
    const node = el("span", { textContent: text });
    node.setAttribute("aria-hidden", "true"); // the word next to it says the same
    return node;
  };

  // -- talking to the API --------------------------------------------------------------

  class ApiError extends Error {}

  function problemMessage(response, body) {
    const detail = body && (body.detail || body.title);
    switch (response.status) {
      case 401:
      case 403:
        return `The service refused the API key${detail ? ` (${detail})` : ""}. ` +
          "Ask your administrator for a valid key.";
      case 413:
        return "The text is too long for the service. Check a shorter part of the draft.";
      case 429:
      case 503: {
        const retry = response.headers.get("Retry-After");
        return `The service is busy${detail ? `: ${detail}` : ""}.` +
          (retry ? ` Try again in ${retry} s.` : " Try again shortly.");
      }
      default:
        return detail
          ? `The service answered ${response.status}: ${detail}`
          : `The service answered ${response.status} ${response.statusText}.`;
    }
  }

  async function api(path, { body, method = body === undefined ? "GET" : "POST", signal } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort("timeout"), config.timeoutMs);
    const stop = () => controller.abort("stopped");
    signal?.addEventListener("abort", stop);
    const headers = { Accept: "application/json, application/problem+json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (config.apiKey) headers.Authorization = `Bearer ${config.apiKey}`;
    try {
      let response;
      try {
        response = await fetch(new URL(path, config.apiBase), {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        });
      } catch (error) {
        if (controller.signal.reason === "timeout") {
          throw new ApiError(
            `The service did not answer within ${Math.round(config.timeoutMs / 1000)} s. ` +
            "Try again, or check a shorter text.");
        }
        if (controller.signal.aborted) throw new ApiError("Stopped.");
        throw new ApiError(`Cannot reach the fact-check service at ${config.apiBase}.`);
      }
      const data = await response.json().catch(() => null);
      if (!response.ok) throw new ApiError(problemMessage(response, data));
      return data;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
    }
  }

  // -- messages and progress -------------------------------------------------------------

  function showMessage(text, kind = "error") {
    const box = $("message");
    box.textContent = text;
    box.className = `message ${kind}`;
    box.hidden = !text;
  }

  const sentencesText = (n) => `${n} sentence${n === 1 ? "" : "s"}`;

  function updateProgress(current) {
    if (current !== run) return; // a stopped run finishing late must not overwrite the new one
    const all = current.sentences;
    const done = all.filter((s) => !["pending", "checking"].includes(s.state)).length;
    $("progress-bar").max = Math.max(all.length, 1);
    $("progress-bar").value = done;
    if (done < all.length) {
      $("progress").textContent = `Checked ${done} of ${sentencesText(all.length)}…`;
      return;
    }
    const counts = {};
    for (const s of all) counts[s.state] = (counts[s.state] || 0) + 1;
    const summary = Object.entries(counts)
      .map(([state, n]) => `${n} ${VERDICTS[state].label.toLowerCase()}`)
      .join(", ");
    $("progress").textContent = `All ${sentencesText(all.length)} checked: ${summary}.`;
  }

  // -- the marked text -------------------------------------------------------------------

  // An unverified statement that leans supported shows how much, not its small confidence.
  function leaning(result) {
    const p = result?.scores?.probabilities?.supported;
    if (!result?.reasons.includes("support_below_floor") || p == null) return null;
    return Math.round(p * 100);
  }

  function badgeText(sentence) {
    const v = VERDICTS[sentence.state];
    const lean = leaning(sentence.result);
    const confidence = sentence.result ? ` ${Math.round(sentence.result.confidence * 100)}%` : "";
    return [icon(v.icon), lean === null ? ` ${v.label}${confidence}` : ` ${v.label}, leans supported ${lean}%`];
  }

  function renderSentence(sentence) {
    const node = sentence.node;
    node.className = `sentence v-${sentence.state}`;
    node.dataset.verdict = sentence.state;
    const badge = node.querySelector(".badge");
    badge.className = `badge v-${sentence.state}`;
    badge.replaceChildren(...badgeText(sentence));
    if (sentence.result?.confidence != null) {
      badge.title = `Confidence ${sentence.result.confidence.toFixed(2)}`;
    }
  }

  function renderText(text, sentences) {
    const marked = $("marked");
    marked.replaceChildren();
    let pos = 0;
    sentences.forEach((sentence, index) => {
      if (sentence.start > pos) marked.append(text.slice(pos, sentence.start));
      sentence.node = el(
        "span",
        { tabIndex: 0 },
        el("span", { className: "text", textContent: sentence.text }),
        el("span", { className: "badge" }),
      );
      sentence.node.setAttribute("role", "button");
      sentence.node.setAttribute("aria-expanded", "false");
      sentence.node.setAttribute("aria-controls", "evidence");
      sentence.node.dataset.index = String(index);
      marked.append(sentence.node);
      renderSentence(sentence);
      pos = sentence.end;
    });
    if (pos < text.length) marked.append(text.slice(pos));
  }

  // -- evidence cards --------------------------------------------------------------------

  function passage(evidence) {
    // The context is the passage with its neighbouring sentences; highlight the passage.
    const context = evidence.context || evidence.text;
    const at = context.indexOf(evidence.text);
    const block = el("blockquote", { className: "passage" });
    if (at < 0) {
      block.append(el("mark", { textContent: evidence.text }));
    } else {
      block.append(
        context.slice(0, at),
        el("mark", { textContent: evidence.text }),
        context.slice(at + evidence.text.length),
      );
    }
    return block;
  }

  function scores(evidence) {
    const stance = STANCES[evidence.stance] || { icon: "", label: evidence.stance };
    // the stance is read off the verdict's weights, so the number beside it is a weight too
    const w = evidence.weights?.[evidence.stance];
    const p = evidence.probabilities;
    const row = (term, value) => el("div", {}, el("dt", { textContent: term }), el("dd", { textContent: value }));
    const rows = [
      row("Stance", `${stance.icon} ${stance.label}${w != null ? ` (weight ${w.toFixed(2)})` : ""}`),
    ];
    if (p) {
      rows.push(row("Model", `supports ${p.supports.toFixed(2)} · neutral ${p.neutral.toFixed(2)} · ` +
        `contradicts ${p.contradicts.toFixed(2)}`));
    }
    rows.push(row("Similarity", evidence.similarity.toFixed(2)), row("Rank", String(evidence.rank)));
    return el("dl", { className: "scores" }, ...rows);
  }

  function feedbackControls(statement, evidence) {
    const status = el("span", { className: "feedback-status", role: "status" });
    const comment = el("input", { type: "text", placeholder: "Comment (optional)" });
    comment.setAttribute("aria-label", "Comment on this evidence (optional)");
    const buttons = ["accept", "reject"].map((judgement) => {
      const button = el("button", {
        type: "button",
        textContent: judgement === "accept" ? "Accept" : "Reject",
      });
      button.dataset.judgement = judgement;
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label",
        `${judgement === "accept" ? "Accept" : "Reject"} this evidence from ${evidence.document.title || evidence.document.id}`);
      button.addEventListener("click", async () => {
        buttons.forEach((b) => { b.disabled = true; });
        status.textContent = "Sending…";
        const body = {
          statement, claim_id: evidence.claim_id, judgement, stance: evidence.stance,
          comment: comment.value.trim(),
        };
        if (config.editorId) body.editor_id = config.editorId;
        try {
          await api("v1/feedback", { body });
          buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
          status.textContent = judgement === "accept" ? "Accepted, thank you." : "Rejected, thank you.";
        } catch (error) {
          status.textContent = `Not saved: ${error.message}`;
        } finally {
          buttons.forEach((b) => { b.disabled = false; });
        }
      });
      return button;
    });
    const group = el("div", { className: "feedback", role: "group" }, ...buttons, comment, status);
    group.setAttribute("aria-label", "Is this evidence right?");
    return group;
  }

  function card(statement, evidence) {
    const doc = evidence.document;
    // only web links: a stored javascript: or data: URL must never become a clickable link
    const title = /^https?:\/\//i.test(doc.url || "")
      ? el("a", { href: doc.url, target: "_blank", rel: "noopener noreferrer", textContent: doc.title || doc.id })
      : doc.title || doc.id;
    const meta = el("p", { className: "meta" }, el("span", { className: "doc-id", textContent: doc.id }));
    for (const part of [doc.source, doc.published_at && `published ${doc.published_at}`]) {
      if (part) meta.append(` · ${part}`);
    }
    if (doc.language && doc.language !== "en") meta.append(` · in ${doc.language}, not English`);
    const [glyph, label] = MISMATCH_LABELS[evidence.mismatch?.kind] ?? MISMATCH_LABELS.time;
    const mismatch = evidence.mismatch?.explanation
      ? el("p", { className: "mismatch" }, glyph(), " ",
        el("strong", { textContent: label + ": " }), evidence.mismatch.explanation)
      : null;
    // on-topic passages only: an off-topic one is shown apart and states nothing anyway
    const unstated = evidence.on_topic && evidence.missing?.length
      ? el("p", { className: "unstated" },
        el("strong", { textContent: "Not stated here: " }),
        evidence.missing.map((d) => d.text).join(", "))
      : null;
    const item = el("li", { className: `card s-${evidence.stance}` },
      el("h3", {}, title), meta, passage(evidence), mismatch, unstated, scores(evidence),
      feedbackControls(statement, evidence));
    item.dataset.documentId = doc.id;
    return item;
  }

  function showEvidence(sentence) {
    for (const s of run.sentences) s.node.setAttribute("aria-expanded", String(s === sentence));
    const section = $("evidence");
    const cards = $("cards");
    cards.replaceChildren();
    section.hidden = false;
    const summary = $("evidence-summary");
    summary.replaceChildren(el("q", { textContent: sentence.text }), " ");
    if (sentence.state === "error") {
      summary.append(`was not checked: ${sentence.error}`);
    } else if (!sentence.result) {
      summary.append("is not checked yet.");
    } else if (!sentence.result.evidence.length) {
      summary.append("is unverified: the archive holds no passage about it.");
    } else {
      const v = VERDICTS[sentence.result.verdict];
      const lean = leaning(sentence.result);
      summary.append(lean === null
        ? `${v.icon} ${v.label} (confidence ${Math.round(sentence.result.confidence * 100)}%).`
        : `${v.icon} ${v.label}: it leans supported (${lean}%), too little to say so.`);
      const offTopic = sentence.result.evidence.filter((e) => e.on_topic === false);
      for (const evidence of sentence.result.evidence) {
        if (evidence.on_topic !== false) cards.append(card(sentence.text, evidence));
      }
      if (offTopic.length) {
        // shown apart: retrieved, but under the relevance floor, so they count for nothing
        cards.append(el("li", { className: "off-topic-heading", textContent:
          `Off topic (not counted): ${offTopic.length} passage${offTopic.length > 1 ? "s" : ""}` }));
        for (const evidence of offTopic) cards.append(card(sentence.text, evidence));
      }
    }
    const language = sentence.result?.language;
    if (language && language !== "en") {
      summary.append(el("span", {
        className: "language-note",
        textContent: ` This sentence reads as another language (${language}); the service ` +
          "checks English only, so its verdict means little.",
      }));
    }
    $("evidence-heading").focus();
  }

  // -- running a check -------------------------------------------------------------------

  async function checkOne(sentence, current) {
    const signal = current.controller.signal;
    sentence.state = "checking";
    renderSentence(sentence);
    try {
      sentence.result = await api("v1/check", { body: { statement: sentence.text }, signal });
      sentence.state = sentence.result.verdict;
    } catch (error) {
      sentence.state = "error";
      sentence.error = error.message;
      if (!signal.aborted) showMessage(error.message);
    }
    renderSentence(sentence);
    updateProgress(current);
  }

  async function emptyCorpus(signal) {
    // /health/ready reports how many claims are searchable; a failure here is not fatal.
    try {
      const health = await api("health/ready", { signal });
      return health.claims === 0;
    } catch {
      return false;
    }
  }

  function setRunning(running) {
    $("check-button").disabled = running;
    $("stop-button").hidden = !running;
    $("draft").readOnly = running;
  }

  async function start(text) {
    if (run) run.controller.abort();
    const controller = new AbortController();
    const current = { controller, sentences: [], text };
    run = current;
    showMessage("");
    $("results").hidden = true;
    $("evidence").hidden = true;
    setRunning(true);
    try {
      if (await emptyCorpus(controller.signal)) {
        showMessage("The archive is empty: no articles have been ingested yet, so nothing " +
          "can be verified. Ask your administrator to load the corpus.", "info");
        return;
      }
      const split = await api("v1/split", { body: { text }, signal: controller.signal });
      if (!split.sentences.length) {
        showMessage("No sentences found in the text.", "info");
        return;
      }
      current.sentences = split.sentences.map((s) => ({ ...s, state: "pending", result: null }));
      $("results").hidden = false;
      renderText(text, current.sentences);
      updateProgress(current);
      // A few checks at once: the service queues model calls, and the page stays responsive.
      const queue = [...current.sentences];
      const worker = async () => {
        while (queue.length && !controller.signal.aborted) await checkOne(queue.shift(), current);
      };
      await Promise.all(Array.from({ length: config.concurrency }, worker));
      if (controller.signal.aborted) {
        if (current === run) $("progress").textContent = "Stopped.";
        return;
      }
      notifyHost({
        type: "factcheck:result",
        sentences: current.sentences.map(({ start, end, text: t, state, result }) => ({
          start, end, text: t, verdict: state, confidence: result?.confidence ?? null,
        })),
      });
    } catch (error) {
      if (!controller.signal.aborted) showMessage(error.message);
    } finally {
      if (run === current) setRunning(false);
    }
  }

  // -- the host page ---------------------------------------------------------------------

  function notifyHost(message) {
    if (hostOrigin && window.parent !== window) window.parent.postMessage(message, hostOrigin);
  }

  function configure(data) {
    for (const key of ["apiBase", "apiKey", "editorId"]) {
      if (typeof data[key] === "string" && data[key]) config[key] = data[key];
    }
    if (Number.isFinite(data.timeoutMs) && data.timeoutMs > 0) config.timeoutMs = data.timeoutMs;
    if (Number.isInteger(data.concurrency) && data.concurrency > 0) {
      config.concurrency = Math.min(data.concurrency, 4);
    }
    config.apiBase = new URL(config.apiBase, window.location.href).href.replace(/\/?$/, "/");
  }

  window.addEventListener("message", (event) => {
    // Only the page that embeds the panel may configure it or send it text.
    if (event.source !== window.parent || window.parent === window) return;
    const data = event.data || {};
    if (data.type === "factcheck:config") {
      hostOrigin = event.origin;
      configure(data);
    } else if (data.type === "factcheck:check" && typeof data.text === "string" && hostOrigin === event.origin) {
      $("draft").value = data.text;
      start(data.text);
    }
  });

  // -- wiring ----------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("draft-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("draft").value;
      if (!text.trim()) {
        showMessage("Paste some text to check first.", "info");
        return;
      }
      start(text);
    });
    $("stop-button").addEventListener("click", () => run?.controller.abort());
    const marked = $("marked");
    const open = (event) => {
      const node = event.target.closest(".sentence");
      if (node && run) showEvidence(run.sentences[Number(node.dataset.index)]);
    };
    marked.addEventListener("click", open);
    marked.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        open(event);
      }
    });
    if (window.parent !== window) window.parent.postMessage({ type: "factcheck:ready" }, "*");
  });
})();

