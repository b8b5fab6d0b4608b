/* The console's shared script: calls to the staff API with the session's CSRF token,
   signing in again without leaving the page when the session has ended, drafts of
   unsaved forms kept in this tab's sessionStorage, and forms sent as JSON. */
"use strict";

const SB = (() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`);
  let reauthWaiters = null;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* A page's elements by the names its script gives them: byId({ table: "calls" }) is
     { table: <the element with id "calls"> }. An id the page lacks fails at once, by
     name, rather than as a null somewhere later; an element a page shows only to some
     (an editor's form) is looked up on its own and checked where it is used. */
  function byId(ids) {
    const found = {};
    for (const [name, id] of Object.entries(ids)) {
      found[name] = document.getElementById(id);
      if (!found[name]) throw new Error(`This page has no element with id "${id}" (${name}).`);
    }
    return found;
  }

  function reauth() {
    const dialog = document.getElementById("reauth");
    if (!dialog) {
      window.location.reload();
      return new Promise(() => {});
    }
    if (!reauthWaiters) {
      reauthWaiters = [];
      dialog.showModal();
      dialog.querySelector("#reauth-password").focus();
    }
    return new Promise((resolve) => reauthWaiters.push(resolve));
  }

  async function signIn(body) {
    const response = await fetch("/api/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (response.ok) meta("csrf-token").setAttribute("content", data.csrf_token);
    return { ok: response.ok, status: response.status, data };
  }

  async function api(method, url, body) {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const headers = { Accept: "application/json" };
      const token = meta("csrf-token")?.getAttribute("content");
      if (token) headers["X-CSRF-Token"] = token;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status === 401) {
        await reauth();
        continue;
      }
      const text = await response.text();
      let data = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = { detail: text };
      }
      return { ok: response.ok, status: response.status, data };
    }
    return { ok: false, status: 401, data: { detail: "Not signed in." } };
  }

  function setupReauth() {
    const form = document.getElementById("reauth-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = formJSON(form);
      const result = await signIn(body);
      const error = form.querySelector("[data-form-error]");
      if (!result.ok) {
        error.textContent = (result.data && result.data.detail) || "Sign-in failed.";
        return;
      }
      error.textContent = "";
      form.querySelector("#reauth-password").value = "";
      form.querySelector("#reauth-totp").value = "";
      document.getElementById("reauth").close();
      const waiters = reauthWaiters || [];
      reauthWaiters = null;
      waiters.forEach((resolve) => resolve());
    });
  }

  /* Form fields to JSON: dotted names nest, checkboxes are booleans, numbers are numbers,
     empty and disabled fields are left out. */
  function formJSON(form) {
    const out = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.type === "submit" || field.type === "button") {
        continue;
      }
      if (field.type === "radio" && !field.checked) continue;
      let value;
      if (field.type === "checkbox") value = field.checked;
      else if (field.type === "number") value = field.value === "" ? null : Number(field.value);
      else value = field.value.trim() === "" ? null : field.value.trim();
      if (value === null) continue;
      const parts = field.name.split(".");
      let target = out;
      for (const part of parts.slice(0, -1)) target = target[part] = target[part] || {};
      target[parts[parts.length - 1]] = value;
    }
    return out;
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach((node) => (node.textContent = ""));
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    const general = form.querySelector("[data-form-error]");
    if (general) general.textContent = "";
  }

  /* Problem details shown by the field they name, or at the form when none matches. */
  function showProblem(form, problem) {
    clearErrors(form);
    let shownAll = true;
    let first = null;
    for (const error of (problem && problem.errors) || []) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(error.field)}"]`);
      if (!slot) {
        shownAll = false;
        continue;
      }
      slot.textContent = error.message;
      const input = form.querySelector(`[name="${CSS.escape(error.field)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    }
    if (!shownAll || !(problem && problem.errors && problem.errors.length)) {
      const general = form.querySelector("[data-form-error]");
      if (general) {
        general.textContent =
          (problem && (problem.detail || problem.title)) || "That did not work; try again.";
      }
    }
    if (first) first.focus();
  }

  /* Drafts: what is typed into a form marked data-draft is kept in this tab until sent,
     under the form's scope (data-draft-scope: the call it is for), so one caller's draft
     never comes back in another caller's form. Fields marked data-draft-skip (the call
     itself) are never kept: the address says which call a form is for. A restored draft
     says so, with a button that discards it. */
  function draftKey(form) {
    const scope = form.dataset.draftScope;
    return "draft:" + form.dataset.draft + (scope ? ":" + scope : "");
  }

  function saveDraft(form) {
    if (form.dataset.restoring) return;
    const values = {};
    for (const field of form.elements) {
      if (!field.name || field.type === "password" || "draftSkip" in field.dataset) continue;
      if (field.type === "checkbox") values[field.name] = field.checked;
      else if (field.type === "radio") {
        if (field.checked) values[field.name] = field.value;
      } else values[field.name] = field.value;
    }
    sessionStorage.setItem(draftKey(form), JSON.stringify({ saved_at: Date.now(), values }));
  }

  /* Empty a form: reset() leaves hidden fields as they are (their value is their default). */
  function emptyForm(form) {
    form.reset();
    form.querySelectorAll('input[type="hidden"][name]').forEach((field) => (field.value = ""));
  }

  function dropDraftNotice(form) {
    form.querySelectorAll(".draft-notice").forEach((notice) => notice.remove());
  }

  function draftNotice(form, savedAt) {
    const time = savedAt
      ? new Date(savedAt).toLocaleTimeString("en-US", {
          timeZone: meta("city-tz").getAttribute("content"), timeStyle: "short",
        })
      : null;
    const scope = form.dataset.draftScope || "";
    const what = scope.startsWith("CT-") ? "for this contact" : scope ? "for this call" : "in this form";
    const notice = el("div", { class: "notice draft-notice", role: "status" },
      el("p", { text: `Restored what you typed earlier ${what}${time ? ` (at ${time})` : ""}. Check it before you send it.` }),
      el("button", {
        type: "button", class: "secondary small", text: "Discard the draft",
        onclick: () => {
          clearDraft(form);
          dropDraftNotice(form);
          emptyForm(form);
          form.dispatchEvent(new CustomEvent("draft-discarded"));
          const first = form.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
          if (first) first.focus();
        },
      }));
    form.prepend(notice);
  }

  /* Restore the draft of the form's scope; returns whether there was one. */
  function restoreDraft(form) {
    dropDraftNotice(form);
    const saved = sessionStorage.getItem(draftKey(form));
    if (!saved) return false;
    const stored = JSON.parse(saved);
    const values = stored && stored.values ? stored.values : stored;
    form.dataset.restoring = "1";
    try {
      for (const field of form.elements) {
        if (!field.name || !(field.name in values) || "draftSkip" in field.dataset) continue;
        if (field.type === "checkbox") field.checked = Boolean(values[field.name]);
        else if (field.type === "radio") field.checked = values[field.name] === field.value;
        else field.value = values[field.name];
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } finally {
      delete form.dataset.restoring;
    }
    draftNotice(form, stored && stored.saved_at);
    return true;
  }

  /* The form now serves another scope (another call): what is typed stays with the old
     one, the form is emptied, and the new scope's own draft, if any, comes back. */
  function scopeDraft(form, scope) {
    dropDraftNotice(form);
    emptyForm(form);
    form.dataset.draftScope = scope || "";
    const restored = restoreDraft(form);
    form.dispatchEvent(new CustomEvent("draft-scoped"));
    return restored;
  }

  function clearDraft(form) {
    if ("draft" in form.dataset) sessionStorage.removeItem(draftKey(form));
    dropDraftNotice(form);
  }

  const builders = {};
  const renderers = {};
  const failures = {};  // form id -> what to undo on the page when its send is refused

  function setupForms() {
    document.querySelectorAll("form[data-draft]").forEach((form) => {
      restoreDraft(form);
      form.addEventListener("input", () => saveDraft(form));
      form.addEventListener("change", () => saveDraft(form));
    });
    document.querySelectorAll("form[data-api]").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const button = form.querySelector('button[type="submit"]');
        const build = builders[form.id];
        const body = build ? build(form) : formJSON(form);
        if (body === null) return;
        // Disabled while it is sent; enabled again before the page shows the answer, so
        // a renderer may leave it disabled (nothing left to send).
        button.disabled = true;
        let result;
        try {
          result = await api(form.dataset.method || "POST", form.dataset.api, body);
        } finally {
          button.disabled = false;
        }
        if (!result.ok) {
          showProblem(form, result.data);
          if (failures[form.id]) failures[form.id](result.data, form);
          return;
        }
        clearErrors(form);
        // A form that only previews (data-draft-until-sent) keeps its draft: its page
        // clears it once what was previewed is sent.
        if ("draftUntilSent" in form.dataset) dropDraftNotice(form);
        else clearDraft(form);
        if (renderers[form.id]) renderers[form.id](result.data, form);
      });
    });
    document.querySelectorAll("form[data-sign-out]").forEach((form) => {
      form.addEventListener("submit", () => sessionStorage.clear());
    });
  }

  /* A date from a date field as the start of that day in the city's time zone. */
  function cityMidnight(isoDate, dayOffset = 0) {
    const zone = meta("city-tz").getAttribute("content");
    const [year, month, day] = isoDate.split("-").map(Number);
    const guess = new Date(Date.UTC(year, month - 1, day + dayOffset, 12));
    const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(guess)
      .find((part) => part.type === "timeZoneName").value;
    const offset = name === "GMT" ? "+00:00" : name.replace("GMT", "");
    const date = new Date(Date.UTC(year, month - 1, day + dayOffset)).toISOString().slice(0, 10);
    return `${date}T00:00:00${offset}`;
  }

  function when(iso) {
    if (!iso) return "–";
    const zone = meta("city-tz").getAttribute("content");
    return new Date(iso).toLocaleString("en-US", {
      timeZone: zone,
      dateStyle: "medium",
      timeStyle: "short",
    });
  }

  function seconds(value) {
    if (value === null || value === undefined) return "–";
    const total = Math.round(value);
    return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
  }

  /* A number as people read it: (202) 555-0190 for a North American number, else as
     stored (E.164); "Number withheld" plainly when there is none. */
  function phone(e164) {
    if (!e164) return "Number withheld";
    const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
    return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : e164;
  }

  /* A request number as a link to the request's page. */
  function requestLink(id) {
    return el("a", { href: `/console/requests/${encodeURIComponent(id)}`, class: "nowrap", text: id });
  }

  /* Each column's heading, for its cells' data-label (a table.stacked shows it beside the
     cell when the table becomes stacked rows on a narrow screen); a heading only screen
     readers see (a column of buttons) gives none. */
  function columnLabels(table) {
    return [...table.querySelectorAll("thead th")].map((th) => {
      const shown = [...th.childNodes].filter((node) => !(node.classList && node.classList.contains("visually-hidden")));
      return shown.map((node) => node.textContent).join("").trim() || null;
    });
  }

  /* For a list loaded again as its filters change: each load takes a ticket from the
     function ``newest()`` returns and applies its answer only while ``ticket()`` is
     still true, so an older, slower answer never replaces the one asked for last. */
  function newest() {
    let asked = 0;
    return () => {
      const mine = ++asked;
      return () => mine === asked;
    };
  }

  /* A click handler that sends once however often it is clicked: its button is disabled
     while ``handler`` runs (a disabled button takes no clicks, so a double click sends
     one request) and enabled again after it, unless the handler answers true: it is
     done, and there is nothing left for the button to send. */
  function oneAtATime(handler) {
    return async (event) => {
      const button = event.currentTarget;
      if (button.disabled) return;
      button.disabled = true;
      let done = false;
      try {
        done = (await handler(event)) === true;
      } finally {
        if (!done) button.disabled = false;
      }
    };
  }

  /* Rows into a table's body; ``cells`` turns an item into the row's cells. */
  function fillTable(table, status, items, cells, { append = false, empty = "Nothing found." } = {}) {
    const body = table.querySelector("tbody");
    const labels = columnLabels(table);
    if (!append) body.replaceChildren();
    for (const item of items) {
      body.append(el("tr", {}, ...cells(item).map((c, i) => el("td", { "data-label": labels[i] }, c))));
    }
    table.hidden = body.children.length === 0;
    status.textContent = body.children.length === 0 ? empty : `${body.children.length} shown.`;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") search.set(key, value);
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  /* A filter form's local dates as the API takes them: from the first day's midnight in
     the city to the midnight after the last. */
  function dateRange(values) {
    return {
      since: values.since ? cityMidnight(values.since) : null,
      until: values.until ? cityMidnight(values.until, 1) : null,
    };
  }

  /* What the public feed may show of the description: nothing until someone has read
     it and published it (PUBLIC_TEXT=reviewed); the feed still filters what is published. */
  function publicDescription(item) {
    const id = `public-${item.id}`;
    const text = el("textarea", {
      id, rows: 2, cols: 24, "aria-label": `Public description of ${item.id}`,
      placeholder: "Not published",
    });
    text.value = item.public_description ?? "";
    const said = el("span", { class: "row-note", role: "status" });
    const send = async (value) => {
      const result = await api("PUT", `/api/requests/${item.id}/public-description`, { text: value });
      said.classList.toggle("error", !result.ok);
      said.textContent = result.ok
        ? (value ? "Published." : "Withdrawn.")
        : (result.data.errors?.[0]?.message || result.data.detail || "Not saved.");
      if (result.ok) text.value = result.data.public_description ?? "";
    };
    const copy = el("button", {
      type: "button", class: "secondary small", text: "Start from description",
      onclick: () => { text.value = item.description; text.focus(); },
    });
    const publish = el("button", {
      type: "button", class: "small", text: "Publish", "aria-label": `Publish the public description of ${item.id}`,
      onclick: () => send(text.value.trim() || null),
    });
    const withdraw = el("button", {
      type: "button", class: "secondary small", text: "Withdraw", "aria-label": `Withdraw the public description of ${item.id}`,
      onclick: () => send(null),
    });
    return el("span", { class: "keep" },
      el("small", { text: "Anyone can read what you publish here." }), text, copy, publish, withdraw, said);
  }

  /* A list read page by page, newest first, as its filter ``form`` asks: ``params()``
     gives the filters as the query and ``show(items, append)`` shows a page, the first
     or one more; the ``more`` button asks for the page before the last one shown,
     passing the page's "next_<cursor>" back as ``cursor``. Returns ``load(append)``.
     A page that fills the same list some other way (a search) passes the ``loading``
     it takes its own tickets from, so the last asked wins either way. */
  function pager({ form, more, url, cursor, params, show, loading = newest() }) {
    let next = null;
    async function load(append) {
      const ticket = loading();
      const result = await api("GET", url + query({ ...params(), [cursor]: append ? next : null }));
      if (!ticket()) return;
      if (!result.ok) {
        showProblem(form, result.data);
        return;
      }
      next = result.data[`next_${cursor}`];
      more.hidden = next === null;
      show(result.data.items, append);
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearErrors(form);
      load(false);
    });
    more.addEventListener("click", () => load(true));
    return load;
  }

  /* A pager into a table: the form's filters (``filters`` turns its fields into the
     query), the table ``id`` with its status line "<id>-status", and the #more button. */
  function pagedList({ form, id, url, cursor, filters, cells, empty }) {
    const { filterForm, table, status, more } = byId({
      filterForm: form, table: id, status: `${id}-status`, more: "more",
    });
    const load = pager({
      form: filterForm, more, url, cursor,
      params: () => filters(formJSON(filterForm)),
      show: (items, append) => fillTable(table, status, items, cells, { append, empty }),
    });
    load(false);
  }

  /* A service by its name (the page lists the catalogue in #service-names). */
  function serviceName(code) {
    if (!code) return "";
    const option = document.querySelector(`#service-names [data-code="${CSS.escape(code)}"]`);
    return option ? option.textContent : code;
  }

  /* The screen pop's event stream: one per page, shared by the call bar and the page's
     own script, since the server audits every ring it sends (one ring, one entry).
     ``handlers`` names what to do on "status", "ring", "answered" and "ended" (given the
     event's data), on "error" (the stream is reconnecting) and on "signedOut" (the
     session ended; the stream is closed). A script that subscribes late is first told
     what this connection has said so far, so it misses no call already ringing. */
  const callEventNames = ["status", "ring", "answered", "ended"];
  let callStream = null;

  function callEvents(handlers) {
    if (!callStream) {
      const source = new EventSource("/console/events");
      const stream = { source, heard: [], subscribers: [] };
      for (const name of callEventNames) {
        source.addEventListener(name, (event) => {
          const data = JSON.parse(event.data);
          if (name === "status") stream.heard = []; // a new connection starts afresh
          stream.heard.push([name, data]);
          for (const subscriber of stream.subscribers) subscriber[name]?.(data);
        });
      }
      source.addEventListener("error", async () => {
        for (const subscriber of stream.subscribers) subscriber.error?.();
        const check = await fetch("/api/session", { credentials: "same-origin" });
        if (check.status !== 401 || source.readyState === EventSource.CLOSED) return;
        source.close();
        for (const subscriber of stream.subscribers) subscriber.signedOut?.();
      });
      window.addEventListener("pagehide", () => source.close());
      callStream = stream;
    }
    for (const [name, data] of callStream.heard) handlers[name]?.(data);
    callStream.subscribers.push(handlers);
  }

  /* A contact's outcome in words (the page lists the contact log's in #resolution-names),
     as a sentence starts it, or within one with ``{ within: true }``. */
  function resolutionName(code, { within = false } = {}) {
    if (!code) return "";
    const option = document.querySelector(`#resolution-names [data-code="${CSS.escape(code)}"]`);
    const words = option ? option.textContent : code.replaceAll("_", " ");
    return within ? words.charAt(0).toLowerCase() + words.slice(1) : words;
  }

  // The agent's presence, in the navigation: only "available" agents are offered calls.
  async function setupPresence() {
    const select = document.querySelector("[data-presence]");
    if (!select) return;
    const since = document.querySelector("[data-presence-since]");
    const show = (data) => {
      select.value = data.state;
      since.textContent = data.since ? `since ${when(data.since)}` : "";
    };
    // Listen first: a choice made while the current state loads is not lost.
    let chosen = false;
    select.addEventListener("change", async () => {
      chosen = true;
      const changed = await api("PUT", "/api/me/presence", { state: select.value });
      if (changed.ok) show(changed.data);
    });
    const current = await api("GET", "/api/me/presence");
    if (current.ok && !chosen) show(current.data);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupReauth();
    setupForms();
    setupPresence();
  });

  return {
    api, el, byId, formJSON, showProblem, clearErrors, builders, renderers, failures, signIn, reauth,
    cityMidnight, when, seconds, newest, oneAtATime, fillTable, columnLabels, query, clearDraft, scopeDraft, dateRange,
    pager, pagedList, publicDescription, serviceName, resolutionName, phone, requestLink, callEvents,
  };
})();
