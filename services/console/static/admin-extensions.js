/* The IVR menu: rename a department, point it elsewhere, record it or not, row by row. */
"use strict";

(() => {
  const table = document.getElementById("extensions");
  const status = document.getElementById("extensions-status");

  function row(ext) {
    const input = (name, value, label) =>
      SB.el("input", { value, "aria-label": `${label}, key ${ext.digits}`, "data-name": name });
    const nameEn = input("name_en", ext.name_en, "English name");
    const nameEs = input("name_es", ext.name_es, "Spanish name");
    const destination = input("destination", ext.destination, "Where it rings");
    const record = SB.el("input", { type: "checkbox", checked: ext.record_calls, "aria-label": `Record calls, key ${ext.digits}` });
    const enabled = SB.el("input", { type: "checkbox", checked: ext.enabled, "aria-label": `In the menu, key ${ext.digits}` });
    const note = SB.el("span", { class: "row-note", role: "status" });
    const save = SB.el("button", {
      type: "button", class: "secondary", text: "Save", "aria-label": `Save key ${ext.digits}`,
      onclick: async () => {
        const result = await SB.api("PATCH", `/api/extensions/${ext.digits}`, {
          name_en: nameEn.value.trim(), name_es: nameEs.value.trim(),
          destination: destination.value.trim(), record_calls: record.checked, enabled: enabled.checked,
        });
        note.textContent = result.ok ? "Saved." : result.data.detail || "Not saved.";
      },
    });
    return [ext.digits, nameEn, nameEs, destination, record, enabled, SB.el("span", {}, save, " ", note)];
  }

  (async () => {
    const result = await SB.api("GET", "/api/extensions");
    if (result.ok) SB.fillTable(table, status, result.data, row, { empty: "No extensions." });
  })();
})();
