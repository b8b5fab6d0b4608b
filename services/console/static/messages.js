/* The outbox (texts sent or waiting) and what callers texted back, as one conversation
   per number: texts out and replies in, in order, with reply and move-the-visit. */
"use strict";

(() => {
  const { list, inboundStatus, panel, heading, thread, visits, said } = SB.byId({
    list: "conversations", inboundStatus: "inbound-status",
    panel: "conversation", heading: "conversation-title", said: "conversation-status",
    thread: "thread", visits: "conversation-visits",
  });
  const form = document.getElementById("reply-form"); // only for those who manage appointments
  const kindWords = {
    confirmation: "Confirmation", reminder: "Reminder", reschedule: "New time",
    cancellation: "Cancellation", reply: "Reply", update: "Update",
  };
  let openId = null;

  const links = (ids) => (ids.length ? ids.flatMap((id, i) => [i ? ", " : "", SB.requestLink(id)]) : ["none"]);

  /* Replies grouped by number, newest conversation first. */
  function renderConversations(items) {
    const byNumber = new Map();
    for (const text of items) {
      if (!byNumber.has(text.sender)) byNumber.set(text.sender, []);
      byNumber.get(text.sender).push(text);
    }
    list.replaceChildren(
      ...[...byNumber.entries()].map(([number, texts]) => {
        const latest = texts[0];
        const who = SB.phone(number);
        return SB.el("li", { class: "card conversation-item" },
          SB.el("p", {}, SB.el("strong", { text: who }),
            ` · ${texts.length} ${texts.length === 1 ? "reply" : "replies"} · last ${SB.when(latest.received_at)}`),
          SB.el("p", { class: "sms small", text: latest.body }),
          SB.el("p", {}, "Earlier requests: ", ...links(latest.earlier_requests)),
          SB.el("button", {
            type: "button", class: "secondary small", text: "Open the conversation",
            "aria-label": `Open the conversation with ${who}`,
            onclick: () => openConversation(latest.id),
          }));
      }),
    );
    const count = byNumber.size;
    inboundStatus.textContent = count
      ? `${count} ${count === 1 ? "number has" : "numbers have"} texted back.`
      : "No replies yet.";
  }

  function renderConversation(data) {
    const who = SB.phone(data.number);
    heading.textContent = `Conversation with ${who}`;
    thread.replaceChildren(
      ...data.items.map((entry) =>
        SB.el("li", { class: `text-${entry.direction}` },
          SB.el("span", { class: "hint" },
            entry.direction === "in"
              ? `The caller · ${SB.when(entry.at)}`
              : `${kindWords[entry.kind] || entry.kind} from the city · ${SB.when(entry.at)} · ${entry.state}`),
          SB.el("span", { class: "sms", text: entry.body }))),
    );
    const visitItems = data.appointments.map((visit) =>
      SB.el("li", {},
        `${visit.id} · ${visit.status} · ${SB.when(visit.starts_at)} · request `, SB.requestLink(visit.request_id),
        ...(visit.status === "booked"
          ? [" · ", SB.el("a", {
              href: `/console/requests/${encodeURIComponent(visit.request_id)}#move=${encodeURIComponent(visit.id)}`,
              text: "Move this visit", "aria-label": `Move visit ${visit.id}`,
            })]
          : [])));
    visits.replaceChildren(
      SB.el("h3", { text: "Visits booked for this number" }),
      visitItems.length ? SB.el("ul", {}, ...visitItems) : SB.el("p", { text: "None." }),
      SB.el("p", {}, "Requests from this number: ", ...links(data.requests)),
    );
    said.textContent = data.opted_out
      ? "This number said STOP: no text can be sent to it until it texts START."
      : `${data.items.length} texts, oldest first.`;
    if (form) form.hidden = data.opted_out;
  }

  async function openConversation(id) {
    const result = await SB.api("GET", `/api/messages/inbound/${id}/conversation`);
    panel.hidden = false;
    if (!result.ok) {
      said.textContent = `The conversation could not be opened: ${result.data.detail || "try again."}`;
      return;
    }
    openId = id;
    renderConversation(result.data);
    heading.focus();
  }

  if (form) {
    const box = form.elements.body;
    const count = document.getElementById("f-reply-count");
    const gsm = /^[A-Za-z0-9 \n\r@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~\]|€]*$/;
    box.addEventListener("input", () => {
      const length = box.value.length;
      const single = gsm.test(box.value) ? 160 : 70;
      count.textContent = length > single
        ? `${length} characters: this goes as more than one text (one holds ${single} of these characters).`
        : `${length} of ${single} characters in one text.`;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!openId) return;
      if (!box.value.trim()) {
        SB.showProblem(form, { errors: [{ field: "body", message: "Write the reply before sending it." }] });
        return;
      }
      const result = await SB.api("POST", `/api/messages/inbound/${openId}/reply`, { body: box.value.trim() });
      if (!result.ok) {
        SB.showProblem(form, result.data);
        return;
      }
      SB.clearErrors(form);
      form.reset();
      count.textContent = "";
      renderConversation(result.data);
      said.textContent = "Reply sent: it is in the conversation and the outbox.";
      loadOutbox();
    });
  }

  async function loadOutbox() {
    const outbox = await SB.api("GET", "/api/messages/outbox");
    if (outbox.ok) {
      SB.fillTable(
        document.getElementById("outbox"),
        document.getElementById("outbox-status"),
        outbox.data.items,
        (t) => [SB.phone(t.to), t.body, t.kind, t.state, SB.when(t.not_before)],
        { empty: "No texts yet." },
      );
    }
  }

  async function load() {
    const inbound = await SB.api("GET", "/api/messages/inbound");
    if (inbound.ok) renderConversations(inbound.data);
    else inboundStatus.textContent = "The replies could not be loaded.";
    await loadOutbox();
  }
  document.getElementById("refresh").addEventListener("click", load);
  load();
})();
