/* Searching earlier requests: the term goes in the request body, never in the URL. */
"use strict";

(() => {
  const table = document.getElementById("results");
  const status = document.getElementById("results-status");
  SB.builders["search-form"] = (form) => {
    const key = form.querySelector('input[name="search_key"]:checked').value;
    const term = form.querySelector("#f-term").value.trim();
    if (!term) {
      SB.showProblem(form, { errors: [{ field: "term", message: "Type what to search for." }] });
      return null;
    }
    return { [key]: term };
  };
  SB.renderers["search-form"] = (data) => {
    SB.fillTable(table, status, data.items, (item) => [
      item.id,
      item.service_code,
      item.status.replace("_", " "),
      SB.when(item.created_at),
      item.address || "–",
      item.contact
        ? [item.contact.name, item.contact.phone, item.contact.email].filter(Boolean).join(" · ")
        : item.anonymous ? "anonymous" : "–",
    ], { empty: "No requests found." });
  };
})();
