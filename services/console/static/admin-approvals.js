/* Approvals: a second person approves (or turns down) accounts and roles with data access. */
"use strict";

(() => {
  const { table, status, done } = SB.byId({
    table: "approvals", status: "approvals-status", done: "approvals-done",
  });
  const me = status.dataset.me;

  function row(item) {
    const what = item.kind === "account" ? "the account"
      : `a change of role (now ${item.current_role.replace("_", " ")})`;
    const note = SB.el("span", { class: "row-note", role: "status" });
    // Both buttons are disabled while a decision is sent, and stay so once it is made:
    // a second click (a double click) would send the decision again.
    const buttons = (disabled) => [approve, reject].forEach((b) => (b.disabled = disabled));
    const decide = (verb, body) => async () => {
      buttons(true);
      const result = await SB.api("POST", `/api/staff/${item.id}/${verb}`, body);
      note.classList.toggle("error", !result.ok);
      note.textContent = result.ok ? (verb === "approve" ? "Approved." : "Turned down.")
        : (result.data.detail || "Not done.");
      if (result.ok) {
        // The row goes as the list is read again; what was decided stays said above it.
        done.textContent = `${verb === "approve" ? "Approved" : "Turned down"}: ${item.username}, ${what} (${item.role.replace("_", " ")}).`;
        setTimeout(load, 800);
      } else buttons(false);
    };
    const approve = SB.el("button", {
      type: "button", text: "Approve", "aria-label": `Approve ${item.username}`,
      onclick: decide("approve", { role: item.role }),
    });
    const reject = SB.el("button", {
      type: "button", class: "secondary", text: "Turn down", "aria-label": `Turn down ${item.username}`,
      onclick: decide("reject", {}),
    });
    // Who asked for it, and the account itself, cannot approve it (the server refuses):
    // they are told so, and may still turn it down.
    const same = (name) => (name || "").toLowerCase() === me.toLowerCase();
    const mine = same(item.requested_by) || same(item.username);
    if (mine) {
      note.classList.add("said");  // a fact, not an outcome
      note.textContent = same(item.username)
        ? "Your own account: someone else approves it."
        : "You asked for this: another administrator or a privacy officer approves it.";
    }
    return [item.username, what, item.role.replace("_", " "), item.requested_by || "—",
      item.requested_at ? SB.when(item.requested_at) : "—",
      SB.el("span", {}, mine ? "" : approve, mine ? "" : " ", reject, " ", note)];
  }

  async function load() {
    const result = await SB.api("GET", "/api/staff/approvals");
    if (result.ok) SB.fillTable(table, status, result.data.items, row, { empty: "Nothing waits for approval." });
    else status.textContent = result.data.detail || "Could not load.";
  }
  load();
})();
