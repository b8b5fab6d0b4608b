/* QA evaluations: supervisors see everyone's (filter by agent), agents their own. */
"use strict";

(() => {
  const form = document.getElementById("evaluation-filters"); // only for those who may evaluate
  const { table, status } = SB.byId({ table: "evaluations", status: "evaluations-status" });

  async function load() {
    const agent = form ? SB.formJSON(form).agent : null;
    const result = await SB.api("GET", "/api/qa/evaluations" + SB.query({ agent }));
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
    ], { empty: "No evaluations yet." });
  }
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
  }
  load();
})();
