/* The IVR menu: how the line answers (business hours, the welcome), and its keys: rename
   a department, point it elsewhere, record it or not, remove it, or add a key. */
"use strict";

(() => {
  const { table, status } = SB.byId({ table: "extensions", status: "extensions-status" });

  function row(ext) {
    const input = (name, value, label) =>
      SB.el("input", { value, "aria-label": `${label}, key ${ext.digits}`, "data-name": name });
    const nameEn = input("name_en", ext.name_en, "English name");
    const nameEs = input("name_es", ext.name_es, "Spanish name");
    const destination = input("destination", ext.destination, "Where it rings");
    const record = SB.el("input", { type: "checkbox", checked: ext.record_calls, "aria-label": `Record calls, key ${ext.digits}` });
    const enabled = SB.el("input", { type: "checkbox", checked: ext.enabled, "aria-label": `In the menu, key ${ext.digits}` });
    const note = SB.el("span", { class: "row-note", role: "status" });
    const said = (result, done) => {
      note.classList.toggle("error", !result.ok);
      note.textContent = result.ok ? done : result.data.errors?.[0]?.message || result.data.detail || "Not saved.";
    };
    const save = SB.el("button", {
      type: "button", class: "secondary", text: "Save", "aria-label": `Save key ${ext.digits}`,
      onclick: SB.oneAtATime(async () => {
        const result = await SB.api("PATCH", `/api/extensions/${ext.digits}`, {
          name_en: nameEn.value.trim(), name_es: nameEs.value.trim(),
          destination: destination.value.trim(), record_calls: record.checked, enabled: enabled.checked,
        });
        said(result, "Saved.");
      }),
    });
    let confirming = false;
    const remove = SB.el("button", {
      type: "button", class: "secondary", text: "Remove", "aria-label": `Remove key ${ext.digits}`,
      onclick: SB.oneAtATime(async () => {
        // A second click confirms: callers pressing this key will hear "not one of the choices".
        if (!confirming) {
          confirming = true;
          remove.textContent = `Confirm: remove key ${ext.digits}`;
          remove.setAttribute("aria-label", `Confirm: remove key ${ext.digits} from the menu`);
          note.classList.remove("error");
          note.textContent = "Callers will no longer reach it.";
          return;
        }
        const result = await SB.api("DELETE", `/api/extensions/${ext.digits}`);
        said(result, "Removed.");
        confirming = false;
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", `Remove key ${ext.digits}`);
        if (result.ok) load(`Key ${ext.digits} removed from the menu.`);
      }),
    });
    return [ext.digits, nameEn, nameEs, destination, record, enabled, SB.el("span", { class: "actions" }, save, remove, note)];
  }

  async function load(message) {
    const result = await SB.api("GET", "/api/extensions");
    if (!result.ok) return;
    SB.fillTable(table, status, result.data, row, { empty: "No extensions." });
    if (message) status.textContent = message;
  }

  SB.renderers["new-extension"] = (data, form) => {
    form.reset();
    load(`Key ${data.digits} added: callers hear it last in the menu.`);
  };

  // How the line answers.
  const { line, open, saved } = SB.byId({ line: "line", open: "line-open", saved: "line-saved" });
  function showLine(data) {
    line.elements.hours.value = data.hours_set ? data.hours : "";
    line.elements.hours.placeholder = data.default_hours;
    line.elements.welcome_en.value = data.welcome_en || "";
    line.elements.welcome_es.value = data.welcome_es || "";
    open.textContent = `The line is ${data.open_now ? "open" : "closed"} now (hours: ${data.hours}${data.hours_set ? "" : ", the city's setting"}).`;
  }
  line.addEventListener("submit", async (event) => {
    event.preventDefault();
    SB.clearErrors(line);
    saved.textContent = "";
    const value = (name) => line.elements[name].value.trim();
    const result = await SB.api("PATCH", "/api/ivr/line", {
      hours: value("hours"), welcome_en: value("welcome_en"), welcome_es: value("welcome_es"),
    });
    if (!result.ok) {
      SB.showProblem(line, result.data);
      return;
    }
    showLine(result.data);
    saved.textContent = "Saved.";
  });
  (async () => {
    const result = await SB.api("GET", "/api/ivr/line");
    if (result.ok) showLine(result.data);
  })();
  load();
})();
