/* The call bar, on every page of those who take calls: the call ringing or in progress
   on this agent's line (from the screen-pop event stream), the caller, the way back to
   the call's workspace, pausing the recording while the caller gives sensitive details,
   and the agent's presence. It clears when the call ends.

   The tab's title says a call is ringing, never who: titles end up in the browser's
   history. The sound and the browser notification are off until the agent turns them
   on, a choice kept in this browser (localStorage). */
"use strict";

(() => {
  const bar = document.querySelector("[data-call-bar]");
  if (!bar || !window.EventSource) return;
  const state = bar.querySelector("[data-call-state]");
  const caller = bar.querySelector("[data-call-caller]");
  const open = bar.querySelector("[data-call-open]");
  const toggle = bar.querySelector("[data-recording-toggle]");
  const said = bar.querySelector("[data-recording-said]");
  const alerts = bar.querySelector("[data-call-alerts]");
  const presence = document.querySelector("[data-presence]");
  const baseTitle = document.title;
  const ALERTS_KEY = "switchboard:call-alerts";
  const calls = new Map(); // call SID -> { data, answered }
  const paused = new Set(); // call SIDs whose recording this page paused
  let stale = new Set();
  let audio = null;

  // -- the agent's choice of sound and notification, kept in this browser ----------
  alerts.checked = localStorage.getItem(ALERTS_KEY) === "on";
  alerts.addEventListener("change", async () => {
    localStorage.setItem(ALERTS_KEY, alerts.checked ? "on" : "off");
    if (!alerts.checked) return;
    audio = audio || (window.AudioContext ? new AudioContext() : null);
    if ("Notification" in window && Notification.permission === "default") {
      try {
        await Notification.requestPermission();
      } catch {
        /* the browser said no: the sound still plays */
      }
    }
  });

  function chime() {
    try {
      audio = audio || (window.AudioContext ? new AudioContext() : null);
      if (!audio) return;
      for (const [offset, pitch] of [[0, 880], [0.25, 660]]) {
        const tone = audio.createOscillator();
        const gain = audio.createGain();
        tone.frequency.value = pitch;
        gain.gain.setValueAtTime(0.15, audio.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + offset + 0.22);
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + offset);
        tone.stop(audio.currentTime + offset + 0.25);
      }
    } catch {
      /* no sound available: the bar and the title still say it */
    }
  }

  function alertRing() {
    if (!alerts.checked) return;
    chime();
    if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
      // Says nothing of the caller: notifications can show on a locked screen.
      const note = new Notification("A call is ringing", { body: "Switchboard 311", tag: "switchboard-call" });
      note.onclick = () => {
        window.focus();
        note.close();
      };
    }
  }

  // -- what the bar shows -------------------------------------------------------------
  const callerText = (data) =>
    data.caller_withheld ? "Number withheld" : data.from_number ? SB.phone(data.from_number) : "Number not available";

  const presenceWords = { available: "Available", busy: "Busy", wrap_up: "Wrap-up", away: "Away" };

  function idle() {
    bar.dataset.state = presence && presence.value === "wrap_up" ? "wrap-up" : "idle";
    state.textContent = presence && presence.value === "wrap_up"
      ? "Wrap-up: finish the last call's contact, then set yourself available."
      : `No call · ${presenceWords[presence?.value] || ""}`.replace(/ · $/, "");
    caller.hidden = true;
    caller.textContent = "";
    open.hidden = true;
    if (toggle) toggle.hidden = true;
    if (said) said.textContent = "";
    document.title = baseTitle;
  }

  function show() {
    if (calls.size === 0) {
      idle();
      return;
    }
    const all = [...calls.entries()];
    const [sid, call] = all.find(([, c]) => c.answered) || all[all.length - 1];
    const others = calls.size - 1;
    bar.dataset.state = call.answered ? "on-call" : "ringing";
    state.textContent = call.answered ? "On a call" : "Ringing";
    caller.textContent = `Caller: ${callerText(call.data)}${others ? ` (and ${others} more ringing)` : ""}`;
    caller.hidden = false;
    open.href = `/console/workspace?call=${encodeURIComponent(sid)}`;
    open.hidden = false;
    if (toggle) {
      // Twilio records once someone has picked up: before that there is nothing to pause.
      toggle.hidden = !call.answered;
      toggle.dataset.callSid = sid;
      const isPaused = paused.has(sid);
      toggle.textContent = isPaused ? "Resume recording" : "Pause recording";
      toggle.setAttribute("aria-pressed", isPaused ? "true" : "false");
    }
    document.title = `${call.answered ? "On a call" : "Call ringing"} · ${baseTitle}`;
  }

  let changedHere = 0; // when the agent last chose a state here
  async function refreshPresence() {
    if (!presence) return;
    const asked = Date.now();
    const current = await SB.api("GET", "/api/me/presence");
    // An answer older than the agent's own choice would undo it on screen.
    if (current.ok && changedHere < asked) presence.value = current.data.state;
    if (calls.size === 0) idle();
  }
  presence?.addEventListener("change", () => {
    changedHere = Date.now();
    if (calls.size === 0) idle();
  });

  // -- pausing the recording while the caller gives sensitive details -----------------
  toggle?.addEventListener("click", async () => {
    const sid = toggle.dataset.callSid;
    if (!sid) return;
    const action = paused.has(sid) ? "resume" : "pause";
    toggle.disabled = true;
    try {
      const result = await SB.api("POST", `/api/calls/${encodeURIComponent(sid)}/recording`, { action });
      if (!result.ok) {
        said.classList.add("error");
        said.textContent = `The recording was not ${action}d: ${result.data?.detail || "try again."}`;
        return;
      }
      said.classList.remove("error");
      if (action === "pause") {
        paused.add(sid);
        said.textContent = "Recording paused: the caller's details are not recorded.";
      } else {
        paused.delete(sid);
        said.textContent = "Recording again.";
      }
      show();
    } finally {
      toggle.disabled = false;
    }
  });

  // -- the event stream, shared with the page's own script (console.js) ---------------
  SB.callEvents({
    status(data) {
      if (!data.extension) {
        state.textContent = "No extension is set for your account, so no call can ring here.";
        return;
      }
      // A new stream names every call still ringing; those it does not name have ended.
      stale = new Set(calls.keys());
      setTimeout(() => {
        let gone = false;
        for (const sid of stale) gone = calls.delete(sid) || gone;
        stale = new Set();
        if (gone) show();
      }, 4000);
    },
    ring(data) {
      const known = calls.has(data.call_sid);
      stale.delete(data.call_sid);
      calls.set(data.call_sid, { data, answered: known ? calls.get(data.call_sid).answered : false });
      show();
      if (!known) alertRing();
    },
    answered(data) {
      const call = calls.get(data.call_sid);
      if (!call) return;
      call.answered = true;
      show();
    },
    ended(data) {
      calls.delete(data.call_sid);
      paused.delete(data.call_sid);
      show();
      // The agent's leg ending puts them in wrap-up: show it once the server has it.
      refreshPresence();
      setTimeout(refreshPresence, 1500);
    },
    // A session that ended: the page's own calls to the API open the sign-in dialog.
  });
  // The page changed the agent's status itself (someone at the counter, wrapped up).
  document.addEventListener("sb:presence", refreshPresence);
  idle();
  refreshPresence();
})();
