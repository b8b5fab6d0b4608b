/* The call log with filters (dates, extension, status, agent) and paging. */
"use strict";

SB.pagedList({
  form: "call-filters",
  id: "calls",
  url: "/api/calls",
  cursor: "before_id",
  filters: (v) => ({ ...SB.dateRange(v), extension: v.extension, status: v.status, agent: v.agent }),
  cells: (c) => [
    SB.when(c.started_at),
    c.caller_withheld ? "withheld" : c.from_number || c.caller_id_text || "–",
    c.extension || "–",
    c.agent || "–",
    c.status,
    c.answered_at ? SB.when(c.answered_at) : "no",
    SB.seconds(c.duration_seconds),
  ],
  empty: "No calls match.",
});
