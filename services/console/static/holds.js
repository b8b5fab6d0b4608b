/* Legal holds: place one on a record or a person; list and release them. */
"use strict";

(() => {
  const { form, kind, table, status, released } = SB.byId({
    form: "new-hold", kind: "f-target_type",
    table: "holds", status: "holds-status", released: "show-released",
  });

  function showTarget() {
    const person = kind.value === "person";
    document.getElementById("hold-person").hidden = !person;
    document.getElementById("hold-record").hidden = person;
  }

  function row(hold) {
    const on = hold.target_type === "person" ? `a person, by ${hold.person_kind}` : `${hold.target_type} ${hold.target_ref}`;
    let release = "–";
    if (!hold.released_at) {
      const reason = SB.el("input", { id: `release-${hold.id}`, "aria-label": `Why ${hold.id} is released`, placeholder: "Why", size: 14 });
      const note = SB.el("span", { class: "row-note", role: "status" });
      // Sent once (a double click would send it twice); released, the list is read again.
      const button = SB.el("button", {
        type: "button", class: "secondary", text: "Release", "aria-label": `Release ${hold.id}`,
        onclick: SB.oneAtATime(async () => {
          const result = await SB.api("POST", `/api/holds/${hold.id}/release`, { reason: reason.value });
          if (result.ok) {
            load();
            return true;
          }
          note.classList.add("error");
          note.textContent = result.data.detail || "Not released.";
          return false;
        }),
      });
      release = SB.el("span", {}, reason, " ", button, " ", note);
    }
    return [
      SB.el("span", { class: "nowrap", text: hold.id }), on, hold.reason,
      `${SB.when(hold.placed_at)} by ${hold.placed_by || "–"}`,
      hold.released_at ? `${SB.when(hold.released_at)} by ${hold.released_by || "–"}: ${hold.release_reason || ""}` : "standing",
      release,
    ];
  }

  async function load() {
    const result = await SB.api("GET", "/api/holds" + SB.query({ released: released.checked ? "true" : null }));
    if (result.ok) SB.fillTable(table, status, result.data, row, { empty: "No holds." });
  }

  SB.builders["new-hold"] = (f) => {
    const v = SB.formJSON(f);
    const body = { target_type: v.target_type, reason: v.reason };
    if (v.target_type === "person") body.person = { [v.person_kind]: v.person_value || "" };
    else body.target_ref = v.target_ref;
    return body;
  };
  SB.renderers["new-hold"] = (data, f) => {
    f.reset();
    showTarget();
    document.getElementById("hold-status").textContent = `Placed ${data.id}.`;
    load();
  };
  kind.addEventListener("change", showTarget);
  released.addEventListener("change", load);
  showTarget();
  load();
})();
