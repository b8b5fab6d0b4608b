/* QA evaluations: supervisors see everyone's (filter by agent), agents their own. */
"use strict";

(() => {
  const form = document.getElementById("evaluation-filters"); // only for those who may evaluate
  const { table, status } = SB.byId({ table: "evaluations", status: "evaluations-status" });
  // The template gives the Recording column (the last) only to those who may open
  // recordings, not to agents: a row has the cells its table has columns for.
  const columns = table.querySelectorAll("thead th").length;

  const loading = SB.newest(); // filters asked for one after another: the last asked wins

  async function load() {
    const agent = form ? SB.formJSON(form).agent : null;
    const ticket = loading();
    const result = await SB.api("GET", "/api/qa/evaluations" + SB.query({ agent }));
    if (!ticket()) return;
    if (!result.ok) {
      status.textContent = result.data.detail || "Could not load the evaluations.";
      return;
    }
    SB.fillTable(table, status, result.data, (e) => [
      SB.when(e.created_at),
      e.agent,
      `${e.form_name} v${e.form_version}`,
      `${e.score}%${e.failed_critical ? " (critical failed)" : ""}`,
      e.evaluator,
      e.comments.map((c) => `${SB.seconds(c.at_seconds)} ${c.text}`).join("; ") || "–",
      SB.el("a", { href: `/console/recordings/${e.recording_sid}`, text: "Recording" }),
    ].slice(0, columns), { empty: agent ? `No evaluations of ${agent}.` : "No evaluations yet." });
  }
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
  }
  load();
})();
