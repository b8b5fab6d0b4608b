/* Second-factor enrolment for a session that must have one before anything else. */
"use strict";

(() => {
  const { start, confirm } = SB.byId({ start: "enrol-start", confirm: "enrol-confirm" });
  start.addEventListener("click", SB.oneAtATime(async () => {
    const result = await SB.api("POST", "/api/session/totp", {});
    if (!result.ok) return;
    const uri = result.data.provisioning_uri;
    document.getElementById("enrol-secret").textContent =
      new URL(uri).searchParams.get("secret") || "";
    document.getElementById("enrol-uri").href = uri;
    document.getElementById("enrol-key").hidden = false;
    start.hidden = true;
    document.getElementById("f-code").focus();
  }));
  confirm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await SB.api("POST", "/api/session/totp/confirm", SB.formJSON(confirm));
    if (!result.ok) {
      SB.showProblem(confirm, result.data);
      return;
    }
    window.location.assign("/console/");
  });
})();
