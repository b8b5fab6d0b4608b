/* News alerts: write, preview, send; the list of alerts with their counts (totals only). */
"use strict";

(() => {
  const { draft, preview, sendButton, sendStatus } = SB.byId({
    draft: "alert-draft", preview: "preview", sendButton: "send", sendStatus: "send-status",
  });
  let previewed = null;
  const subscribers = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;

  function body(form) {
    const values = SB.formJSON(form);
    for (const name of ["subject_es", "body_es"]) {
      if (!values[name]) delete values[name];
    }
    return values;
  }

  async function load() {
    const result = await SB.api("GET", "/api/alerts");
    if (!result.ok) return;
    SB.fillTable(
      document.getElementById("alerts"),
      document.getElementById("alerts-status"),
      result.data.items,
      (a) => [
        a.id, a.subject, SB.when(a.created_at), a.state, String(a.recipients), String(a.sent),
        String(a.failed), String(a.uncertain), a.opens === null ? "not counted" : String(a.opens),
      ],
      { empty: "No alerts yet." },
    );
  }

  // What the preview on its way was asked for; an edit made before its answer comes drops
  // it, so what is sent is what was shown, never what was typed while it was on its way.
  let asked = null;
  SB.builders["alert-draft"] = (form) => (asked = body(form));
  SB.renderers["alert-draft"] = (data) => {
    previewed = asked;
    document.getElementById("preview-recipients").textContent =
      `It would go to ${subscribers(data.recipients, "confirmed subscriber")}.` +
      (data.tracking ? " Opens are counted (in total, never who)." : "");
    document.getElementById("preview-en").textContent = `${data.english.subject}\n\n${data.english.text}`;
    document.getElementById("preview-es").textContent = `${data.spanish.subject}\n\n${data.spanish.text}`;
    sendStatus.textContent = "";
    sendButton.disabled = previewed === null;
    preview.hidden = false;
  };
  draft.addEventListener("input", () => {
    // Only what was previewed is sent: an edit needs a new preview.
    previewed = null;
    asked = null;
    sendButton.disabled = true;
  });
  sendButton.addEventListener("click", SB.oneAtATime(async () => {
    if (previewed === null) return true;
    const result = await SB.api("POST", "/api/alerts", previewed);
    if (!result.ok) {
      sendStatus.textContent = result.data.detail || "The alert was not sent.";
      return false;
    }
    sendStatus.textContent = `Alert ${result.data.id} is being sent to ${subscribers(result.data.recipients, "subscriber")}.`;
    previewed = null;
    // Sent: the form starts empty, so sending it again takes writing it again (and the
    // server refuses the same alert word for word within the hour).
    draft.reset();
    SB.clearDraft(draft);
    load();
    return true;  // sent: the button waits for a new preview
  }));
  document.getElementById("refresh").addEventListener("click", load);
  load();
})();
