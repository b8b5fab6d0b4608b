/* The call taker's workspace: one call at a time, in place. A ringing call opens here by
   itself when nothing else is open (or is offered with one button when the agent is busy
   with another); the caller's history, the knowledge base, the request form and the
   wrap-up follow the call without a page load. What is typed is kept per call. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { status, requestForm, wrapForm, callField } = SB.byId({
    status: "ws-status", requestForm: "ws-request-form",
    wrapForm: "ws-wrap-form", callField: "ws-call_sid",
  });
  const CALL = /^CA[0-9a-fA-F]{32}$/;
  const CONTACT = /^CT-[0-9A-Z]{5}-[0-9A-Z]{5}$/;
  const services = new Map(); // code -> service, active ones
  const ringing = new Map(); // call SID -> the ring event's data
  const done = new Set(); // calls wrapped up in this tab
  let extensionNote = "Connecting…";
  // The call open here, or (``contact``, no ``sid``) a contact logged by hand: a walk-in,
  // an email or a text, handled as a call is.
  let current = { sid: "", contact: null, caller: null, wrapped: false, ended: false };

  const callInAddress = () => {
    const sid = new URLSearchParams(window.location.search).get("call") || "";
    return CALL.test(sid) ? sid : "";
  };
  const contactInAddress = () => {
    const id = new URLSearchParams(window.location.search).get("contact") || "";
    return !callInAddress() && CONTACT.test(id) ? id : "";
  };
  // Something is open and not yet wrapped up: a ringing call is offered, not forced.
  const busy = () => Boolean(current.sid || current.contact) && !current.wrapped;
  const list = (text) => (text || "").split(",").map((part) => part.trim()).filter(Boolean);
  const serviceName = (code) => services.get(code)?.name || SB.serviceName(code);
  const changed = (form) => form.dispatchEvent(new Event("change")); // keeps the draft

  // Before console.js restores drafts (on DOMContentLoaded): this call's (contact's) own.
  requestForm.dataset.draftScope = callInAddress() || contactInAddress();
  wrapForm.dataset.draftScope = callInAddress() || contactInAddress();

  /* -- the caller ------------------------------------------------------------------- */

  function section(title, items, render, empty) {
    const heading = SB.el("h3", { text: `${title} (${items.length})` });
    if (!items.length) return [heading, SB.el("p", { class: "hint", text: empty })];
    return [heading, SB.el("ul", { class: "ws-list" }, ...items.map((item) => SB.el("li", {}, ...render(item))))];
  }

  const words = (text) => (text || "").replaceAll("_", " ");

  function showCaller(data) {
    $("ws-number").textContent = data.withheld
      ? "Number withheld"
      : data.number_for_people || "Number not available";
    $("ws-call-meta").textContent =
      `Call started ${SB.when(data.started_at)}` +
      (data.extension ? ` · extension ${data.extension}` : "") +
      (data.ended ? " · ended" : "");
    const history = $("ws-history");
    if (data.withheld) {
      history.replaceChildren(SB.el("p", { text: "The caller withheld their number, so their earlier requests cannot be looked up by it. Ask for their details if they want to be reached." }));
      return;
    }
    history.replaceChildren(
      ...section("Earlier requests", data.requests, (item) => [
        SB.el("a", { href: `/console/requests/${item.id}`, text: item.id }),
        ` ${item.service_name} · ${words(item.status)} · ${SB.when(item.created_at)}`,
        item.address ? ` · ${item.address}` : "",
        item.description ? SB.el("span", { class: "hint block", text: item.description }) : null,
      ], "No earlier requests from this number."),
      ...section("Contacts", data.contacts, (item) => [
        `${SB.when(item.started_at)} · ${words(item.channel)}${item.direction === "outbound" ? " (we called)" : ""}`,
        item.resolution ? ` · ${SB.resolutionName(item.resolution, { within: true })}` : " · not wrapped up",
        item.request_ids.length ? ` · ${item.request_ids.join(", ")}` : "",
      ], "No earlier contacts."),
      ...section("Appointments", data.appointments, (item) => [
        `${SB.when(item.starts_at)} · ${item.department} · ${words(item.status)}`,
        item.request_id ? ` · ${item.request_id}` : "",
      ], "No appointments."),
      ...section("Texts", data.texts, (item) => [
        `${SB.when(item.at)} · ${item.direction === "to_caller" ? `to the caller (${words(item.state)})` : "from the caller"}: `,
        SB.el("span", { text: item.body }),
      ], "No texts."),
    );
  }

  function showIdle() {
    $("ws-number").textContent = "No call open";
    $("ws-call-meta").textContent = "Calls that ring for you open here by themselves.";
    $("ws-history").replaceChildren();
  }

  const channelWords = () => Object.fromEntries([...$("ws-start-channel").options].map((o) => [o.value, o.textContent]));

  function showContact(contact) {
    $("ws-number").textContent = `${channelWords()[contact.channel] || words(contact.channel)} · ${contact.id}`;
    $("ws-call-meta").textContent = `Started ${SB.when(contact.started_at)}` + (contact.wrapped_up_at ? " · wrapped up" : "");
    $("ws-history").replaceChildren(SB.el("p", { class: "hint", text: "Not on a call, so there is no number to look the person up by: find their earlier requests under “Find requests” if they want." }));
  }

  /* -- which call the page is for ----------------------------------------------------- */

  function say() {
    if (!current.sid && !current.contact) status.textContent = extensionNote;
    else if (current.wrapped) status.textContent = "Wrapped up. The next call opens here by itself.";
    else if (current.contact) status.textContent = "A contact is open here: wrap it up when you are done.";
    else if (current.ended) status.textContent = "The call has ended: wrap it up.";
    else if (ringing.has(current.sid)) status.textContent = "This call is open here.";
    else status.textContent = "Showing this call.";
    $("ws-start").hidden = busy(); // the next person may be at the counter
    offer();
  }

  function nextRinging() {
    for (const sid of ringing.keys()) if (sid !== current.sid && !done.has(sid)) return sid;
    return null;
  }

  function offer() {
    const box = $("ws-offer");
    const sid = nextRinging();
    box.hidden = !sid || !busy();
    if (box.hidden) return;
    const data = ringing.get(sid);
    $("ws-offer-text").textContent = `Another call is ringing: ${data.caller_withheld ? "number withheld" : data.from_number_for_people || "number not available"}.`;
    $("ws-offer-open").dataset.callSid = sid;
  }

  /* Everything the last call or contact left on the page goes; ``scope`` is the new one's. */
  function freshPage(scope, rescope) {
    if (rescope) {
      SB.scopeDraft(requestForm, scope);
      SB.scopeDraft(wrapForm, scope);
    }
    callField.value = current.sid;
    forgetAnswers();
    $("ws-filed").replaceChildren();
    $("ws-wrapped").textContent = "";
    $("ws-duplicates").hidden = true;
    SB.clearErrors(requestForm);
    SB.clearErrors(wrapForm);
    applyAnonymous();
    showTopics();
    showRequests();
    showService();
    $("ws-start").hidden = true;
  }

  async function openCall(sid, { push = true, rescope = true } = {}) {
    current = { sid, contact: null, caller: null, wrapped: done.has(sid), ended: false };
    if (push) {
      window.history.pushState({ call: sid }, "", sid ? `?call=${sid}` : window.location.pathname);
    }
    freshPage(sid, rescope);
    if (!sid) {
      showIdle();
      reuse(null);
      say();
      return;
    }
    $("ws-number").textContent = "Looking up the caller…";
    $("ws-call-meta").textContent = "";
    $("ws-history").replaceChildren();
    const result = await SB.api("GET", `/api/contacts/caller/${sid}`);
    if (current.sid !== sid) return; // another call was opened meanwhile
    if (!result.ok) {
      $("ws-number").textContent = "This call is not in the call log.";
      say();
      return;
    }
    const data = result.data;
    current.caller = data;
    current.ended = data.ended;
    current.wrapped = current.wrapped || Boolean(data.contact && data.contact.wrapped_up_at);
    showCaller(data);
    prefill(data);
    reuse(data.requests[0] || null);
    say();
  }

  /* A contact logged by hand (``contact``, its record) opens as a call does. */
  function openContact(contact, { push = true, rescope = true } = {}) {
    current = { sid: "", contact: contact.id, caller: null, wrapped: Boolean(contact.wrapped_up_at), ended: false };
    if (push) window.history.pushState({ contact: contact.id }, "", `?contact=${contact.id}`);
    freshPage(contact.id, rescope);
    showContact(contact);
    reuse(null);
    say();
  }

  $("ws-start").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector('button[type="submit"]');
    SB.clearErrors(form);
    button.disabled = true;
    try {
      const started = await SB.api("POST", "/api/contacts", { channel: form.elements.channel.value });
      if (!started.ok) {
        SB.showProblem(form, started.data);
        return;
      }
      openContact(started.data);
      document.dispatchEvent(new Event("sb:presence")); // busy while serving someone here
      requestForm.querySelector("input:not([type=hidden]):not([disabled])").focus();
    } finally {
      button.disabled = false;
    }
  });

  async function openContactInAddress(id, options) {
    const found = await SB.api("GET", `/api/contacts/${id}`);
    if (found.ok) openContact(found.data, options);
    else await openCall("", options);
  }

  /* -- the knowledge base ------------------------------------------------------------ */

  const kb = { asked: 0, timer: null, shown: null };
  const language = $("ws-kb-language");

  async function searchAnswers() {
    const q = $("ws-q").value;
    const mine = ++kb.asked;
    const results = $("ws-kb-results");
    const said = $("ws-kb-status");
    if (!q.trim()) {
      results.replaceChildren();
      said.textContent = "Type to search.";
      return;
    }
    const result = await SB.api("GET", "/api/kb/articles" + SB.query({ q, language: language.value, limit: 8 }));
    if (mine !== kb.asked) return;
    if (!result.ok) {
      results.replaceChildren();
      said.textContent = result.data?.detail || "The search did not work.";
      return;
    }
    results.replaceChildren(...result.data.items.map((article) => SB.el("li", {},
      SB.el("button", { type: "button", class: "link", onclick: () => showAnswer(article, true) }, article.title),
      SB.el("span", { class: "hint", text: ` ${article.department}${article.service_code ? " · request: " + serviceName(article.service_code) : ""}` }))));
    const count = result.data.items.length;
    const corrected = Object.entries(result.data.corrections || {});
    said.textContent = (count ? `${count} ${count === 1 ? "answer" : "answers"}.` : "No answers found.") +
      (corrected.length ? ` Searched for ${corrected.map(([typed, used]) => `“${used}” (you typed “${typed}”)`).join(", ")}.` : "");
  }

  function showAnswer(article, chosen) {
    kb.shown = article;
    $("ws-kb-article-title").textContent = article.title;
    $("ws-kb-article-meta").textContent = `${article.department}` +
      (article.languages.includes(language.value) ? "" : " · not written in this language yet");
    $("ws-kb-article-body").replaceChildren(...article.body.split(/\n{2,}/).map((para) => SB.el("p", { text: para })));
    const offered = article.service_code && services.has(article.service_code);
    $("ws-kb-article-service").hidden = !offered;
    $("ws-kb-article-service-name").textContent = offered ? serviceName(article.service_code) : "";
    $("ws-kb-article").hidden = false;
    if (chosen) {
      addTopic(article.code, article.title);
      $("ws-kb-article").focus();
    }
  }

  /* Another call: the last caller's question and answer go. */
  function forgetAnswers() {
    kb.asked += 1;
    kb.shown = null;
    $("ws-q").value = "";
    $("ws-kb-results").replaceChildren();
    $("ws-kb-status").textContent = "Type to search.";
    $("ws-kb-article").hidden = true;
  }

  $("ws-q").addEventListener("input", () => {
    clearTimeout(kb.timer);
    kb.timer = setTimeout(searchAnswers, 150);
  });
  $("ws-kb-search").addEventListener("submit", (event) => { event.preventDefault(); searchAnswers(); });
  language.addEventListener("change", async () => {
    await searchAnswers();
    if (!kb.shown) return;
    const result = await SB.api("GET", `/api/kb/articles/${encodeURIComponent(kb.shown.code)}` + SB.query({ language: language.value }));
    if (result.ok) showAnswer(result.data, false);
  });
  $("ws-kb-use-service").addEventListener("click", () => {
    if (kb.shown && kb.shown.service_code) chooseService(kb.shown.service_code);
    $("ws-service").focus();
  });

  /* -- the service picker: a combobox over names, keywords and answers ---------------- */

  const picker = { input: $("ws-service"), box: $("ws-service-options"), options: [], active: -1, asked: 0, timer: null };

  function showService() {
    const code = $("f-service_code").value;
    picker.input.value = code && services.has(code) ? `${serviceName(code)} (${services.get(code).department})` : "";
  }

  function chooseService(code) {
    $("f-service_code").value = code;
    $("ws-service-status").textContent = "";
    showService();
    closeOptions();
    changed(requestForm);
    checkDuplicates();
  }

  function closeOptions() {
    picker.box.hidden = true;
    picker.input.setAttribute("aria-expanded", "false");
    picker.input.removeAttribute("aria-activedescendant");
    picker.active = -1;
  }

  function highlight(index) {
    const items = picker.box.querySelectorAll('[role="option"]');
    if (!items.length) return;
    picker.active = (index + items.length) % items.length;
    items.forEach((item, at) => item.setAttribute("aria-selected", String(at === picker.active)));
    const chosen = items[picker.active];
    picker.input.setAttribute("aria-activedescendant", chosen.id);
    chosen.scrollIntoView({ block: "nearest" });
  }

  function matches(service, words) {
    const text = [service.name, service.department, service.group, ...(service.keywords || [])].join(" ").toLowerCase();
    return words.every((word) => text.includes(word));
  }

  // ``final`` is false for the names matched here while the answers are still being
  // searched: an empty list then leaves what is shown. Whatever is highlighted stays
  // highlighted when the list is redrawn, so a quick typist's arrow and Enter choose what
  // they saw even when a later search answers in between.
  function showOptions(found, final = true) {
    if (!found.length && !final) return;
    const current = picker.active >= 0 ? picker.options[picker.active] : null;
    picker.options = found;
    picker.box.replaceChildren(...found.map((option, index) => SB.el("li", {
      id: `ws-service-option-${index}`, role: "option", "aria-selected": "false",
      onmousedown: (event) => event.preventDefault(), // keep focus in the input
      onclick: () => chooseService(option.code),
    }, SB.el("span", { text: serviceName(option.code) }),
      SB.el("span", { class: "hint", text: option.why ? ` · ${option.why}` : ` · ${services.get(option.code).department}` }))));
    $("ws-service-status").textContent = found.length
      ? `${found.length} ${found.length === 1 ? "service matches" : "services match"}: arrow keys to move, Enter to choose.`
      : "No service matches: try another word.";
    if (!found.length) {
      closeOptions();
      return;
    }
    picker.box.hidden = false;
    picker.input.setAttribute("aria-expanded", "true");
    picker.active = -1;
    picker.input.removeAttribute("aria-activedescendant");
    const kept = current ? found.findIndex((option) => option.code === current.code) : -1;
    if (kept >= 0) highlight(kept);
  }

  async function suggest() {
    const typed = picker.input.value.trim().toLowerCase();
    const mine = ++picker.asked;
    if (!typed) { closeOptions(); return; }
    const words = typed.split(/\s+/);
    const found = [...services.values()].filter((service) => matches(service, words))
      .map((service) => ({ code: service.code, why: null }));
    showOptions(found.slice(0, 8), false);
    const answers = await SB.api("GET", "/api/kb/articles" + SB.query({ q: typed, language: "en", limit: 5 }));
    if (mine !== picker.asked) return;
    if (!answers.ok) { showOptions(found.slice(0, 8)); return; }
    const seen = new Set(found.map((option) => option.code));
    for (const article of answers.data.items) {
      if (!article.service_code || seen.has(article.service_code) || !services.has(article.service_code)) continue;
      seen.add(article.service_code);
      found.push({ code: article.service_code, why: `from the answer “${article.title}”` });
    }
    showOptions(found.slice(0, 10));
  }

  picker.input.addEventListener("input", () => {
    $("f-service_code").value = "";
    changed(requestForm);
    clearTimeout(picker.timer);
    picker.timer = setTimeout(suggest, 120);
  });
  picker.input.addEventListener("keydown", (event) => {
    const open = !picker.box.hidden && picker.options.length;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (picker.box.hidden) suggest(); else if (open) highlight(picker.active + 1);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(picker.active - 1);
    } else if (event.key === "Enter" && !picker.box.hidden) {
      event.preventDefault(); // choosing is not sending the form
      const option = picker.options[picker.active >= 0 ? picker.active : 0];
      if (option) chooseService(option.code);
    } else if (event.key === "Escape" && !picker.box.hidden) {
      event.preventDefault();
      closeOptions();
    }
  });
  picker.input.addEventListener("blur", () => setTimeout(closeOptions, 150));
  $("f-service_code").addEventListener("change", showService);

  /* -- the request: prefill, duplicates, filing ----------------------------------------- */

  const anonymous = $("ws-anonymous");
  function applyAnonymous() {
    const on = anonymous.checked;
    $("ws-anonymous-note").hidden = !on;
    $("ws-contact").hidden = on;
    $("ws-contact").querySelectorAll("input, textarea, select").forEach((field) => (field.disabled = on));
    callField.disabled = on;
  }
  anonymous.addEventListener("change", applyAnonymous);

  function prefill(data) {
    const phone = requestForm.elements["contact.phone"];
    const restored = requestForm.querySelector(".draft-notice");
    if (!restored && !phone.value && data.number_for_people && !data.withheld) {
      phone.value = data.number_for_people;
    }
  }

  function reuse(last) {
    const box = $("ws-reuse");
    box.hidden = !last;
    if (!last) return;
    const button = $("ws-reuse-button");
    button.textContent = `Use the details from ${last.id}`;
    button.dataset.requestId = last.id;
  }

  $("ws-reuse-button").addEventListener("click", async (event) => {
    const id = event.currentTarget.dataset.requestId;
    const result = await SB.api("GET", `/api/requests/${id}/contact`);
    if (!result.ok) {
      SB.showProblem(requestForm, result.data);
      return;
    }
    for (const name of ["name", "phone", "email", "address"]) {
      const value = result.data[name];
      if (value) requestForm.elements[`contact.${name}`].value = value;
    }
    changed(requestForm);
    $("ws-reuse").hidden = true;
    requestForm.elements["contact.name"].focus();
  });

  let duplicateTimer = null;
  async function checkDuplicates() {
    const box = $("ws-duplicates");
    const code = $("f-service_code").value;
    const address = requestForm.elements.address.value.trim();
    if (!code || !address) {
      box.hidden = true;
      return;
    }
    const result = await SB.api("POST", "/api/requests/possible-duplicates", { service_code: code, address });
    if (!result.ok || !result.data.items.length) {
      box.hidden = true;
      return;
    }
    box.replaceChildren(
      SB.el("p", {}, SB.el("strong", { text: "Possible duplicates" }), ": open requests for the same service near the same place, filed recently."),
      SB.el("ul", { class: "ws-list" }, ...result.data.items.map((item) => SB.el("li", {},
        SB.el("a", { href: `/console/requests/${item.id}`, text: item.id }),
        ` ${item.service_name} · ${item.address || "no address"} · ${words(item.status)} · ${SB.when(item.created_at)}`,
        addChoice(item.id)))),
      SB.el("p", { class: "hint", text: "Instead of filing it twice, add the caller to that request. Ask them first whether they want to be told of its updates, by text or by email: the button they choose is their answer." }),
    );
    box.hidden = false;
  }
  requestForm.elements.address.addEventListener("input", () => {
    clearTimeout(duplicateTimer);
    duplicateTimer = setTimeout(checkDuplicates, 400);
  });

  /* "Add this caller to SR-…": one button per answer the caller gives, so their consent
     to updates is asked, never assumed from what is typed in the form. */
  function addChoice(id) {
    const label = `ws-add-${id}`;
    return SB.el("span", { class: "ws-add", role: "group", "aria-labelledby": label },
      SB.el("span", { id: label, class: "ws-add-label", text: `Add this caller to ${id}:` }),
      SB.el("button", { type: "button", class: "small", text: "Updates by text", onclick: () => addCaller(id, "sms") }),
      SB.el("button", { type: "button", class: "small", text: "Updates by email", onclick: () => addCaller(id, "email") }),
      SB.el("button", { type: "button", class: "small secondary", text: "No updates", onclick: () => addCaller(id, null) }));
  }

  /* The request form, emptied, set up again for the call (or contact) open here. */
  function requestFormEmptied() {
    callField.value = current.sid;
    showService();
    applyAnonymous();
    $("ws-duplicates").hidden = true;
  }

  /* The form has done its work for this caller: empty it for the next request. */
  function formDone() {
    SB.clearDraft(requestForm);
    requestForm.reset();
    $("f-service_code").value = "";
    requestFormEmptied();
  }

  async function addCaller(id, channel) {
    const filed = $("ws-filed");
    if (!channel) {
      // No consent, nothing recorded: the request is only named in this contact's wrap-up.
      filed.replaceChildren(SB.el("p", {}, "Noted ", SB.el("strong", { text: id }),
        " for this contact. The caller will not be told of its updates."));
      linkRequest(id, false);
      formDone();
      filed.focus();
      return;
    }
    const field = requestForm.elements[channel === "sms" ? "contact.phone" : "contact.email"];
    const to = field.value.trim();
    if (!to) {
      const what = channel === "sms" ? "mobile number" : "email";
      filed.replaceChildren(SB.el("p", { class: "error", text: `Type the caller's ${what} under “How to reach the caller” to tell them of updates.` }));
      field.focus();
      return;
    }
    const body = { call_sid: current.sid || null, [channel === "sms" ? "phone" : "email"]: to };
    const result = await SB.api("POST", `/api/requests/${id}/updates`, body);
    if (!result.ok) {
      const problem = result.data || {};
      const message = (problem.errors || []).map((error) => `${error.field === "phone" ? "Mobile" : "Email"} ${error.message}`).join(" ") || problem.detail;
      filed.replaceChildren(SB.el("p", { class: "error", text: message || "The caller was not added." }));
      return;
    }
    const mine = result.data.filter((consent) => consent.consent_call_sid === (current.sid || null) && consent.channel === channel);
    filed.replaceChildren(
      SB.el("p", {}, "Added the caller to ", SB.el("strong", { text: id }), "."),
      ...(mine.length ? mine : result.data).slice(-1).map((consent) => SB.el("p", { text: `Read to the caller: ${consent.confirmation}` })),
    );
    linkRequest(id, false);
    formDone();
    filed.focus();
  }

  SB.builders["ws-request-form"] = (form) => {
    const body = SB.formJSON(form);
    if (!body.service_code) {
      SB.showProblem(form, { errors: [{ field: "service_code", message: "Choose a service: type its name and pick one." }] });
      picker.input.focus();
      return null;
    }
    return body;
  };
  SB.renderers["ws-request-form"] = (data, form) => {
    const parts = [SB.el("p", {}, "Filed ", SB.el("strong", { text: data.id }), ": read the number to the caller.")];
    if (data.anonymous) parts.push(SB.el("p", { text: "Anonymous: no contact details and no call link were kept." }));
    if (data.possible_duplicates.length) parts.push(SB.el("p", { text: `Possible duplicates of: ${data.possible_duplicates.join(", ")}.` }));
    for (const consent of data.updates || []) parts.push(SB.el("p", { text: `Read to the caller: ${consent.confirmation}` }));
    $("ws-filed").replaceChildren(...parts);
    formDone();
    // An anonymous request is named to the wrap-up too, which counts it and links none.
    linkRequest(data.id, true);
    $("ws-filed").focus();
  };

  /* -- the wrap-up -------------------------------------------------------------------- */

  const topicTitles = new Map(); // code -> title
  const askedTitles = new Set();

  /* A draft keeps the topics' codes only: their titles are read again from the
     knowledge base, and the chips shown again once they are known. */
  function lookUpTitles(codes) {
    const unknown = codes.filter((code) => !topicTitles.has(code) && !askedTitles.has(code));
    unknown.forEach((code) => askedTitles.add(code));
    if (!unknown.length) return;
    Promise.all(unknown.map(async (code) => {
      const found = await SB.api("GET", `/api/kb/articles/${encodeURIComponent(code)}` + SB.query({ language: "en" }));
      if (found.ok) topicTitles.set(code, found.data.title); // else its code stays shown
    })).then(showTopics);
  }

  function showTopics() {
    const codes = list($("ws-topics-value").value);
    lookUpTitles(codes);
    const chips = $("ws-topics");
    chips.replaceChildren(...codes.map((code) => SB.el("li", { class: "chip" },
      SB.el("span", { text: topicTitles.get(code) || code }),
      SB.el("button", { type: "button", class: "link small", "aria-label": `Remove the topic ${topicTitles.get(code) || code}`, text: "Remove",
        onclick: () => {
          $("ws-topics-value").value = list($("ws-topics-value").value).filter((c) => c !== code).join(",");
          showTopics();
          changed(wrapForm);
        } }))));
    if (!codes.length) chips.replaceChildren(SB.el("li", { class: "hint", text: "None yet." }));
  }

  function addTopic(code, title) {
    topicTitles.set(code, title);
    const codes = list($("ws-topics-value").value);
    if (!codes.includes(code)) codes.push(code);
    $("ws-topics-value").value = codes.slice(0, 10).join(",");
    showTopics();
    changed(wrapForm);
  }

  function showRequests() {
    const ids = list($("ws-request-ids").value);
    $("ws-wrap-requests").replaceChildren(...(ids.length
      ? ids.flatMap((id, at) => [at ? ", " : "", SB.el("a", { href: `/console/requests/${id}`, text: id })])
      : ["None yet."]));
  }

  function linkRequest(id, filed) {
    const ids = list($("ws-request-ids").value);
    if (!ids.includes(id)) ids.push(id);
    $("ws-request-ids").value = ids.join(",");
    if (filed) wrapForm.elements.resolution.value = "request_filed";
    showRequests();
    changed(wrapForm);
  }

  $("ws-topics-value").addEventListener("change", showTopics);
  // A draft discarded: the form is empty again, for the same call.
  requestForm.addEventListener("draft-discarded", () => {
    requestFormEmptied();
    if (current.caller) prefill(current.caller);
  });
  wrapForm.addEventListener("draft-discarded", () => {
    showTopics();
    showRequests();
  });
  $("ws-request-ids").addEventListener("change", showRequests);

  async function contactOfCall() {
    if (current.caller && current.caller.contact) return current.caller.contact.id;
    const found = await SB.api("POST", "/api/contacts/search", { call_sid: current.sid });
    const mine = found.ok ? found.data.items.find((item) => item.channel === "phone") : null;
    return mine ? mine.id : null;
  }

  wrapForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = wrapForm.querySelector('button[type="submit"]');
    SB.clearErrors(wrapForm);
    if (!current.sid && !current.contact) {
      SB.showProblem(wrapForm, { detail: "No call or contact is open: there is nothing to wrap up." });
      return;
    }
    button.disabled = true;
    try {
      const contact = current.contact || await contactOfCall();
      if (!contact) {
        SB.showProblem(wrapForm, { detail: "This call has no contact to wrap up yet: it opens when you answer the call on your own line." });
        return;
      }
      const body = {
        resolution: wrapForm.elements.resolution.value,
        topics: list($("ws-topics-value").value),
        request_ids: list($("ws-request-ids").value),
      };
      const sentTo = wrapForm.elements.transferred_to.value.trim();
      const notes = wrapForm.elements.notes.value.trim();
      if (sentTo) body.transferred_to = sentTo;
      if (notes) body.notes = notes;
      const result = await SB.api("POST", `/api/contacts/${contact}/wrap-up`, body);
      if (!result.ok) {
        SB.showProblem(wrapForm, result.data);
        return;
      }
      SB.clearDraft(wrapForm);
      SB.clearDraft(requestForm);
      if (current.sid) done.add(current.sid);
      current.wrapped = true;
      $("ws-wrapped").textContent = `Wrapped up ${result.data.id}.`;
      document.dispatchEvent(new Event("sb:presence"));
      const next = nextRinging();
      if (next) openCall(next);
      else say();
    } finally {
      button.disabled = false;
    }
  });

  /* -- calls ringing: the screen pop's event stream ------------------------------------ */

  function ended(sid) {
    ringing.delete(sid);
    if (sid === current.sid && !current.ended) {
      current.ended = true;
      if (current.caller) showCaller({ ...current.caller, ended: true });
    }
    say();
  }

  function listen() {
    // The page's one stream, shared with the call bar (each ring it sends is audited).
    let streams = 0;
    SB.callEvents({
      status(data) {
        extensionNote = data.extension
          ? `Waiting for calls on extension ${data.extension}.`
          : "No extension is set for your account: ask an administrator to set one.";
        streams += 1;
        if (streams > 1) {
          // A new stream announces the calls still ringing at once; one it does not
          // announce ended while the stream was away.
          const before = [...ringing.keys()];
          ringing.clear();
          setTimeout(() => before.filter((sid) => !ringing.has(sid)).forEach(ended), 3000);
        }
        say();
      },
      ring(data) {
        ringing.set(data.call_sid, data);
        if (done.has(data.call_sid) || data.call_sid === current.sid) {
          say();
          return;
        }
        if (!busy()) openCall(data.call_sid);
        else say();
      },
      ended: (data) => ended(data.call_sid),
      error() {
        status.textContent = "Reconnecting…";
      },
      async signedOut() {
        await SB.reauth();
        window.location.reload();
      },
    });
  }

  $("ws-offer-open").addEventListener("click", (event) => openCall(event.currentTarget.dataset.callSid));
  window.addEventListener("popstate", () => {
    const contact = contactInAddress();
    if (contact) openContactInAddress(contact, { push: false });
    else openCall(callInAddress(), { push: false });
  });

  document.addEventListener("DOMContentLoaded", async () => {
    const catalogue = await SB.api("GET", "/api/services");
    if (catalogue.ok) for (const service of catalogue.data.items) if (service.active) services.set(service.code, service);
    // console.js has restored this call's (contact's) drafts by now.
    const contact = contactInAddress();
    if (contact) await openContactInAddress(contact, { push: false, rescope: false });
    else await openCall(callInAddress(), { push: false, rescope: false });
    listen();
  });
})();
