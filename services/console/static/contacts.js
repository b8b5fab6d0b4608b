/* Wrapping up one's contacts: the open ones are listed; choosing one fills the form,
   which posts the wrap-up (topics, outcome, requests, transfer, sealed notes). */
"use strict";

(() => {
  const { table, status, form, which, done } = SB.byId({
    table: "open-contacts", status: "open-status",
    form: "wrap-up-form", which: "wrap-up-which", done: "wrap-up-done",
  });
  const agent = status.dataset.agent;
  const list = (text) => text.split(",").map((part) => part.trim()).filter(Boolean);

  function choose(item) {
    form.elements.contact_id.value = item.id;
    form.dataset.api = `/api/contacts/${item.id}/wrap-up`;
    which.textContent = item.id;
    form.querySelector('button[type="submit"]').disabled = false;
    form.elements.resolution.focus();
  }

  async function load() {
    const since = new Date(Date.now() - 7 * 86400 * 1000).toISOString();
    const result = await SB.api("POST", "/api/contacts/search", { agent, since });
    const open = result.ok ? result.data.items.filter((item) => !item.wrapped_up_at) : [];
    SB.fillTable(table, status, open, (item) => [
      SB.when(item.started_at),
      item.channel,
      item.ended_at ? SB.when(item.ended_at) : "ongoing",
      // The workspace shows the contact with more: a call's caller and their history,
      // topics found in the knowledge base by their titles.
      SB.el("a", {
        href: item.call_sid
          ? `/console/workspace?call=${encodeURIComponent(item.call_sid)}`
          : `/console/workspace?contact=${encodeURIComponent(item.id)}`,
        text: "Open", "aria-label": `Open contact ${item.id} in the workspace`,
      }),
      SB.el("button", { type: "button", class: "secondary small", text: "Wrap up",
        "aria-label": `Wrap up ${item.id}`, onclick: () => choose(item) }),
    ], { empty: "Nothing to wrap up." });
  }

  SB.builders["wrap-up-form"] = (formElement) => {
    if (!formElement.elements.contact_id.value) return null;
    const body = {
      resolution: formElement.elements.resolution.value,
      topics: list(formElement.elements.topics.value),
      request_ids: list(formElement.elements.request_ids.value),
    };
    const sentTo = formElement.elements.transferred_to.value.trim();
    const notes = formElement.elements.notes.value.trim();
    if (sentTo) body.transferred_to = sentTo;
    if (notes) body.notes = notes;
    return body;
  };
  SB.renderers["wrap-up-form"] = (data, formElement) => {
    done.textContent = `Wrapped up ${data.id}.`;
    formElement.reset();
    formElement.elements.contact_id.value = "";
    formElement.querySelector('button[type="submit"]').disabled = true;
    which.textContent = "(choose a contact above)";
    load();
  };
  load();
})();
