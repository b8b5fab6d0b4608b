/* The outbox (texts sent or waiting) and what callers texted back. */
"use strict";

(() => {
  async function load() {
    const outbox = await SB.api("GET", "/api/messages/outbox");
    if (outbox.ok) {
      SB.fillTable(
        document.getElementById("outbox"),
        document.getElementById("outbox-status"),
        outbox.data.items,
        (t) => [t.to, t.body, t.kind, t.state, SB.when(t.not_before)],
        { empty: "No texts yet." },
      );
    }
    const inbound = await SB.api("GET", "/api/messages/inbound");
    if (inbound.ok) {
      SB.fillTable(
        document.getElementById("inbound"),
        document.getElementById("inbound-status"),
        inbound.data,
        (t) => [t.sender, t.body, SB.when(t.received_at), t.earlier_requests.join(", ") || "–"],
        { empty: "No replies yet." },
      );
    }
  }
  document.getElementById("refresh").addEventListener("click", load);
  load();
})();
