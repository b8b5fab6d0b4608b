/* Retention schedules for administrators, and a dry run of the purge. */
"use strict";

(() => {
  const table = document.getElementById("schedules");
  const status = document.getElementById("schedules-status");
  const units = ["days", "months", "years"];

  function row(s) {
    const id = `keep-${s.record_class}`;
    const amount = SB.el("input", { id: `${id}-amount`, class: "amount", type: "number", min: 1, value: s.amount, "aria-label": `How many, for ${s.label}` });
    const unit = SB.el("select", { id: `${id}-unit`, "aria-label": `Unit, for ${s.label}` },
      ...units.map((u) => SB.el("option", { value: u, selected: u === s.unit, text: u })));
    const note = SB.el("span", { class: "row-note", role: "status" });
    const save = SB.el("button", {
      type: "button", class: "secondary", text: "Save", "aria-label": `Save ${s.label}`,
      onclick: async () => {
        const result = await SB.api("PUT", `/api/retention/schedules/${s.record_class}`, {
          amount: Number(amount.value), unit: unit.value,
        });
        note.classList.toggle("error", !result.ok);
        note.textContent = result.ok ? "Saved." : (result.data.errors?.[0]?.message || result.data.detail || "Not saved.");
      },
    });
    return [s.label, s.counted_from, SB.el("span", { class: "keep" }, amount, unit),
      s.default + (s.ceiling ? ` (at most ${s.ceiling})` : ""), SB.el("span", {}, save, " ", note)];
  }

  async function load() {
    const result = await SB.api("GET", "/api/retention/schedules");
    if (result.ok) SB.fillTable(table, status, result.data, row, { empty: "No schedules." });
  }

  const dry = document.getElementById("dry-run");
  dry.addEventListener("click", async () => {
    const out = document.getElementById("dry-run-status");
    const result = await SB.api("POST", "/api/retention/run", { dry_run: true });
    if (!result.ok) {
      out.textContent = result.data.detail || "Could not count.";
      return;
    }
    const names = Object.keys(result.data.counts);
    SB.fillTable(document.getElementById("dry-run-result"), out, names, (name) => [
      name.replaceAll("_", " "), String(result.data.counts[name]), String(result.data.held[name] || 0),
    ]);
    out.textContent = `As of ${SB.when(result.data.as_of)}.`;
  });
  load();
})();
