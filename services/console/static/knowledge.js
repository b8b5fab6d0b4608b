/* The knowledge base: answers found as the call taker types (either language), the one
   chosen shown in place, its history, and for editors the forms that change it. */
"use strict";

(() => {
  const { form, input, language, list, status, panel, history } = SB.byId({
    form: "kb-search", input: "f-q", language: "kb-language", list: "kb-results",
    status: "kb-status", panel: "kb-article", history: "kb-history",
  });
  const editor = document.getElementById("kb-editor"); // only for knowledge editors
  let shown = null;
  let asked = 0;
  let timer = null;

  function show(article) {
    shown = article;
    document.getElementById("kb-article-title").textContent = article.title;
    document.getElementById("kb-article-meta").textContent =
      `${article.department} · ${article.code} · version ${article.version}` +
      (article.retired ? " · retired" : "") +
      (article.languages.includes(language.value) ? "" : " · not written in this language yet");
    const body = document.getElementById("kb-article-body");
    body.replaceChildren(...article.body.split(/\n{2,}/).map((para) => SB.el("p", { text: para })));
    const service = document.getElementById("kb-article-service");
    service.hidden = !article.service_code;
    document.getElementById("kb-article-service-code").textContent = SB.serviceName(article.service_code);
    history.hidden = true;
    panel.hidden = false;
    if (editor) edit(article);
  }

  /* The editor: a new answer (POST) until an answer is shown, then that answer in the
     language shown (PUT, with the version it started from). */
  function edit(article) {
    const fields = editor.elements;
    editor.dataset.api = article ? `/api/kb/articles/${encodeURIComponent(article.code)}` : "/api/kb/articles";
    editor.dataset.method = article ? "PUT" : "POST";
    document.getElementById("kb-editor-title").textContent = article ? `Edit “${article.title}”` : "Write a new answer";
    fields.code.disabled = Boolean(article);
    fields.version.disabled = !article;
    const values = article || { code: "", version: "", language: language.value, department: "", service_code: "", title: "", body: "", keywords: [], retired: false };
    for (const name of ["code", "version", "language", "department", "service_code", "title", "body"]) {
      fields[name].value = values[name] ?? "";
    }
    fields.keywords.value = values.keywords.join(", ");
    fields.retired.checked = values.retired;
    SB.clearErrors(editor);
    document.getElementById("kb-editor-status").textContent = "";
  }

  async function search() {
    const q = input.value;
    const mine = ++asked;
    if (!q.trim()) {
      list.replaceChildren();
      status.textContent = "Type to search.";
      return;
    }
    const result = await SB.api("GET", "/api/kb/articles" + SB.query({ q, language: language.value, limit: 10 }));
    if (mine !== asked) return; // a later keystroke's answer wins
    if (!result.ok) {
      status.textContent = result.data.detail || "The search did not work.";
      return;
    }
    list.replaceChildren(...result.data.items.map((article) => SB.el("li", {},
      SB.el("button", { type: "button", class: "link", onclick: () => { show(article); panel.focus(); } }, article.title),
      SB.el("span", { class: "hint", text: ` ${article.department}${article.service_code ? " · request: " + SB.serviceName(article.service_code) : ""}` }))));
    const corrected = Object.entries(result.data.corrections || {});
    const count = result.data.items.length;
    status.textContent = (count ? `${count} ${count === 1 ? "answer" : "answers"}.` : "No answers found.") +
      (corrected.length ? ` Searched for ${corrected.map(([typed, used]) => `“${used}” (you typed “${typed}”)`).join(", ")}.` : "");
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  }

  input.addEventListener("input", later);
  language.addEventListener("change", async () => {
    await search();
    if (shown) {
      const result = await SB.api("GET", `/api/kb/articles/${encodeURIComponent(shown.code)}` + SB.query({ language: language.value }));
      if (result.ok) show(result.data);
    }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); search(); });

  document.getElementById("kb-history-button").addEventListener("click", async () => {
    if (!shown) return;
    const result = await SB.api("GET", `/api/kb/articles/${encodeURIComponent(shown.code)}/history`);
    if (!result.ok) return;
    history.replaceChildren(...result.data.items.map((item) => SB.el("li", {},
      `Version ${item.version}, ${SB.when(item.changed_at)}, by ${item.changed_by || "the system"} (${item.changed_via}): `,
      item.changed.join(", ") || "no change")));
    history.hidden = false;
  });

  if (editor) {
    /* Keywords as a list, the service as null for information only. */
    SB.builders["kb-editor"] = (form) => {
      const body = SB.formJSON(form);
      body.keywords = form.elements.keywords.value.split(",").map((word) => word.trim()).filter(Boolean);
      body.service_code = form.elements.service_code.value || null;
      body.retired = form.elements.retired.checked;
      if (body.version !== undefined) body.version = Number(body.version);
      return body;
    };
    SB.renderers["kb-editor"] = (article) => {
      show(article);
      document.getElementById("kb-editor-status").textContent = `Saved as version ${article.version}.`;
    };
    document.getElementById("kb-write").addEventListener("click", () => {
      edit(null);
      editor.elements.code.focus();
    });
  }
})();
