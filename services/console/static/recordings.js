/* Recordings with filters; each opens on its own page with the player and QA form. */
"use strict";

(() => {
  function talk(t) {
    const share = (c) =>
      c.talk_seconds === null ? "–" : `${Math.round(c.talk_seconds)} s`;
    return `${share(t.caller)} / ${share(t.agent)}`;
  }

  SB.pagedList({
    form: "recording-filters",
    id: "recordings",
    url: "/api/recordings",
    cursor: "before_id",
    filters: (v) => ({
      ...SB.dateRange(v),
      extension: v.extension,
      agent: v.agent,
      qa_status: v.qa_status,
      min_seconds: v.min_seconds,
    }),
    cells: (r) => [
      SB.when(r.started_at),
      r.extension || "–",
      r.agent || "–",
      SB.seconds(r.duration_seconds),
      r.state,
      talk(r.talk),
      SB.el("a", { href: `/console/recordings/${r.recording_sid}`, text: "Open" }),
    ],
    empty: "No recordings match.",
  });
})();
