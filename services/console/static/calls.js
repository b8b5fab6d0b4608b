/* The call log, one row per call: who answered, the wait, the recording, the contacts and
   the requests filed; filters by date, extension, status and agent, and a search by the
   caller's number, sent in a request body (never in the address). */
"use strict";

(() => {
  const { table, status, more, filters, search, clear } = SB.byId({
    table: "calls", status: "calls-status", more: "more",
    filters: "call-filters", search: "call-search", clear: "call-search-clear",
  });
  const mayHear = table.dataset.recordings === "yes";
  // A contact opens in its call's workspace (the caller, the contact's requests and its
  // wrap-up), for those who may open the workspace.
  const mayOpen = table.dataset.workspace === "yes";
  const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  const STATUS = {
    queued: "Queued", initiated: "Dialling", ringing: "Ringing", "in-progress": "In progress",
    completed: "Ended", busy: "Busy", "no-answer": "Not answered", canceled: "Caller hung up",
    failed: "Failed",
  };

  /* A North American number as people write it; others as dialled (E.164). */
  function phone(number) {
    const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number || "");
    return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : number;
  }

  function caller(c) {
    if (c.caller_withheld) return "Number withheld";
    return phone(c.from_number) || c.caller_id_text || "Unknown";
  }

  function outcome(c) {
    if (c.agent) {
      return c.wait_seconds === null ? "Answered" : `Answered after ${SB.seconds(c.wait_seconds)}`;
    }
    if (!c.ended_at) return STATUS[c.status] || c.status;
    return c.extension ? "Abandoned (no one answered)" : `Ended in the menu (${STATUS[c.status] || c.status})`;
  }

  function linked(c) {
    const items = [];
    c.recordings.forEach((sid, n) => {
      const name = c.recordings.length > 1 ? `Recording ${n + 1}` : "Recording";
      items.push(mayHear ? SB.el("a", { href: `/console/recordings/${sid}`, text: name }) : `${name} kept`);
    });
    for (const ct of c.contacts) {
      const how = ct.resolution ? SB.resolutionName(ct.resolution, { within: true }) : "not yet wrapped up";
      const name = mayOpen
        ? SB.el("a", { href: `/console/workspace?call=${encodeURIComponent(c.call_sid)}`, text: `Contact ${ct.id}` })
        : `Contact ${ct.id}`;
      items.push(SB.el("span", {}, name, `: ${how}`, ct.topic_titles.length ? ` (${ct.topic_titles.join(", ")})` : ""));
    }
    for (const id of c.requests) {
      items.push(SB.el("span", {}, "Request ", SB.requestLink(id)));
    }
    return items.length ? SB.el("ul", { class: "plain" }, ...items.map((i) => SB.el("li", {}, i))) : "–";
  }

  function row(c) {
    const cells = [
      SB.when(c.started_at),
      caller(c) + (c.direction === "outbound-api" ? " (callback)" : ""),
      c.extension || "–",
      c.agent || "–",
      outcome(c),
      SB.seconds(c.duration_seconds),
      linked(c),
    ];
    return SB.el("tr", {}, ...cells.map((cell, n) => SB.el("td", { "data-label": headings[n] }, cell)));
  }

  function show(items, { append, empty }) {
    const body = table.querySelector("tbody");
    if (!append) body.replaceChildren();
    body.append(...items.map(row));
    table.hidden = body.children.length === 0;
    const n = body.children.length;
    status.textContent = n === 0 ? empty : `${n} call${n === 1 ? "" : "s"} shown.`;
  }

  const loading = SB.newest(); // the search and the log fill the same table: the last asked wins
  const load = SB.pager({
    form: filters, more, url: "/api/calls/log", cursor: "before_id", loading,
    params: () => {
      const v = SB.formJSON(filters);
      return { ...SB.dateRange(v), extension: v.extension, status: v.status, agent: v.agent };
    },
    show: (items, append) => show(items, { append, empty: "No calls match." }),
  });

  search.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = SB.formJSON(search);
    const range = SB.dateRange(SB.formJSON(filters));
    const ticket = loading();
    const result = await SB.api("POST", "/api/calls/log/search", { phone: v.phone || "", ...range });
    if (!ticket()) return;
    if (!result.ok) {
      SB.showProblem(search, result.data);
      table.querySelector("tbody").replaceChildren();
      table.hidden = true;
      more.hidden = true;
      status.textContent = "No search results: correct the number and try again.";
      return;
    }
    SB.clearErrors(search);
    more.hidden = true;
    clear.hidden = false;
    show(result.data.items, { append: false, empty: "No calls from that number." });
    const n = result.data.items.length;
    status.textContent = n ? `${n} call${n === 1 ? "" : "s"} from that number.` : "No calls from that number.";
  });
  clear.addEventListener("click", () => {
    search.reset();
    SB.clearErrors(search);
    clear.hidden = true;
    load(false);
  });

  load(false);
})();
