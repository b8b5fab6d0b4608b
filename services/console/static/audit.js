/* The audit trail for the privacy officer: filters, newest first, paging back. */
"use strict";

(() => {
  const form = document.getElementById("audit-filters");
  const table = document.getElementById("audit");
  const status = document.getElementById("audit-status");
  const more = document.getElementById("more");
  let next = null;

  async function load(append) {
    const v = SB.formJSON(form);
    const url = "/api/audit" + SB.query({
      actor_id: v.actor_id,
      action: v.action,
      object_type: v.object_type,
      object_id: v.object_id,
      since: v.since ? SB.cityMidnight(v.since) : null,
      until: v.until ? SB.cityMidnight(v.until, 1) : null,
      before_seq: append ? next : null,
    });
    const result = await SB.api("GET", url);
    if (!result.ok) {
      SB.showProblem(form, result.data);
      return;
    }
    next = result.data.next_before_seq;
    more.hidden = next === null;
    SB.fillTable(table, status, result.data.items, (e) => [
      String(e.seq),
      SB.when(e.occurred_at),
      e.actor_name ? `${e.actor_name} (${e.actor_role}, #${e.actor_id})` : "nobody signed in",
      e.action,
      [e.object_type, e.object_id].filter(Boolean).join(" ") || "–",
      e.outcome,
      SB.el("code", { text: JSON.stringify(e.detail) }),
    ], { append, empty: "No entries match." });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    SB.clearErrors(form);
    load(false);
  });
  more.addEventListener("click", () => load(true));
  load(false);
})();
