/* factcheck-embed.js: put the fact-check panel in a CMS page, or call the API directly.

   Embed the panel (an iframe served by the service) in an element of the page:

     <div id="factcheck"></div>
     <script src="https://factcheck.example.org/panel/factcheck-embed.js"
             data-target="#factcheck" data-api-key="KEY" data-editor-id="desk-7"></script>

   or from code, sending the draft the editor is writing:

     const panel = FactCheck.mount("#factcheck", {apiKey, editorId, onResult: (r) => ...});
     panel.check(editor.getText());

   Call the API from the page itself (the service must list the page's origin in
   FACTCHECK_CORS_ORIGINS):

     const api = FactCheck.client({apiKey});
     const {sentences} = await api.split(text);
     const result = await api.check(sentences[0].text);

   The API key is whatever the host page provides; the script stores it nowhere else. */
(() => {
  "use strict";

  const script = document.currentScript;
  const panelUrl = new URL("./", script.src); // this script lives in the panel's folder
  const apiBase = new URL("../", panelUrl).href;

  function client({ apiKey = null, base = apiBase, timeoutMs = 60000 } = {}) {
    async function call(path, body) {
      const headers = { Accept: "application/json, application/problem+json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        const response = await fetch(new URL(path, base), {
          method: body === undefined ? "GET" : "POST",
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        });
        const data = await response.json().catch(() => null);
        if (!response.ok) {
          const error = new Error((data && (data.detail || data.title)) || response.statusText);
          error.status = response.status;
          error.problem = data;
          throw error;
        }
        return data;
      } finally {
        clearTimeout(timer);
      }
    }
    return {
      split: (text) => call("v1/split", { text }),
      check: (statement, options = {}) => call("v1/check", { statement, ...options }),
      feedback: (judgement) => call("v1/feedback", judgement),
    };
  }

  function mount(target, { apiKey = null, editorId = null, timeoutMs, onResult, height = "640px" } = {}) {
    const host = typeof target === "string" ? document.querySelector(target) : target;
    if (!host) throw new Error(`FactCheck.mount: no element ${target}`);
    const frame = document.createElement("iframe");
    frame.src = panelUrl.href;
    frame.title = "Fact-check panel";
    frame.style.cssText = `width: 100%; height: ${height}; border: 1px solid #c9d0dc; border-radius: 6px;`;
    let ready = false;
    const queue = [];
    const send = (message) => frame.contentWindow.postMessage(message, panelUrl.origin);
    window.addEventListener("message", (event) => {
      if (event.source !== frame.contentWindow || event.origin !== panelUrl.origin) return;
      const data = event.data || {};
      if (data.type === "factcheck:ready") {
        ready = true;
        send({ type: "factcheck:config", apiKey, editorId, timeoutMs });
        while (queue.length) send(queue.shift());
      } else if (data.type === "factcheck:result" && onResult) {
        onResult(data);
      }
    });
    host.append(frame);
    return {
      frame,
      check(text) {
        const message = { type: "factcheck:check", text };
        if (ready) send(message);
        else queue.push(message);
      },
    };
  }

  window.FactCheck = { client, mount, apiBase };

  const target = script.dataset.target;
  if (target) {
    const start = () => {
      window.FactCheck.panel = mount(target, {
        apiKey: script.dataset.apiKey || null,
        editorId: script.dataset.editorId || null,
      });
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})();
