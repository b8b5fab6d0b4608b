/* Filing a request: the anonymous switch takes the contact fields and the call link off
   the page (and out of what is sent), and says what will not be kept. The call comes
   from the address (#call=CA...), and what is typed is kept as that call's draft. */
"use strict";

(() => {
  const { form, anonymous, contact, callLink, callSid, note, filed } = SB.byId({
    form: "request-form", anonymous: "f-anonymous", contact: "contact", callLink: "call-link",
    callSid: "f-call_sid", note: "anonymous-note", filed: "filed",
  });

  const callInAddress = () => {
    const found = window.location.hash.match(/call=(CA[0-9a-fA-F]{32})/);
    return found ? found[1] : "";
  };
  // Before console.js restores drafts (on DOMContentLoaded): this call's own draft only.
  form.dataset.draftScope = callInAddress();
  callSid.value = callInAddress();

  function apply() {
    const on = anonymous.checked;
    note.hidden = !on;
    for (const part of [contact, callLink]) {
      part.hidden = on;
      part.querySelectorAll("input, textarea, select").forEach((field) => (field.disabled = on));
    }
  }
  anonymous.addEventListener("change", apply);
  apply();

  // Emptied (a draft discarded, another call): the call is still the address's.
  for (const name of ["draft-discarded", "draft-scoped"]) {
    form.addEventListener(name, () => {
      callSid.value = callInAddress();
      apply();
    });
  }
  window.addEventListener("hashchange", () => {
    if (callInAddress() === form.dataset.draftScope) return;
    SB.scopeDraft(form, callInAddress());
  });

  SB.renderers["request-form"] = (data) => {
    const parts = [SB.el("p", {}, "Filed ", SB.el("strong", { text: data.id }), ".")];
    if (data.anonymous) {
      parts.push(SB.el("p", { text: "Anonymous: no contact details and no call link were kept." }));
    }
    if (data.possible_duplicates.length) {
      parts.push(
        SB.el("p", { text: `Possible duplicates of: ${data.possible_duplicates.join(", ")}.` }),
      );
    }
    for (const consent of data.updates || []) {
      parts.push(SB.el("p", { text: `Read to the caller: ${consent.confirmation}` }));
    }
    filed.replaceChildren(...parts);
    filed.hidden = false;
    form.reset();
    callSid.value = callInAddress();
    apply();
    filed.focus();
  };
  filed.tabIndex = -1;
})();
