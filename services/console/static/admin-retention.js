/* Retention schedules for administrators, and a dry run of the purge. */
"use strict";

(() => {
  const { table, status } = SB.byId({ table: "schedules", status: "schedules-status" });
  const units = ["days", "months", "years"];

  function row(s) {
    const id = `keep-${s.record_class}`;
    const amount = SB.el("input", { id: `${id}-amount`, class: "amount", type: "number", min: 1, value: s.amount, "aria-label": `How many, for ${s.label}` });
    const unit = SB.el("select", { id: `${id}-unit`, "aria-label": `Unit, for ${s.label}` },
      ...units.map((u) => SB.el("option", { value: u, selected: u === s.unit, text: u })));
    const note = SB.el("span", { class: "row-note", role: "status" });
    const save = SB.el("button", {
      type: "button", class: "secondary", text: "Save", "aria-label": `Save ${s.label}`,
      onclick: SB.oneAtATime(async () => {
        const result = await SB.api("PUT", `/api/retention/schedules/${s.record_class}`, {
          amount: Number(amount.value), unit: unit.value,
        });
        note.classList.toggle("error", !result.ok);
        note.textContent = result.ok ? "Saved." : (result.data.errors?.[0]?.message || result.data.detail || "Not saved.");
      }),
    });
    return [s.label, s.counted_from, SB.el("span", { class: "keep" }, amount, unit),
      s.default + (s.ceiling ? ` (at most ${s.ceiling})` : ""), SB.el("span", {}, save, " ", note)];
  }

  async function load() {
    const result = await SB.api("GET", "/api/retention/schedules");
    if (result.ok) SB.fillTable(table, status, result.data, row, { empty: "No schedules." });
  }

  // The purge's kinds of records in plain words (others are shown by their name).
  const kinds = {
    calls: "calls (the call log)", call_offers: "call offers to agents", contacts: "contacts",
    contact_requests: "links from contacts to requests", recordings: "QA recordings",
    "recording rows": "recording records", service_requests: "service requests",
    appointments: "appointments", sms: "text messages", email: "emails",
    webhook_log: "webhook log", sessions: "console sessions", sign_in_failures: "failed sign-ins",
    qa_evaluations: "QA evaluations", alert_signups: "news alert sign-ups",
    alert_subscribers: "news alert subscribers", alert_counts: "news alert counts",
  };
  const form = document.getElementById("dry-run-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    SB.clearErrors(form);
    const { out, table } = SB.byId({ out: "dry-run-status", table: "dry-run-result" });
    const day = form.elements.as_of.value;
    const body = { dry_run: true };
    if (day) body.as_of = SB.cityMidnight(day);
    out.textContent = "Counting…";
    const result = await SB.api("POST", "/api/retention/run", body);
    if (!result.ok) {
      out.textContent = "";
      table.hidden = true;
      SB.showProblem(form, result.data);
      return;
    }
    const names = Object.keys(result.data.counts).sort();
    SB.fillTable(table, out, names, (name) => [
      kinds[name] || name.replaceAll("_", " "), String(result.data.counts[name]), String(result.data.held[name] || 0),
    ]);
    const total = names.reduce((sum, name) => sum + result.data.counts[name], 0);
    out.textContent = `As of ${SB.when(result.data.as_of)}: ${total} record(s) would be destroyed. Nothing was deleted.`;
  });
  load();
})();
