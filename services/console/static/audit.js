/* The audit trail for the privacy officer: filters (staff name, action, object, dates),
   newest first, paging back; each entry's detail as named fields; the officer's own
   readings folded into one line per run; the filtered view downloaded as CSV. */
"use strict";

(() => {
  const { form, table, status, more } = SB.byId({
    form: "audit-filters", table: "audit", status: "audit-status", more: "more",
  });
  const me = Number(form.dataset.me);
  const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  const READ = /(^audit\.|\.(read|list|search|view|request_read|request_list)$)/;
  let items = [];
  const opened = new Set();

  function filters() {
    const v = SB.formJSON(form);
    return {
      actor_name: v.actor_name,
      action: v.action,
      object_type: v.object_type,
      object_id: v.object_id,
      ...SB.dateRange(v),
    };
  }

  /* "phone_hash" → "Phone hash"; lists joined; a long hash shortened. */
  const label = (key) => (key.charAt(0).toUpperCase() + key.slice(1)).replace(/_/g, " ");
  function value(v) {
    if (v === null || v === undefined) return "–";
    if (Array.isArray(v)) return v.length ? v.map(value).join(", ") : "none";
    if (typeof v === "object") return Object.entries(v).map(([k, x]) => `${label(k)}: ${value(x)}`).join("; ");
    if (typeof v === "boolean") return v ? "yes" : "no";
    const text = String(v);
    return /^[0-9a-f]{32,}$/.test(text) ? `${text.slice(0, 10)}…` : text;
  }
  function detail(e) {
    const entries = Object.entries(e.detail || {});
    if (e.request_id) entries.push(["request_id", e.request_id]);
    if (!entries.length) return "–";
    return SB.el("dl", { class: "meta detail" },
      ...entries.flatMap(([k, v]) => [SB.el("dt", { text: label(k) }), SB.el("dd", { text: value(v) })]));
  }

  /* An action name (privacy.request_acknowledge) that may break after its dots and
     underscores in a narrow column, and only there. */
  function breakable(text) {
    const parts = text.split(/(?<=[._])/);
    return SB.el("span", {}, ...parts.flatMap((part, n) => (n ? [SB.el("wbr", {}), part] : [part])));
  }

  function who(e) {
    if (!e.actor_name) return "Nobody signed in";
    return e.actor_role ? `${e.actor_name} (${e.actor_role.replace(/_/g, " ")})` : e.actor_name;
  }

  function entryRow(e, extra = {}) {
    const cells = [
      String(e.seq),
      SB.when(e.occurred_at),
      who(e),
      breakable(e.action),
      [e.object_type, e.object_id].filter(Boolean).join(" ") || "–",
      e.outcome,
      detail(e),
    ];
    return SB.el("tr", extra, ...cells.map((c, n) => SB.el("td", { "data-label": headings[n] }, c)));
  }

  const ownRead = (e) => e.actor_id === me && READ.test(e.action);

  function foldRow(run, key) {
    const first = run[run.length - 1];
    const last = run[0];
    const id = `fold-${key}`;
    const open = opened.has(key);
    const button = SB.el("button", {
      type: "button", class: "link", "aria-expanded": open ? "true" : "false", "aria-controls": id,
      text: open ? "Hide them" : "Show them",
    });
    button.addEventListener("click", () => {
      if (opened.has(key)) opened.delete(key);
      else opened.add(key);
      render();
      const again = document.querySelector(`[aria-controls="${id}"]`);
      if (again) again.focus();
    });
    const summary = `Your own ${run.length} readings, ${SB.when(first.occurred_at)} to ${SB.when(last.occurred_at)}`;
    const actions = [...new Set(run.map((e) => e.action))].join(", ");
    return SB.el("tr", { class: "fold" },
      SB.el("td", { "data-label": "Entries" }, `${first.seq}–${last.seq}`),
      SB.el("td", { colspan: "6", "data-label": "Folded" }, SB.el("span", {}, `${summary} (${actions}). `), button));
  }

  function render() {
    const body = table.querySelector("tbody");
    const rows = [];
    let i = 0;
    while (i < items.length) {
      if (!ownRead(items[i])) {
        rows.push(entryRow(items[i]));
        i += 1;
        continue;
      }
      let j = i;
      while (j < items.length && ownRead(items[j])) j += 1;
      const run = items.slice(i, j);
      if (run.length === 1) rows.push(entryRow(run[0]));
      else {
        const key = String(run[run.length - 1].seq);
        rows.push(foldRow(run, key));
        if (opened.has(key)) {
          const id = `fold-${key}`;
          run.forEach((e, n) => rows.push(entryRow(e, { class: "folded", id: n === 0 ? id : null })));
        }
      }
      i = j;
    }
    body.replaceChildren(...rows);
    table.hidden = items.length === 0;
    const n = items.length;
    status.textContent = n === 0 ? "No entries match." : `${n} ${n === 1 ? "entry" : "entries"} shown.`;
  }

  const load = SB.pager({
    form, more, url: "/api/audit", cursor: "before_seq", params: filters,
    show: (page, append) => {
      items = append ? items.concat(page) : page;
      render();
    },
  });

  /* The download goes through the API like every other call (with the session's CSRF
     token), then is handed to the browser as a file. */
  document.getElementById("audit-export").addEventListener("click", async () => {
    const said = document.getElementById("export-status");
    const token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    const response = await fetch("/api/audit/export.csv" + SB.query(filters()), {
      credentials: "same-origin", headers: { "X-CSRF-Token": token, Accept: "text/csv" },
    });
    if (!response.ok) {
      said.textContent = "The download did not work; try again.";
      return;
    }
    const blob = await response.blob();
    const link = SB.el("a", { href: URL.createObjectURL(blob), download: "audit-trail.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    said.textContent = "Downloaded. The download is recorded in the trail.";
  });

  load(false);
})();
