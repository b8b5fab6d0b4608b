/* Searching earlier requests: the term goes in the request body, never in the URL. */
"use strict";

(() => {
  const { table, status } = SB.byId({ table: "results", status: "results-status" });
  let searchedBy = null;
  SB.builders["search-form"] = (form) => {
    const key = form.querySelector('input[name="search_key"]:checked').value;
    searchedBy = key;
    const term = form.querySelector("#f-term").value.trim();
    if (!term) {
      clearResults("Type what to search for: no results are shown.");
      SB.showProblem(form, { errors: [{ field: "term", message: "Type what to search for." }] });
      return null;
    }
    return { [key]: term };
  };
  /* A failed search leaves no results behind: rows from the previous search would read
     as this search's answer. */
  function clearResults(message) {
    table.querySelector("tbody").replaceChildren();
    table.hidden = true;
    status.textContent = message;
  }
  SB.failures["search-form"] = (problem, form) => {
    // The server names the key searched by; the message belongs by the one search field.
    const errors = (problem?.errors || []).map((error) =>
      error.field === searchedBy
        ? { field: "term", message: `This ${searchedBy === "address" ? "home address" : searchedBy} ${error.message}.` }
        : error);
    if (errors.length) SB.showProblem(form, { ...problem, errors });
    clearResults("The search did not work: no results are shown.");
  };

  const statuses = [["open", "open"], ["in_progress", "in progress"], ["closed", "closed"]];

  /* The request's status, changeable in place with an optional note (SSN-like numbers
     are refused by the server, as everywhere). */
  function statusControl(item) {
    const id = `status-${item.id}`;
    const choice = SB.el("select", { id, "aria-label": `Status of ${item.id}` },
      ...statuses.map(([value, label]) => SB.el("option", { value, selected: value === item.status, text: label })));
    const note = SB.el("input", { id: `${id}-note`, "aria-label": `Note on ${item.id}`, placeholder: "Note (optional)", size: 14 });
    /* Notes are private; publishing one is a choice made here, and the label says
       plainly who can read it. */
    const publish = SB.el("input", { type: "checkbox", id: `${id}-publish` });
    const publishLabel = SB.el("label", { for: `${id}-publish`, class: "small" }, publish,
      " Publish this note: anyone can read it on the city's public Open311 feed");
    const said = SB.el("span", { class: "row-note", role: "status" });
    const save = SB.el("button", {
      type: "button", class: "secondary small", text: "Update", "aria-label": `Update ${item.id}`,
      onclick: SB.oneAtATime(async () => {
        // The last answer goes first: a second "Updated." is then news (to a screen
        // reader too), not the first one still standing while this one is on its way.
        said.textContent = "";
        const body = { status: choice.value };
        if (note.value.trim()) {
          body.note = note.value.trim();
          body.public = publish.checked;
        }
        const result = await SB.api("POST", `/api/requests/${item.id}/status`, body);
        said.classList.toggle("error", !result.ok);
        said.textContent = result.ok
          ? "Updated."
          : (result.data.errors?.[0]?.message || result.data.detail || "Not updated.");
        if (result.ok) {
          note.value = "";
          publish.checked = false;
        }
      }),
    });
    return SB.el("span", { class: "keep" }, choice, note, publishLabel, save, said);
  }

  SB.renderers["search-form"] = (data) => {
    SB.fillTable(table, status, data.items, (item) => [
      SB.requestLink(item.id),
      SB.serviceName(item.service_code),
      statusControl(item),
      SB.when(item.created_at),
      item.address || "–",
      SB.publicDescription(item),
      item.contact
        ? [item.contact.name, item.contact.phone && SB.phone(item.contact.phone), item.contact.email].filter(Boolean).join(" · ")
        : item.anonymous ? "anonymous" : "–",
    ], { empty: "No requests found." });
    const count = data.items.length;
    status.textContent = `${count} ${count === 1 ? "request" : "requests"} found by ${searchedBy}.`;
  };
})();
