/* Access and correction requests: the due list, recording one, acknowledging, deciding,
   the export and letters, and corrections. */
"use strict";

(() => {
  const { table, status, resortNote } = SB.byId({
    table: "requests", status: "requests-status", resortNote: "resort-note",
  });
  const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  const which = () => document.querySelector('input[name="which"]:checked').value;
  const STATUS = {
    received: "Received, not yet answered",
    acknowledged: "Acknowledged, decision to come",
    granted: "Granted",
    denied: "Refused",
  };
  const CHANNEL = { mail: "by post", email: "by email", in_person: "in person", phone: "by phone", web: "online" };
  const ASKS = { access: "to see their data", correction: "to correct it" };

  /* A date as people write it: 2 December 2026. */
  function day(iso) {
    if (!iso) return "–";
    const [year, month, date] = iso.split("-").map(Number);
    return new Date(Date.UTC(year, month - 1, date)).toLocaleDateString("en-GB", {
      timeZone: "UTC", day: "numeric", month: "long", year: "numeric",
    });
  }

  function deadline(r) {
    const d = r.next_deadline;
    if (!d) return r.decided_on ? `Decided on ${day(r.decided_on)}` : "–";
    const label = `${d.kind === "answer" ? "Answer" : "Decision"} by ${day(d.due)}`;
    if (d.overdue) return SB.el("strong", { class: "overdue", text: `${label}: overdue` });
    const left = d.business_days_left;
    return `${label} (${left} business day${left === 1 ? "" : "s"} left)`;
  }

  function statusCell(r) {
    const words = [SB.el("span", { text: STATUS[r.status] || r.status })];
    if (r.answered_late) {
      const text = r.answered_on ? `Answered late, on ${day(r.answered_on)}` : "Answer late";
      words.push(SB.el("br"), SB.el("strong", { class: "late-mark", text }));
    }
    return SB.el("span", {}, ...words);
  }

  function documents(r) {
    const base = `/api/privacy/requests/${r.id}`;
    const link = (href, text) => SB.el("a", { href, target: "_blank", rel: "noopener", text });
    const links = [link(`${base}/export.html`, "Export (letter)"), " · ", link(`${base}/export`, "JSON")];
    const letters = { acknowledged: "acknowledgement", granted: "grant", denied: "denial" };
    if (letters[r.status]) links.push(" · ", link(`${base}/letters/${letters[r.status]}`, `${letters[r.status]} letter`));
    links.push(" · ", link(`${base}/letters/amendment`, "amendment rights"));
    return SB.el("span", {}, ...links);
  }

  /* Decisions ask first, in a dialog that says what will happen. */
  const { dialog, confirmForm } = SB.byId({ dialog: "confirm-decision", confirmForm: "confirm-form" });
  const DECISIONS = {
    acknowledge: {
      title: (r) => `Acknowledge ${r.id}?`,
      text: () => "The person is told in writing that their request was received and by when it will be decided.",
      yes: "Acknowledge",
      path: "acknowledge",
      body: (v) => (v.decision_by ? { decision_by: v.decision_by } : {}),
    },
    grant: {
      title: (r) => `Grant ${r.id}?`,
      text: () => "The person gets a copy of everything held about them. This cannot be undone.",
      yes: "Grant access",
      path: "decide",
      body: () => ({ decision: "granted" }),
    },
    deny: {
      title: (r) => `Refuse ${r.id}?`,
      text: () => "The person is told in writing that the request is refused, with your reasons. This cannot be undone.",
      yes: "Refuse",
      path: "decide",
      body: (v) => ({ decision: "denied", reason: v.reason || "" }),
    },
  };
  let pending = null;

  function ask(kind, r, opener) {
    const decision = DECISIONS[kind];
    pending = { decision, r, opener };
    SB.clearErrors(confirmForm);
    confirmForm.reset();
    document.getElementById("confirm-title").textContent = decision.title(r);
    document.getElementById("confirm-text").textContent = decision.text(r);
    document.getElementById("confirm-yes").textContent = decision.yes;
    confirmForm.querySelectorAll("[data-for]").forEach((node) => (node.hidden = node.dataset.for !== kind));
    dialog.showModal();
    const first = confirmForm.querySelector(`[data-for="${kind}"] input, [data-for="${kind}"] textarea`);
    (first || document.getElementById("confirm-no")).focus();
  }

  function closeDialog() {
    dialog.close();
    if (pending && pending.opener && pending.opener.isConnected) pending.opener.focus();
  }

  document.getElementById("confirm-no").addEventListener("click", closeDialog);
  let confirmedByPointer = false;
  document.getElementById("confirm-yes").addEventListener("click", (event) => {
    confirmedByPointer = event.detail > 0;
  });
  confirmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pending) return;
    const { decision, r } = pending;
    const result = await SB.api("POST", `/api/privacy/requests/${r.id}/${decision.path}`,
      decision.body(SB.formJSON(confirmForm)));
    if (!result.ok) {
      SB.showProblem(confirmForm, result.data);
      return;
    }
    // The list waits for the hand that chose: the pointer, if it is over the list now
    // the dialog is gone, or the keyboard's focus, back on the row.
    holdBy = confirmedByPointer ? "pointer" : "focus";
    confirmedByPointer = false;
    dialog.close();
    const under = lastPointer && document.elementFromPoint(lastPointer.x, lastPointer.y);
    pointerInside = Boolean(under && table.contains(under));
    const row = rowOf(result.data.id);
    const cell = row && row.querySelector("td");
    if (cell) cell.focus();
    updated(result.data);
  });

  function actions(r) {
    const open = r.status === "received" || r.status === "acknowledged";
    if (!open) return "–";
    const button = (kind, text) => {
      const node = SB.el("button", { type: "button", class: "secondary small", text,
        "aria-label": `${text} ${r.id}`, "aria-haspopup": "dialog" });
      node.addEventListener("click", () => ask(kind, r, node));
      return node;
    };
    const buttons = [];
    if (r.status === "received") buttons.push(button("acknowledge", "Acknowledge"));
    buttons.push(button("grant", "Grant"), button("deny", "Refuse"));
    return SB.el("span", { class: "keep" }, ...buttons);
  }

  /* The rows as last loaded; a decision changes its row in place, and the list is only
     re-sorted (a decided request leaves the due list) once the pointer has left it (or,
     for a decision made from the keyboard, the focus), so nothing moves under the
     officer's hand; a refresh re-sorts at once. */
  let rows = [];
  let resortWaiting = false;
  let pointerInside = false;
  let focusInside = false;
  let holdBy = null;

  function rowOf(id) {
    return table.querySelector(`tbody tr[data-id="${CSS.escape(id)}"]`);
  }

  function rowFor(r) {
    const cells = [
      SB.el("span", { class: "nowrap", text: r.id }),
      `${day(r.received_on)}, ${CHANNEL[r.channel] || r.channel}`,
      r.kinds.map((k) => ASKS[k] || k).join(" and "),
      statusCell(r),
      deadline(r),
      documents(r),
      actions(r),
    ];
    const tr = SB.el("tr", { "data-id": r.id }, ...cells.map((cell, n) => SB.el("td", { "data-label": headings[n], tabindex: n === 0 ? "-1" : null }, cell)));
    return tr;
  }

  function render() {
    const body = table.querySelector("tbody");
    const shown = which() === "open" ? rows.filter((r) => r.status === "received" || r.status === "acknowledged") : rows;
    body.replaceChildren(...shown.map(rowFor));
    table.hidden = shown.length === 0;
    status.textContent = shown.length === 0
      ? (which() === "open" ? "Nothing is due." : "No requests yet.")
      : `${shown.length} request${shown.length === 1 ? "" : "s"}.`;
    resortWaiting = false;
    holdBy = null;
    resortNote.hidden = true;
  }

  function resortWhenFree() {
    if (!resortWaiting) return;
    if (holdBy === "pointer" ? !pointerInside : !focusInside) load();
  }

  function updated(r) {
    rows = rows.map((old) => (old.id === r.id ? r : old));
    const old = rowOf(r.id);
    if (old) {
      const hadFocus = old.contains(document.activeElement);
      const fresh = rowFor(r);
      old.replaceWith(fresh);
      if (hadFocus) fresh.querySelector("td").focus();
    }
    resortWaiting = true;
    resortNote.hidden = false;
    resortWhenFree();
  }

  table.addEventListener("pointerenter", () => (pointerInside = true));
  table.addEventListener("pointerleave", () => {
    pointerInside = false;
    resortWhenFree();
  });
  let lastPointer = null;
  document.addEventListener("pointermove", (event) => {
    lastPointer = { x: event.clientX, y: event.clientY };
    if (!resortWaiting || dialog.open || table.contains(event.target)) return;
    pointerInside = false;
    resortWhenFree();
  });
  table.addEventListener("focusin", () => (focusInside = true));
  table.addEventListener("focusout", (event) => {
    if (table.contains(event.relatedTarget) || dialog.open) return;
    focusInside = false;
    resortWhenFree();
  });

  const loading = SB.newest();
  async function load() {
    const ticket = loading();
    const result = await SB.api("GET", "/api/privacy/requests" + SB.query({ which: which() }));
    if (!ticket()) return; // the officer chose another view, or a re-sort followed
    if (!result.ok) {
      status.textContent = result.data.detail || "Could not load.";
      return;
    }
    rows = result.data;
    render();
  }

  SB.builders["new-privacy-request"] = (form) => {
    const body = SB.formJSON(form);
    body.kinds = [];
    if (body.kind_access) body.kinds.push("access");
    if (body.kind_correction) body.kinds.push("correction");
    delete body.kind_access;
    delete body.kind_correction;
    return body;
  };
  SB.renderers["new-privacy-request"] = (data, form) => {
    form.reset();
    document.getElementById("record-status").textContent =
      `Recorded ${data.id}; answer due by ${data.respond_by}.`;
    load();
  };

  const correction = document.getElementById("correction");
  correction.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = SB.formJSON(correction);
    const body = { request_id: v.request_id, clear: [] };
    for (const key of ["name", "phone", "email", "address"]) {
      if (v[key]) body[key] = v[key];
      if (v[`clear_${key}`]) body.clear.push(key);
    }
    const result = await SB.api("POST", `/api/privacy/requests/${encodeURIComponent(v.privacy_request || "")}/corrections`, body);
    const done = document.getElementById("correction-status");
    if (!result.ok) {
      SB.showProblem(correction, result.data);
      done.textContent = "";
      return;
    }
    SB.clearErrors(correction);
    correction.reset();
    done.textContent = `Corrected ${result.data.corrected.join(", ")} on ${result.data.request_id}.`;
  });

  document.querySelectorAll('input[name="which"]').forEach((radio) => radio.addEventListener("change", load));
  load();
})();
