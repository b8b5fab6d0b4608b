/* The QA form builder: sections of weighted questions (yes/no or a scale, critical,
   N/A allowed), each question's share of the score shown as the weights change; saved
   through the staff API as a new form or a new version of one. */
"use strict";

(() => {
  const { form, sectionsBox, startFrom, formsStatus, weights } = SB.byId({
    form: "qa-form", sectionsBox: "sections", startFrom: "start-from",
    formsStatus: "forms-status", weights: "weights",
  });
  let forms = [];
  let counter = 0;

  const slug = (text) => text.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "").slice(0, 32) || "question";

  function field(label, input, hint) {
    const id = `qa-${++counter}`;
    input.id = id;
    const parts = [SB.el("label", { for: id, text: label })];
    if (hint) {
      parts.push(SB.el("p", { class: "hint", id: `${id}-hint`, text: hint }));
      input.setAttribute("aria-describedby", `${id}-hint`);
    }
    return SB.el("div", { class: "field" }, ...parts, input);
  }

  function question(section, q = {}) {
    const box = SB.el("fieldset", { class: "qa-question" });
    box.dataset.id = q.id || "";
    const legend = SB.el("legend", { text: "Question" });
    const text = SB.el("input", { name: "q-text", autocomplete: "off", required: true });
    text.value = q.text || "";
    const kind = SB.el("select", { name: "q-kind" },
      SB.el("option", { value: "yes_no", text: "Yes or no" }),
      SB.el("option", { value: "scale", text: "A scale from 0" }));
    kind.value = q.kind || "yes_no";
    const scaleMax = SB.el("input", { name: "q-scale", type: "number", min: 1, max: 10, step: 1 });
    scaleMax.value = q.scale_max || 5;
    const weight = SB.el("input", { name: "q-weight", type: "number", min: 0.5, max: 100, step: 0.5, required: true });
    weight.value = q.weight ?? 1;
    const critical = SB.el("input", { type: "checkbox", name: "q-critical" });
    critical.checked = Boolean(q.critical);
    const allowNa = SB.el("input", { type: "checkbox", name: "q-na" });
    allowNa.checked = Boolean(q.allow_na);
    const share = SB.el("span", { class: "share hint" });
    const scaleField = field("Highest score", scaleMax);
    const criticalLabel = SB.el("label", { class: "choice" }, critical, " Critical: a “no” fails the whole evaluation");
    const sync = () => {
      scaleField.hidden = kind.value !== "scale";
      criticalLabel.hidden = kind.value !== "yes_no";
      if (kind.value !== "yes_no") critical.checked = false;
      totals();
    };
    kind.addEventListener("change", sync);
    const remove = SB.el("button", { type: "button", class: "secondary small", text: "Remove this question" });
    remove.addEventListener("click", () => {
      const next = box.nextElementSibling || box.previousElementSibling;
      box.remove();
      totals();
      (next?.querySelector("input") || section.querySelector("button")).focus();
    });
    box.append(
      legend,
      field("Question", text),
      SB.el("div", { class: "row" }, field("Answered with", kind), scaleField, field("Weight", weight, "A number: 1 is usual, 2 counts double")),
      SB.el("p", { class: "keep" }, criticalLabel, SB.el("label", { class: "choice" }, allowNa, " May be answered N/A")),
      SB.el("p", { class: "keep" }, share, remove),
    );
    weight.addEventListener("input", totals);
    text.addEventListener("input", () => {
      legend.textContent = text.value.trim() ? `Question: ${text.value.trim().slice(0, 60)}` : "Question";
    });
    text.dispatchEvent(new Event("input"));
    sync();
    return box;
  }

  function section(s = {}) {
    const box = SB.el("fieldset", { class: "qa-section" });
    const legend = SB.el("legend", { text: "Section" });
    const title = SB.el("input", { name: "s-title", autocomplete: "off", required: true });
    title.value = s.title || "";
    title.addEventListener("input", () => {
      legend.textContent = title.value.trim() ? `Section: ${title.value.trim()}` : "Section";
    });
    const questions = SB.el("div", { class: "qa-questions" });
    const add = SB.el("button", { type: "button", class: "secondary", text: "Add a question to this section" });
    add.addEventListener("click", () => {
      const added = question(box);
      questions.append(added);
      totals();
      added.querySelector("input").focus();
    });
    const remove = SB.el("button", { type: "button", class: "secondary small", text: "Remove this section" });
    remove.addEventListener("click", () => {
      box.remove();
      totals();
      document.getElementById("add-section").focus();
    });
    box.append(legend, field("Section title", title), questions, SB.el("p", { class: "keep" }, add, remove));
    (s.questions || [{}]).forEach((q) => questions.append(question(box, q)));
    title.dispatchEvent(new Event("input"));
    return box;
  }

  function totals() {
    const boxes = [...sectionsBox.querySelectorAll(".qa-question")];
    const total = boxes.reduce((sum, b) => sum + (Number(b.querySelector('[name="q-weight"]').value) || 0), 0);
    for (const b of boxes) {
      const w = Number(b.querySelector('[name="q-weight"]').value) || 0;
      b.querySelector(".share").textContent = total ? `${Math.round((100 * w) / total)}% of the score` : "";
    }
    weights.textContent = `${boxes.length} question${boxes.length === 1 ? "" : "s"}, total weight ${total}.`;
  }

  function fill(source) {
    form.elements.name.value = source ? source.name : "";
    sectionsBox.replaceChildren(...(source ? source.sections : [{}]).map(section));
    totals();
    SB.clearErrors(form);
  }

  function body() {
    const used = new Set();
    const sections = [...sectionsBox.querySelectorAll(".qa-section")].map((box) => ({
      title: box.querySelector('[name="s-title"]').value.trim(),
      questions: [...box.querySelectorAll(".qa-question")].map((q) => {
        const text = q.querySelector('[name="q-text"]').value.trim();
        let id = q.dataset.id || slug(text);
        for (let n = 2; used.has(id); n += 1) id = `${slug(text)}_${n}`;
        used.add(id);
        const kind = q.querySelector('[name="q-kind"]').value;
        const out = { id, text, kind, weight: Number(q.querySelector('[name="q-weight"]').value),
          critical: q.querySelector('[name="q-critical"]').checked,
          allow_na: q.querySelector('[name="q-na"]').checked };
        if (kind === "scale") out.scale_max = Number(q.querySelector('[name="q-scale"]').value);
        return out;
      }),
    }));
    return { name: form.elements.name.value.trim(), sections };
  }

  async function loadForms(select) {
    const result = await SB.api("GET", "/api/qa/forms");
    if (!result.ok) {
      formsStatus.textContent = "Could not load the forms.";
      return;
    }
    forms = result.data;
    startFrom.replaceChildren(SB.el("option", { value: "", text: "A new, empty form" }),
      ...forms.map((f) => SB.el("option", { value: String(f.id), text: `${f.name} (version ${f.version})` })));
    if (select) startFrom.value = String(select);
    formsStatus.textContent = forms.length ? `${forms.length} form${forms.length === 1 ? "" : "s"} in use.` : "No forms yet.";
  }

  startFrom.addEventListener("change", () => fill(forms.find((f) => String(f.id) === startFrom.value)));
  document.getElementById("add-section").addEventListener("click", () => {
    const added = section();
    sectionsBox.append(added);
    totals();
    added.querySelector("input").focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = document.getElementById("qa-saved");
    const result = await SB.api("POST", "/api/qa/forms", body());
    if (!result.ok) {
      saved.textContent = "";
      SB.showProblem(form, result.data);
      return;
    }
    SB.clearErrors(form);
    saved.textContent = `Saved “${result.data.name}”, version ${result.data.version}.`;
    await loadForms(result.data.id);
    fill(result.data);
  });

  fill(null);
  loadForms(null);
})();
