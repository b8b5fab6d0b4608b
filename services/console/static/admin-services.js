/* The service catalogue: add a service; rename one, move it to another department,
   change the keywords call takers find it by, offer or retire it, row by row. */
"use strict";

(() => {
  document.querySelectorAll("tr[data-service-row]").forEach((row) => {
    const code = row.dataset.serviceRow;
    const field = (name) => row.querySelector(`[name="${name}"]`);
    const note = row.querySelector(".row-note");
    const save = async () => {
      const keywords = field("keywords").value.split(",").map((word) => word.trim().toLowerCase()).filter(Boolean);
      const result = await SB.api("PATCH", `/api/services/${code}`, {
        name: field("name").value.trim(), department: field("department").value.trim(),
        keywords, active: field("active").checked,
      });
      note.classList.toggle("error", !result.ok);
      if (result.ok) {
        field("keywords").value = result.data.keywords.join(", ");
        note.textContent = result.data.active ? "Saved; offered." : "Saved; retired.";
      } else {
        const error = result.data.errors?.[0];
        note.textContent = error ? `${error.field.replace(/^body\./, "")}: ${error.message}` : result.data.detail || "Not saved.";
      }
    };
    row.querySelector("[data-save]").addEventListener("click", save);
    // Offering or retiring takes effect at once, as before.
    field("active").addEventListener("change", save);
  });
  SB.renderers["new-service"] = () => window.location.reload();
})();
