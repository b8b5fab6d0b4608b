/* The sign-in form: password, then the authenticator code when the account uses one,
   and a new password when the one typed was a temporary one from an administrator. */
"use strict";

(() => {
  const form = document.getElementById("sign-in");
  if (new URLSearchParams(window.location.search).has("signed_out")) {
    form.querySelector("[data-signed-out]").hidden = false;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = SB.formJSON(form);
    const result = await SB.signIn(body);
    if (!result.ok) {
      const needsCode = (result.data.errors || []).some((e) => e.field === "totp_code");
      if (needsCode) {
        const totp = form.querySelector("[data-totp]");
        totp.hidden = false;
        SB.clearErrors(form);
        form.querySelector("[data-form-error]").textContent = result.data.detail;
        totp.querySelector("input").focus();
        return;
      }
      const needsNew = (result.data.errors || []).some((e) => e.field === "new_password");
      const fresh = form.querySelector("[data-new-password]");
      if (needsNew && fresh.hidden) {
        fresh.hidden = false;
        SB.clearErrors(form);
        form.querySelector("[data-form-error]").textContent = result.data.detail;
        fresh.querySelector("input").focus();
        return;
      }
      SB.showProblem(form, result.data);
      return;
    }
    if (form.dataset.reload === "yes") window.location.reload();
    else window.location.assign("/console/");
  });
})();
