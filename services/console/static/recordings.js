/* Recordings with filters; each opens on its own page with the player and QA form. */
"use strict";

(() => {
  const form = document.getElementById("recording-filters");
  const table = document.getElementById("recordings");
  const status = document.getElementById("recordings-status");
  const more = document.getElementById("more");
  let next = null;

  function talk(t) {
    const share = (c) =>
      c.talk_seconds === null ? "–" : `${Math.round(c.talk_seconds)} s`;
    return `${share(t.caller)} / ${share(t.agent)}`;
  }

  async function load(append) {
    const v = SB.formJSON(form);
    const url = "/api/recordings" + SB.query({
      since: v.since ? SB.cityMidnight(v.since) : null,
      until: v.until ? SB.cityMidnight(v.until, 1) : null,
      extension: v.extension,
      agent: v.agent,
      qa_status: v.qa_status,
      min_seconds: v.min_seconds,
      before_id: append ? next : null,
    });
    const result = await SB.api("GET", url);
    if (!result.ok) {
      SB.showProblem(form, result.data);
      return;
    }
    next = result.data.next_before_id;
    more.hidden = next === null;
    SB.fillTable(table, status, result.data.items, (r) => [
      SB.when(r.started_at),
      r.extension || "–",
      r.agent || "–",
      SB.seconds(r.duration_seconds),
      r.state,
      talk(r.talk),
      SB.el("a", { href: `/console/recordings/${r.recording_sid}`, text: "Open" }),
    ], { append, empty: "No recordings match." });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    SB.clearErrors(form);
    load(false);
  });
  more.addEventListener("click", () => load(true));
  load(false);
})();
