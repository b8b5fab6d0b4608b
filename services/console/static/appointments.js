/* Booking a visit: the text the caller will get is previewed before anything is sent,
   and nothing is booked without the caller's consent. */
"use strict";

(() => {
  const { form, preview, booked } = SB.byId({ form: "booking", preview: "preview", booked: "booked" });

  function window_(values) {
    if (!values.date || !values.start || !values.end) return null;
    return { starts_at: `${values.date}T${values.start}`, ends_at: `${values.date}T${values.end}` };
  }

  async function showPreview() {
    const values = SB.formJSON(form);
    const span = window_(values);
    if (!span || !values.request_id || !values.location) {
      preview.textContent = "Fill in the request, date, times and place to see it.";
      return;
    }
    const result = await SB.api("POST", "/api/appointments/preview", {
      request_id: values.request_id,
      location: values.location,
      language: values.language || "en",
      ...span,
    });
    preview.textContent = result.ok
      ? `${result.data.text} (${result.data.characters} characters)`
      : `No preview yet: ${result.data.detail || result.data.title}`;
  }
  document.getElementById("preview-button").addEventListener("click", showPreview);
  form.addEventListener("change", (event) => {
    if (event.target.name !== "consent") showPreview();
  });

  SB.builders.booking = (f) => {
    const values = SB.formJSON(f);
    const span = window_(values);
    if (!span) {
      SB.showProblem(f, { errors: [{ field: "date", message: "Choose the date and times." }] });
      return null;
    }
    return {
      request_id: values.request_id,
      location: values.location,
      phone: values.phone,
      language: values.language || "en",
      consent: Boolean(values.consent),
      ...span,
    };
  };
  SB.renderers.booking = (data) => {
    const texts = data.texts.map((text) => SB.el("li", { text: `${text.kind}: ${text.state}` }));
    booked.replaceChildren(
      SB.el("p", {}, "Booked ", SB.el("strong", { text: data.id }), " for ", SB.requestLink(data.request_id), "."),
      SB.el("ul", {}, ...texts),
      SB.el("p", {}, SB.el("a", { href: "/console/messages", text: "See the texts in the outbox" })),
    );
    booked.hidden = false;
    form.reset();
    preview.textContent = "Fill in the request, date, times and place to see it.";
  };
})();
