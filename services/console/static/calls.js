/* The call log, one row per call: who answered, the wait, the recording, the contacts and
   the requests filed; filters by date, extension, status and agent, and a search by the
   caller's number, sent in a request body (never in the address). */
"use strict";

(() => {
  const table = document.getElementById("calls");
  const status = document.getElementById("calls-status");
  const more = document.getElementById("more");
  const filters = document.getElementById("call-filters");
  const search = document.getElementById("call-search");
  const clear = document.getElementById("call-search-clear");
  const mayHear = table.dataset.recordings === "yes";
  const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  const STATUS = {
    queued: "Queued", initiated: "Dialling", ringing: "Ringing", "in-progress": "In progress",
    completed: "Ended", busy: "Busy", "no-answer": "Not answered", canceled: "Caller hung up",
    failed: "Failed",
  };
  const RESOLUTION = {
    information_provided: "information given", request_filed: "request filed",
    transferred: "transferred", referred: "referred", caller_hung_up: "caller hung up",
    wrong_number: "wrong number",
  };
  let next = null;

  function caller(c) {
    if (c.caller_withheld) return "Number withheld";
    return c.from_number || c.caller_id_text || "Unknown";
  }

  function outcome(c) {
    if (c.agent) {
      return c.wait_seconds === null ? "Answered" : `Answered after ${SB.seconds(c.wait_seconds)}`;
    }
    if (!c.ended_at) return STATUS[c.status] || c.status;
    return c.extension ? "Abandoned (no one answered)" : `Ended in the menu (${STATUS[c.status] || c.status})`;
  }

  const list = (items) => (items.length ? SB.el("ul", { class: "plain" }, ...items.map((i) => SB.el("li", {}, i))) : "–");

  function row(c) {
    const recordings = c.recordings.map((sid, n) =>
      mayHear
        ? SB.el("a", { href: `/console/recordings/${sid}`, text: c.recordings.length > 1 ? `Recording ${n + 1}` : "Recording",
          "aria-label": `Recording ${n + 1} of the call at ${SB.when(c.started_at)}` })
        : "Recorded");
    const contacts = c.contacts.map((ct) =>
      SB.el("span", {}, SB.el("strong", { text: ct.id }),
        ct.resolution ? ` ${RESOLUTION[ct.resolution] || ct.resolution}` : " not wrapped up",
        ct.topics.length ? ` (${ct.topics.join(", ")})` : ""));
    const requests = c.requests.map((id) => SB.el("a", { href: `/console/requests/${id}`, text: id }));
    const cells = [
      SB.when(c.started_at),
      caller(c) + (c.direction === "outbound-api" ? " (callback)" : ""),
      c.extension || "–",
      c.agent || "–",
      outcome(c),
      SB.seconds(c.duration_seconds),
      list(recordings),
      list(contacts),
      list(requests),
    ];
    return SB.el("tr", {}, ...cells.map((cell, n) => SB.el("td", { "data-label": headings[n] }, cell)));
  }

  function show(items, { append, empty }) {
    const body = table.querySelector("tbody");
    if (!append) body.replaceChildren();
    body.append(...items.map(row));
    table.hidden = body.children.length === 0;
    status.textContent = body.children.length === 0 ? empty : `${body.children.length} calls shown.`;
  }

  async function load(append) {
    const v = SB.formJSON(filters);
    const params = { ...SB.dateRange(v), extension: v.extension, status: v.status, agent: v.agent,
      before_id: append ? next : null };
    const result = await SB.api("GET", "/api/calls/log" + SB.query(params));
    if (!result.ok) {
      SB.showProblem(filters, result.data);
      return;
    }
    next = result.data.next_before_id;
    more.hidden = next === null;
    show(result.data.items, { append, empty: "No calls match." });
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    SB.clearErrors(filters);
    load(false);
  });
  more.addEventListener("click", () => load(true));

  search.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = SB.formJSON(search);
    const range = SB.dateRange(SB.formJSON(filters));
    const result = await SB.api("POST", "/api/calls/log/search", { phone: v.phone || "", ...range });
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
    status.textContent = result.data.items.length
      ? `${result.data.items.length} calls from that number.`
      : "No calls from that number.";
  });
  clear.addEventListener("click", () => {
    search.reset();
    clear.hidden = true;
    load(false);
  });

  load(false);
})();
