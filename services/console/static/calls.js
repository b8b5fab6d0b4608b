/* The call log with filters (dates, extension, status) and paging. */
"use strict";

(() => {
  const form = document.getElementById("call-filters");
  const table = document.getElementById("calls");
  const status = document.getElementById("calls-status");
  const more = document.getElementById("more");
  let next = null;

  function params() {
    const v = SB.formJSON(form);
    return {
      since: v.since ? SB.cityMidnight(v.since) : null,
      until: v.until ? SB.cityMidnight(v.until, 1) : null,
      extension: v.extension,
      status: v.status,
    };
  }

  async function load(append) {
    const result = await SB.api("GET", "/api/calls" + SB.query({ ...params(), before_id: append ? next : null }));
    if (!result.ok) {
      SB.showProblem(form, result.data);
      return;
    }
    next = result.data.next_before_id;
    more.hidden = next === null;
    SB.fillTable(table, status, result.data.items, (c) => [
      SB.when(c.started_at),
      c.caller_withheld ? "withheld" : c.from_number || c.caller_id_text || "–",
      c.extension || "–",
      c.status,
      c.answered_at ? SB.when(c.answered_at) : "no",
      SB.seconds(c.duration_seconds),
    ], { append, empty: "No calls match." });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    SB.clearErrors(form);
    load(false);
  });
  more.addEventListener("click", () => load(true));
  load(false);
})();
