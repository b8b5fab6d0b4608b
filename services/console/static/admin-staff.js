/* Staff accounts: add one; change a role, extension, destination and department, or
   disable one, row by row. */
"use strict";

(() => {
  const table = document.getElementById("staff");
  const status = document.getElementById("staff-status");
  const roles = ["agent", "supervisor", "privacy_officer", "admin"];

  function row(user) {
    const id = `staff-${user.id}`;
    const role = SB.el("select", { id: `${id}-role`, "aria-label": `Role of ${user.username}` },
      ...roles.map((r) => SB.el("option", { value: r, selected: r === user.role, text: r.replace("_", " ") })));
    const extension = SB.el("input", {
      id: `${id}-ext`, value: user.extension || "", inputmode: "numeric", pattern: "[0-9]{0,8}",
      size: 6, "aria-label": `Extension of ${user.username}`,
    });
    const destination = SB.el("input", {
      id: `${id}-dest`, value: user.destination || "", size: 16,
      "aria-label": `Where calls to ${user.username} ring`,
    });
    const department = SB.el("input", {
      id: `${id}-dept`, value: user.department || "", inputmode: "numeric", pattern: "[0-9]{0,8}",
      size: 3, "aria-label": `Department of ${user.username}`,
    });
    const disabled = SB.el("input", {
      type: "checkbox", id: `${id}-off`, checked: user.disabled, "aria-label": `${user.username} disabled`,
    });
    const note = SB.el("span", { class: "row-note", role: "status" });
    const save = SB.el("button", {
      type: "button", class: "secondary", text: "Save",
      "aria-label": `Save ${user.username}`,
      onclick: async () => {
        const result = await SB.api("PATCH", `/api/staff/${user.id}`, {
          role: role.value, extension: extension.value.trim(), disabled: disabled.checked,
          destination: destination.value.trim(), department: department.value.trim(),
        });
        note.textContent = !result.ok
          ? result.data.errors?.[0]?.message || result.data.detail || "Not saved."
          : result.data.pending_role || !result.data.approved ? "Saved; a second person must approve the role." : "Saved.";
      },
    });
    const approval = !user.approved ? "account awaits approval"
      : user.pending_role ? `role ${user.pending_role.replace("_", " ")} awaits approval` : "in force";
    return [user.username, role, extension, destination, department, disabled, user.second_factor ? "yes" : "no", approval,
      SB.el("span", {}, save, " ", note)];
  }

  async function load() {
    const result = await SB.api("GET", "/api/staff");
    if (result.ok) SB.fillTable(table, status, result.data.items, row, { empty: "No accounts." });
  }
  SB.renderers["new-staff"] = (data, form) => {
    form.reset();
    status.textContent = data.approved ? `Added ${data.username}.`
      : `Added ${data.username}; a second person (a privacy officer or another administrator) must approve it under Approvals.`;
    load();
  };
  load();
})();
