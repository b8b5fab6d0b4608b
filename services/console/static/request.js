/* One request's page: its status history (moved on in place), calls, contacts,
   appointments and texts, and booking, moving and cancelling a visit. Every read goes
   through the staff API, which audits it. */
"use strict";

(() => {
  const { root, status } = SB.byId({ root: "request-page", status: "request-status" });
  const id = root.dataset.requestId;
  const services = JSON.parse(root.dataset.services || "{}");
  const statusWords = { open: "Open", in_progress: "In progress", closed: "Closed" };
  const textWords = {
    confirmation: "Confirmation",
    reminder: "Reminder",
    reschedule: "New time",
    cancellation: "Cancellation",
  };
  let current = null;

  const serviceName = (code) => services[code] || code;

  function fact(term, ...value) {
    return [SB.el("dt", { text: term }), SB.el("dd", {}, ...value)];
  }

  function renderSummary(item) {
    const facts = document.getElementById("facts");
    const contact = item.contact;
    const contactText = item.anonymous
      ? "Anonymous: no contact details are kept."
      : contact
        ? [contact.name, SB.phone(contact.phone), contact.email, contact.address].filter(Boolean).join(" · ")
        : "None given.";
    const duplicates = item.possible_duplicates.length
      ? item.possible_duplicates.flatMap((other, index) => [index ? ", " : "", SB.requestLink(other)])
      : ["None."];
    const updates = item.updates && item.updates.length
      ? item.updates.map((u) => `by ${u.channel === "sms" ? "text" : u.channel}${u.withdrawn_at ? " (stopped)" : ""}`).join(", ")
      : "No.";
    facts.replaceChildren(
      ...fact("Service", serviceName(item.service_code)),
      ...fact("Status", statusWords[item.status] || item.status),
      ...fact("Filed", SB.when(item.created_at), ` (by ${item.channel})`),
      ...fact("Where", item.address || "Not given."),
      ...fact("What is the problem", item.description || "–"),
      ...fact("Contact", contactText),
      ...fact("Told of updates", updates),
      ...fact("Possible duplicates", ...duplicates),
    );
    document.getElementById("summary").hidden = false;
  }

  function renderHistory(item) {
    const list = document.getElementById("history");
    list.replaceChildren(
      ...item.history.map((change) =>
        SB.el(
          "li",
          {},
          SB.el("strong", { text: statusWords[change.status] || change.status }),
          ` · ${SB.when(change.changed_at)}`,
          change.note ? SB.el("br") : null,
          change.note ? SB.el("span", { text: change.note }) : null,
          change.note ? SB.el("span", { class: "hint", text: change.public ? " (published)" : " (private note)" }) : null,
        ),
      ),
    );
    const select = document.getElementById("f-status");
    if (select) select.value = item.status;
    document.getElementById("history-section").hidden = false;
  }

  /* Each call as the call taker knows it: when it started, how long it lasted and who
     answered, with the way into its workspace. Each call's read is audited (call.view). */
  function callLine(sid, call) {
    const workspace = SB.el("a", { href: `/console/workspace?call=${encodeURIComponent(sid)}`, text: "open in the workspace" });
    if (!call) return SB.el("li", {}, "A call no longer in the call log · ", workspace);
    const length = call.duration_seconds !== null
      ? `lasted ${SB.seconds(call.duration_seconds)}`
      : call.ended_at ? "length not known" : "still going on";
    return SB.el("li", {},
      SB.el("strong", { text: `Call of ${SB.when(call.started_at)}` }),
      ` · ${length}`,
      ` · ${call.agent ? `answered by ${call.agent}` : "not answered by a call taker"} · `,
      workspace);
  }

  async function renderCalls(item) {
    const calls = document.getElementById("calls");
    document.getElementById("calls-section").hidden = false;
    if (!item.calls.length) {
      calls.replaceChildren(SB.el("li", { text: item.anonymous ? "Anonymous: no call is linked." : "No call is linked." }));
      return;
    }
    calls.replaceChildren(SB.el("li", { class: "hint", text: "Loading the calls…" }));
    const found = await Promise.all(item.calls.map((sid) => SB.api("GET", `/api/calls/${encodeURIComponent(sid)}`)));
    calls.replaceChildren(...item.calls.map((sid, at) => callLine(sid, found[at].ok ? found[at].data : null)));
  }

  async function loadContacts() {
    const list = document.getElementById("contacts");
    if (!list) return;
    const result = await SB.api("POST", "/api/contacts/search", { request_id: id });
    if (!result.ok) {
      list.replaceChildren(SB.el("li", { text: "The contacts could not be loaded." }));
      return;
    }
    list.replaceChildren(
      ...(result.data.items.length
        ? result.data.items.map((contact) =>
            SB.el("li", {},
              `Contact ${contact.id} · ${contact.channel.replace("_", " ")} · ${SB.when(contact.started_at)}`,
              contact.agent ? ` · ${contact.agent}` : "",
              ` · ${contact.resolution ? SB.resolutionName(contact.resolution, { within: true }) : "not wrapped up yet"}`))
        : [SB.el("li", { text: "No contact is linked to this request." })]),
    );
  }

  async function load() {
    const result = await SB.api("GET", `/api/requests/${id}`);
    if (!result.ok) {
      status.textContent = result.status === 404
        ? `There is no request ${id}. Check the number and try again.`
        : `The request could not be loaded: ${result.data.detail || "try again."}`;
      return;
    }
    current = result.data;
    status.textContent = "";
    renderSummary(current);
    renderHistory(current);
    renderCalls(current);
    loadContacts();
    if (visitForm) {
      loadAppointments();
      prefill();
    }
  }

  // -- the status, moved on in place (sent as the console sends its forms) ---------
  SB.builders["status-form"] = (form) => {
    const values = SB.formJSON(form);
    const body = { status: values.status };
    if (values.note) {
      body.note = values.note;
      body.public = Boolean(values.public);
    }
    return body;
  };
  SB.renderers["status-form"] = (data, form) => {
    form.reset();
    current = data;
    renderSummary(current);
    renderHistory(current);
    document.getElementById("status-said").textContent =
      `Now ${(statusWords[current.status] || current.status).toLowerCase()}.`;
  };
  SB.failures["status-form"] = () => {
    document.getElementById("status-said").textContent = "";
  };

  // -- appointments ---------------------------------------------------------------
  // Only those who manage appointments have the section; its elements come with its form.
  const visitForm = document.getElementById("visit-form");
  const visitIds = {
    visitList: "appointments", visitStatus: "appointments-status", preview: "visit-preview",
    parts: "visit-parts", submit: "visit-submit", keepButton: "visit-cancel-edit", title: "visit-title",
  };
  const { visitList, visitStatus, preview, parts, submit, keepButton, title } = visitForm ? SB.byId(visitIds) : {};

  const cityTime = (iso) => {
    const zone = document.querySelector('meta[name="city-tz"]').getAttribute("content");
    const local = new Date(iso).toLocaleString("sv-SE", { timeZone: zone });
    return { date: local.slice(0, 10), time: local.slice(11, 16) };
  };

  function prefill() {
    if (!current || visitForm.elements.appointment_id.value) return;
    if (!visitForm.elements.location.value && current.address) visitForm.elements.location.value = current.address;
    const phone = current.contact && current.contact.phone;
    if (!visitForm.elements.phone.value && phone) visitForm.elements.phone.value = SB.phone(phone);
  }

  function span(values) {
    if (!values.date || !values.start || !values.end) return null;
    return { starts_at: `${values.date}T${values.start}`, ends_at: `${values.date}T${values.end}` };
  }

  function editing() {
    return visitForm.elements.appointment_id.value || null;
  }

  function setMode(appointment) {
    const move = Boolean(appointment);
    visitForm.elements.appointment_id.value = move ? appointment.id : "";
    visitForm.querySelectorAll("[data-booking-only]").forEach((node) => (node.hidden = move));
    title.textContent = move ? `Move visit ${appointment.id}` : "Book a visit";
    submit.textContent = move ? "Move the visit and tell the caller" : "Book and send the confirmation";
    keepButton.hidden = !move;
    SB.clearErrors(visitForm);
    if (move) {
      const start = cityTime(appointment.starts_at);
      visitForm.elements.date.value = start.date;
      visitForm.elements.start.value = start.time;
      visitForm.elements.end.value = cityTime(appointment.ends_at).time;
      visitForm.elements.location.value = appointment.location;
      visitForm.elements.date.focus();
    } else {
      visitForm.reset();
      prefill();
    }
    showPreview();
  }
  keepButton?.addEventListener("click", () => setMode(null));

  let previewAsked = 0;
  async function showPreview() {
    const asked = ++previewAsked;
    const values = SB.formJSON(visitForm);
    const window_ = span(values);
    parts.hidden = true;
    if (!window_ || !values.location) {
      preview.textContent = "Choose the date, times and place to see it.";
      return;
    }
    const result = await SB.api("POST", "/api/appointments/preview", {
      request_id: id,
      location: values.location,
      language: values.language || "en",
      ...window_,
    });
    if (asked !== previewAsked) return; // an answer to what the form held before
    if (!result.ok) {
      preview.textContent = `No preview yet: ${result.data.errors?.[0]?.message || result.data.detail || "check the times and place."}`;
      return;
    }
    preview.textContent = `${result.data.text} (${result.data.characters} characters)`;
    if (result.data.segments > 1) {
      const limit = result.data.encoding === "GSM-7" ? 160 : 70;
      parts.textContent =
        `This text will go as ${result.data.segments} parts: it is longer than the ${limit} characters ` +
        "one text holds" + (result.data.encoding === "UCS-2" ? " with accents or symbols like these" : "") +
        ". The caller may get it in pieces; a shorter place name keeps it to one.";
      parts.hidden = false;
    }
  }
  visitForm?.addEventListener("change", (event) => {
    if (event.target.name !== "consent") showPreview();
  });

  function appointmentItem(appointment) {
    const start = cityTime(appointment.starts_at);
    const when = `${SB.when(appointment.starts_at)} to ${start.date === cityTime(appointment.ends_at).date ? cityTime(appointment.ends_at).time : SB.when(appointment.ends_at)}`;
    const cancelled = appointment.status === "cancelled";
    const said = SB.el("span", { class: "row-note", role: "status" });
    const texts = SB.el("ul", { class: "texts" },
      ...appointment.texts.map((text) =>
        SB.el("li", {},
          SB.el("strong", { text: textWords[text.kind] || text.kind }),
          ` to ${SB.phone(text.to)} · ${text.state}${text.sent_at ? ` ${SB.when(text.sent_at)}` : ""}`,
          SB.el("br"), SB.el("span", { class: "sms small", text: text.body }))));
    const actions = [];
    if (!cancelled) {
      actions.push(SB.el("button", {
        type: "button", class: "secondary small", text: "Move",
        "aria-label": `Move visit ${appointment.id}`,
        onclick: () => setMode(appointment),
      }));
      const confirm = SB.el("button", {
        type: "button", class: "danger small", text: "Yes, cancel it and tell the caller", hidden: true,
        "aria-label": `Yes, cancel visit ${appointment.id} and tell the caller`,
        onclick: SB.oneAtATime(async () => {
          const result = await SB.api("POST", `/api/appointments/${appointment.id}/cancel`);
          if (!result.ok) {
            said.textContent = result.data.detail || "The visit was not cancelled.";
            said.classList.add("error");
            return;
          }
          await loadAppointments();
          visitStatus.textContent = `Visit ${appointment.id} cancelled; the caller is told by text.`;
        }),
      });
      actions.push(SB.el("button", {
        type: "button", class: "secondary small", text: "Cancel",
        "aria-label": `Cancel visit ${appointment.id}`,
        onclick: (event) => {
          confirm.hidden = false;
          event.currentTarget.hidden = true;
          confirm.focus();
        },
      }), confirm);
    }
    return SB.el("li", { class: cancelled ? "appointment cancelled" : "appointment" },
      SB.el("p", {},
        SB.el("strong", { text: appointment.id }),
        ` · ${cancelled ? "cancelled" : "booked"} · ${when} · ${appointment.location} · texts to ${SB.phone(appointment.phone)}`),
      SB.el("p", { class: "actions" }, ...actions, said),
      texts);
  }

  async function loadAppointments() {
    const result = await SB.api("GET", `/api/appointments${SB.query({ request_id: id })}`);
    document.getElementById("appointments-section").hidden = false;
    if (!result.ok) {
      visitStatus.textContent = `The appointments could not be loaded: ${result.data.detail || "try again."}`;
      return;
    }
    const hours = document.getElementById("visit-hours");
    hours.textContent = result.data.visit_hours
      ? `${result.data.department} makes visits ${result.data.visit_hours}.`
      : `${result.data.department} makes visits at any time.`;
    visitList.replaceChildren(...result.data.items.map(appointmentItem));
    const count = result.data.items.length;
    visitStatus.textContent = count ? `${count} ${count === 1 ? "appointment" : "appointments"}.` : "No appointment yet.";
    if (current && current.anonymous) {
      visitForm.hidden = true;
      visitStatus.textContent = "Anonymous: the city holds no number to confirm a visit.";
    }
    // From a caller's conversation, "Move this visit" opens the page ready to move it.
    const asked = /^#move=(AP-[0-9A-Z]{5}-[0-9A-Z]{5})$/.exec(window.location.hash);
    if (asked) {
      history.replaceState(null, "", window.location.pathname);
      const visit = result.data.items.find((item) => item.id === asked[1] && item.status !== "cancelled");
      if (visit) setMode(visit);
    }
  }

  visitForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = SB.formJSON(visitForm);
    const window_ = span(values);
    if (!window_) {
      SB.showProblem(visitForm, { errors: [{ field: "date", message: "Choose the date and the times the visit starts and ends." }] });
      return;
    }
    const moving = editing();
    const missing = [];
    if (!values.location) missing.push({ field: "location", message: "Say where the visit is: an address or a place the crew can find." });
    if (!moving && !values.phone) missing.push({ field: "phone", message: "Type the mobile number the caller wants the texts at." });
    if (missing.length) {
      SB.showProblem(visitForm, { errors: missing });
      return;
    }
    if (!moving && !values.consent) {
      SB.showProblem(visitForm, { errors: [{ field: "consent", message: "Ask the caller whether they agree to get texts about the visit, and tick the box if they do." }] });
      return;
    }
    submit.disabled = true;
    try {
      const result = moving
        ? await SB.api("POST", `/api/appointments/${moving}/reschedule`, { location: values.location, ...window_ })
        : await SB.api("POST", "/api/appointments", {
            request_id: id,
            location: values.location,
            phone: values.phone,
            language: values.language || "en",
            consent: true,
            ...window_,
          });
      if (!result.ok) {
        SB.showProblem(visitForm, result.data);
        return;
      }
      await loadAppointments();
      setMode(null);
      visitStatus.textContent = moving
        ? `Visit ${result.data.id} moved to ${SB.when(result.data.starts_at)}; the caller is told by text.`
        : `Booked ${result.data.id} for ${SB.when(result.data.starts_at)}; the confirmation text is on its way.`;
    } finally {
      submit.disabled = false;
    }
  });

  load();
})();
