/* The service catalogue: add a service; offer or retire one. */
"use strict";

(() => {
  const status = document.getElementById("services-status");
  document.querySelectorAll("input[data-service]").forEach((box) => {
    box.addEventListener("change", async () => {
      const result = await SB.api("PATCH", `/api/services/${box.dataset.service}`, { active: box.checked });
      status.textContent = result.ok
        ? `${box.dataset.service} is ${box.checked ? "offered" : "retired"}.`
        : result.data.detail || "Not saved.";
    });
  });
  SB.renderers["new-service"] = () => window.location.reload();
})();
