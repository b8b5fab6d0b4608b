/* Staff accounts: add one; change a role, extension, destination and department, or
   disable one, row by row. */
"use strict";

(() => {
  const { table, status } = SB.byId({ table: "staff", status: "staff-status" });
  const roles = ["agent", "supervisor", "privacy_officer", "admin", "knowledge_editor", "communications"];

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
      onclick: SB.oneAtATime(async () => {
        const result = await SB.api("PATCH", `/api/staff/${user.id}`, {
          role: role.value, extension: extension.value.trim(), disabled: disabled.checked,
          destination: destination.value.trim(), department: department.value.trim(),
        });
        note.textContent = !result.ok
          ? result.data.errors?.[0]?.message || result.data.detail || "Not saved."
          : result.data.pending_role || !result.data.approved ? "Saved; a second person must approve the role." : "Saved.";
      }),
    });
    const approval = !user.approved ? "account awaits approval"
      : user.pending_role ? `role ${user.pending_role.replace("_", " ")} awaits approval` : "in force";
    const reset = SB.el("button", {
      type: "button", class: "secondary", text: "Reset password",
      "aria-label": `Reset the password of ${user.username}`, onclick: () => askReset(user),
    });
    const tokens = SB.el("button", {
      type: "button", class: "secondary", text: "API tokens",
      "aria-label": `API tokens of ${user.username}`, onclick: () => showTokens(user),
    });
    const unlock = user.locked ? SB.el("button", {
      type: "button", class: "secondary", text: "Unlock", "aria-label": `Unlock ${user.username}`,
      onclick: SB.oneAtATime(async () => {
        const result = await SB.api("POST", `/api/staff/${user.id}/unlock`);
        note.classList.toggle("error", !result.ok);
        note.textContent = result.ok ? "Unlocked." : result.data.detail || "Not unlocked.";
        if (result.ok) unlock.remove();
      }),
    }) : null;
    const facts = SB.el("ul", { class: "facts" },
      SB.el("li", { text: `Last sign-in: ${user.last_sign_in_at ? SB.when(user.last_sign_in_at) : "never"}` }),
      SB.el("li", { text: signInState(user) }),
      SB.el("li", { text: `Second factor: ${user.second_factor ? "yes" : "no"}` }),
      SB.el("li", { text: `Approval: ${approval}` }));
    return [user.username, role, extension, destination, department, disabled, facts,
      SB.el("span", { class: "actions" }, save, reset, unlock, tokens, note)];
  }

  function signInState(user) {
    if (user.locked) return `Locked until ${SB.when(user.locked_until)}`;
    if (user.temporary_password_until) return `Temporary password, until ${SB.when(user.temporary_password_until)}`;
    return "Not locked";
  }

  /* Reset: confirm, then show the temporary password once; closing forgets it. */
  const dialog = document.getElementById("reset");
  let resetting = null;
  function askReset(user) {
    resetting = user;
    dialog.querySelectorAll("[data-reset-name]").forEach((node) => (node.textContent = user.username));
    dialog.querySelector("[data-reset-ask]").hidden = false;
    dialog.querySelector("[data-reset-done]").hidden = true;
    dialog.querySelector("[data-reset-error]").textContent = "";
    dialog.showModal();
    dialog.querySelector("[data-reset-cancel]").focus();
  }
  dialog.querySelector("[data-reset-cancel]").addEventListener("click", () => dialog.close());
  dialog.querySelector("[data-reset-confirm]").addEventListener("click", SB.oneAtATime(async () => {
    const result = await SB.api("POST", `/api/staff/${resetting.id}/temporary-password`);
    if (!result.ok) {
      dialog.querySelector("[data-reset-error]").textContent = result.data.detail || "Not reset.";
      return;
    }
    const data = result.data;
    dialog.querySelector("[data-reset-password]").textContent = data.temporary_password;
    dialog.querySelector("[data-reset-terms]").textContent =
      `It works once, until ${SB.when(data.expires_at)}, to choose a new password at sign-in. ` +
      `${data.tokens_revoked} API token(s) revoked.` +
      (data.awaits_approval ? " A second person must approve the account (under Approvals) before it can sign in again." : "");
    dialog.querySelector("[data-reset-ask]").hidden = true;
    dialog.querySelector("[data-reset-done]").hidden = false;
    dialog.querySelector("[data-reset-close]").focus();
  }));
  // The temporary password leaves the page as the dialog closes: at once when "Done" is
  // pressed (the close event comes a moment later), and on Escape.
  function forgetPassword() {
    dialog.querySelector("[data-reset-password]").textContent = "";
    dialog.querySelector("[data-reset-terms]").textContent = "";
  }
  dialog.addEventListener("close", () => {
    forgetPassword();
    if (!dialog.querySelector("[data-reset-done]").hidden) load();
  });
  dialog.querySelector("[data-reset-close]").addEventListener("click", () => {
    forgetPassword();
    dialog.close();
  });

  /* One person's API tokens, newest first, each revocable. */
  const tokensCard = document.getElementById("tokens");
  async function showTokens(user) {
    const { list, status } = SB.byId({ list: "token-list", status: "tokens-status" });
    document.getElementById("tokens-title").textContent = `API tokens of ${user.username}`;
    tokensCard.hidden = false;
    const result = await SB.api("GET", `/api/staff/${user.id}/tokens`);
    if (!result.ok) {
      status.textContent = result.data.detail || "Could not load.";
      return;
    }
    const now = Date.now();
    SB.fillTable(list, status, result.data.items, (token) => {
      const note = SB.el("span", { class: "row-note", role: "status" });
      const live = !token.revoked_at && Date.parse(token.expires_at) > now;
      const revoke = live ? SB.el("button", {
        type: "button", class: "secondary", text: "Revoke",
        "aria-label": `Revoke token ${token.label} issued ${SB.when(token.created_at)}`,
        onclick: SB.oneAtATime(async () => {
          const done = await SB.api("DELETE", `/api/tokens/${token.id}`);
          note.classList.toggle("error", !done.ok);
          note.textContent = done.ok ? "Revoked." : done.data.detail || "Not revoked.";
          if (done.ok) revoke.remove();
        }),
      }) : null;
      const state = token.revoked_at ? `revoked ${SB.when(token.revoked_at)}` : live ? "in use" : "expired";
      return [token.label, SB.when(token.created_at), SB.when(token.expires_at),
        token.last_used_at ? SB.when(token.last_used_at) : "never", state, SB.el("span", {}, revoke, note)];
    }, { empty: `${user.username} has no API tokens.` });
    tokensCard.scrollIntoView({ block: "start" });
    document.getElementById("tokens-title").focus();
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
