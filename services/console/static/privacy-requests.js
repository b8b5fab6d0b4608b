/* Access and correction requests: the due list, recording one, acknowledging, deciding,
   the export and letters, and corrections. */
"use strict";

(() => {
  const table = document.getElementById("requests");
  const status = document.getElementById("requests-status");
  const which = () => document.querySelector('input[name="which"]:checked').value;

  function deadline(r) {
    const d = r.next_deadline;
    if (!d) return r.decided_on ? `decided ${r.decided_on}` : "–";
    const label = `${d.kind === "answer" ? "Answer" : "Decision"} by ${d.due}`;
    if (d.overdue) return SB.el("strong", { class: "overdue", text: `${label}: OVERDUE` });
    return `${label} (${d.business_days_left} business days)`;
  }

  function documents(r) {
    const base = `/api/privacy/requests/${r.id}`;
    const link = (href, text) => SB.el("a", { href, target: "_blank", rel: "noopener", text });
    const links = [link(`${base}/export.html`, "Export (letter)"), " · ", link(`${base}/export`, "JSON")];
    const letters = { acknowledged: "acknowledgement", granted: "grant", denied: "denial" };
    if (letters[r.status]) links.push(" · ", link(`${base}/letters/${letters[r.status]}`, `${letters[r.status]} letter`));
    links.push(" · ", link(`${base}/letters/amendment`, "amendment rights"));
    return SB.el("span", {}, ...links);
  }

  function actions(r) {
    const note = SB.el("span", { class: "row-note", role: "status" });
    const act = async (path, body) => {
      const result = await SB.api("POST", `/api/privacy/requests/${r.id}/${path}`, body);
      if (result.ok) load();
      else {
        note.classList.add("error");
        note.textContent = result.data.detail || "Not done.";
      }
    };
    const open = r.status === "received" || r.status === "acknowledged";
    if (!open) return "–";
    const reason = SB.el("input", { id: `reason-${r.id}`, "aria-label": `Reasons to deny ${r.id}`, placeholder: "Reasons, to deny", size: 18 });
    const buttons = [];
    if (r.status === "received") {
      buttons.push(SB.el("button", { type: "button", class: "secondary", text: "Acknowledge", onclick: () => act("acknowledge", {}) }));
    }
    buttons.push(
      SB.el("button", { type: "button", class: "secondary", text: "Grant", onclick: () => act("decide", { decision: "granted" }) }),
      reason,
      SB.el("button", { type: "button", class: "secondary", text: "Deny", onclick: () => act("decide", { decision: "denied", reason: reason.value }) }),
    );
    return SB.el("span", {}, ...buttons, " ", note);
  }

  async function load() {
    const result = await SB.api("GET", "/api/privacy/requests" + SB.query({ which: which() }));
    if (!result.ok) {
      status.textContent = result.data.detail || "Could not load.";
      return;
    }
    SB.fillTable(table, status, result.data, (r) => [
      SB.el("span", { class: "nowrap", text: r.id }),
      `${r.received_on} (${r.channel.replace("_", " ")})`,
      r.kinds.join(", "),
      r.status,
      deadline(r),
      documents(r),
      actions(r),
    ], { empty: which() === "open" ? "Nothing is due." : "No requests yet." });
  }

  SB.builders["new-privacy-request"] = (form) => {
    const body = SB.formJSON(form);
    body.kinds = [];
    if (body.kind_access) body.kinds.push("access");
    if (body.kind_correction) body.kinds.push("correction");
    delete body.kind_access;
    delete body.kind_correction;
    return body;
  };
  SB.renderers["new-privacy-request"] = (data, form) => {
    form.reset();
    document.getElementById("record-status").textContent =
      `Recorded ${data.id}; answer due by ${data.respond_by}.`;
    load();
  };

  const correction = document.getElementById("correction");
  correction.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = SB.formJSON(correction);
    const body = { request_id: v.request_id, clear: [] };
    for (const key of ["name", "phone", "email", "address"]) {
      if (v[key]) body[key] = v[key];
      if (v[`clear_${key}`]) body.clear.push(key);
    }
    const result = await SB.api("POST", `/api/privacy/requests/${encodeURIComponent(v.privacy_request || "")}/corrections`, body);
    const done = document.getElementById("correction-status");
    if (!result.ok) {
      SB.showProblem(correction, result.data);
      done.textContent = "";
      return;
    }
    SB.clearErrors(correction);
    correction.reset();
    done.textContent = `Corrected ${result.data.corrected.join(", ")} on ${result.data.request_id}.`;
  });

  document.querySelectorAll('input[name="which"]').forEach((radio) => radio.addEventListener("change", load));
  load();
})();
