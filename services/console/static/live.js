/* The screen pop: server-sent events name each call ringing on this agent's extension,
   with the caller's earlier requests. EventSource reconnects by itself; the stream is
   the page's one (SB.callEvents), shared with the call bar. */
"use strict";

(() => {
  const { status, pops, template } = SB.byId({
    status: "live-status", pops: "pops", template: "pop-template",
  });
  const cards = new Map();

  function requestList(items) {
    if (items.length === 0) return SB.el("p", { text: "No earlier requests from this number." });
    return SB.el(
      "ul",
      { class: "earlier" },
      ...items.map((item) =>
        SB.el(
          "li",
          {},
          SB.el("strong", {}, SB.requestLink(item.id)),
          ` · ${SB.serviceName(item.service_code)} · ${item.status.replace("_", " ")} · ${SB.when(item.created_at)}`,
          item.address ? ` · ${item.address}` : "",
          item.description ? SB.el("br") : null,
          item.description ? SB.el("span", { class: "hint", text: item.description }) : null,
        ),
      ),
    );
  }

  function ring(data) {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.callSid = data.call_sid;
    card.querySelector(".pop-title").textContent = `Incoming call on extension ${data.extension}`;
    card.querySelector(".pop-caller").textContent = data.caller_withheld
      ? "Number withheld"
      : `Caller: ${data.from_number_for_people || "number not available"}`;
    card.querySelector(".pop-meta").textContent = `Started ${SB.when(data.started_at)}`;
    const list = card.querySelector(".pop-requests");
    if (data.caller_withheld) {
      list.append(SB.el("p", { text: "The caller withheld their number: no earlier requests to show." }));
    } else {
      list.append(requestList(data.requests));
    }
    card.querySelector(".pop-open").href = `/console/workspace?call=${data.call_sid}`;
    cards.set(data.call_sid, card);
    pops.prepend(card);
    status.textContent = data.caller_withheld
      ? "A call is ringing: number withheld."
      : "A call is ringing.";
  }

  function ended(data) {
    const card = cards.get(data.call_sid);
    if (!card) return;
    card.classList.add("ended");
    card.querySelector(".pop-title").textContent += " (ended)";
    cards.delete(data.call_sid);
  }

  // The call bar's stream (one per page: each ring it sends is audited once).
  SB.callEvents({
    status(data) {
      status.textContent = data.extension
        ? `Waiting for calls on extension ${data.extension}.`
        : "No extension is set for your account: ask an administrator to set one.";
    },
    ring(data) {
      if (!cards.has(data.call_sid)) ring(data); // a new stream names it again
    },
    ended,
    error() {
      status.textContent = "Reconnecting…";
    },
    async signedOut() {
      await SB.reauth();
      window.location.reload();
    },
  });
})();
