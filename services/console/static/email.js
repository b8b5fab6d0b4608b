/* The email outbox: update emails to callers, page by page, newest first; and, with the
   console gateway, every email it kept instead of sending (sign-up confirmations among
   them), each shown as plain text so its links can be read and copied, never followed
   from here or rendered as markup. */
"use strict";

(() => {
  const { form, table, status, more } = SB.byId({
    form: "email-refresh", table: "email-outbox", status: "email-outbox-status", more: "more",
  });
  // Only with the console gateway: with SMTP nothing is kept, and the page has no section.
  const kept = document.getElementById("kept");
  const keptStatus = document.getElementById("kept-status");

  const loadOutbox = SB.pager({
    form, more, url: "/api/email/outbox", cursor: "before_id",
    params: () => ({}),
    show: (items, append) => SB.fillTable(table, status, items, (email) => [
      email.to,
      email.subject,
      SB.el("span", { class: "email-text", text: email.body }),
      email.failure ? `${email.state}: ${email.failure}` : email.state,
      SB.when(email.sent_at),
    ], { append, empty: "No update emails yet." }),
  });

  function keptEmail(email) {
    return SB.el("li", { class: "card kept-email" },
      SB.el("h3", { text: email.subject || "(no subject)" }),
      SB.el("dl", { class: "meta" },
        SB.el("dt", { text: "To" }), SB.el("dd", { text: email.to }),
        SB.el("dt", { text: "Handed over" }), SB.el("dd", { text: SB.when(email.handed_at) })),
      SB.el("pre", { class: "email-text", text: email.text }));
  }

  async function loadKept() {
    const result = await SB.api("GET", "/api/email/console");
    if (!result.ok) {
      keptStatus.textContent = "The kept emails could not be loaded: " + (result.data.detail || "try again.");
      return;
    }
    kept.replaceChildren(...result.data.items.map(keptEmail));
    const count = result.data.items.length;
    keptStatus.textContent = count
      ? `${count} ${count === 1 ? "email" : "emails"} kept, newest first.`
      : "No emails kept yet.";
  }

  if (kept) form.addEventListener("submit", loadKept);
  loadOutbox(false);
  if (kept) loadKept();
})();
