/* The audit trail for the privacy officer: filters, newest first, paging back. */
"use strict";

SB.pagedList({
  form: "audit-filters",
  id: "audit",
  url: "/api/audit",
  cursor: "before_seq",
  filters: (v) => ({
    actor_id: v.actor_id,
    action: v.action,
    object_type: v.object_type,
    object_id: v.object_id,
    ...SB.dateRange(v),
  }),
  cells: (e) => [
    String(e.seq),
    SB.when(e.occurred_at),
    e.actor_name ? `${e.actor_name} (${e.actor_role}, #${e.actor_id})` : "nobody signed in",
    e.action,
    [e.object_type, e.object_id].filter(Boolean).join(" ") || "–",
    e.outcome,
    SB.el("code", { text: JSON.stringify(e.detail) }),
  ],
  empty: "No entries match.",
});
