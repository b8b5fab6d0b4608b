/* The disclosure log: record one with its legal basis, list them, export public records. */
"use strict";

(() => {
  const { table, status, more } = SB.byId({
    table: "disclosures", status: "disclosures-status", more: "more",
  });
  let next = null;

  function recordType(id) {
    if (id.startsWith("SR-")) return "request";
    if (id.startsWith("CA")) return "call";
    if (id.startsWith("RE")) return "recording";
    return "unknown";
  }

  async function load(append) {
    const result = await SB.api("GET", "/api/disclosures" + SB.query({ before: append ? next : null }));
    if (!result.ok) return;
    next = result.data.next_before;
    more.hidden = next === null;
    SB.fillTable(table, status, result.data.items, (d) => [
      SB.el("span", { class: "nowrap", text: d.id }),
      SB.when(d.disclosed_at),
      d.requested_by,
      d.legal_basis.replaceAll("_", " "),
      d.reference || "–",
      d.description,
      d.records.map((r) => (r.id ? `${r.type} ${r.id}` : `${r.type}: ${r.count}`)).join(", ") || "–",
      d.approved_by.username || "–",
    ], { append, empty: "Nothing disclosed yet." });
  }

  SB.builders["new-disclosure"] = (form) => {
    const body = SB.formJSON(form);
    const lines = (body.records_text || "").split(/\s+/).filter(Boolean);
    delete body.records_text;
    body.records = lines.map((id) => ({ type: recordType(id), id }));
    return body;
  };
  SB.renderers["new-disclosure"] = (data, form) => {
    form.reset();
    document.getElementById("disclosure-status").textContent = `Recorded ${data.id}.`;
    load(false);
  };

  // The export writes a disclosure, so it is a POST (with the session's CSRF token);
  // the file it answers is handed to the browser as a download.
  async function exportRecords(v) {
    const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content");
    const headers = { "Content-Type": "application/json" };
    if (token) headers["X-CSRF-Token"] = token;
    const response = await fetch("/api/disclosures/public-records", {
      method: "POST",
      headers,
      credentials: "same-origin",
      body: JSON.stringify(v),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ detail: "The export failed." }));
      SB.showProblem(exportForm, problem);
      return;
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const named = /filename="([^"]+)"/.exec(disposition);
    const link = SB.el("a", {
      href: URL.createObjectURL(await response.blob()),
      download: named ? named[1] : `public-records.${v.format || "json"}`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    load(false);
  }

  const exportForm = document.getElementById("public-records");
  exportForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const v = SB.formJSON(exportForm);
    if (!v.start || !v.end) {
      SB.showProblem(exportForm, { detail: "Choose both dates." });
      return;
    }
    SB.clearErrors(exportForm);
    exportRecords(v);
  });
  more.addEventListener("click", () => load(true));
  load(false);
})();
