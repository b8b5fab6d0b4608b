/* One recording: details, an audio player on the Range-capable audio URL (so seeking
   fetches only what it needs), a talk/silence bar per channel, and the QA form with
   comments pinned to moments in the call. */
"use strict";

(() => {
  const { root, status } = SB.byId({ root: "recording", status: "recording-status" });
  const sid = root.dataset.sid;
  const audio = document.getElementById("audio"); // only for those who may play it
  const SVG = "http://www.w3.org/2000/svg";
  let duration = 0;

  function meta(data) {
    const list = document.getElementById("recording-meta");
    const rows = [
      ["Started", SB.when(data.started_at)],
      ["Length", SB.seconds(data.duration_seconds)],
      ["Extension", data.extension || "–"],
      ["Agent", data.agent || "–"],
      ["State", data.state],
      ["Evaluations", String(data.evaluations.length)],
    ];
    list.replaceChildren(...rows.flatMap(([k, v]) => [SB.el("dt", { text: k }), SB.el("dd", { text: v })]));
    const agent = document.getElementById("f-agent");
    if (agent && !agent.value && data.agent) agent.value = data.agent;
  }

  function seekTo(fraction) {
    if (audio && duration) audio.currentTime = fraction * duration;
  }

  function activity(data) {
    const holder = document.getElementById("activity");
    const channels = Object.entries(data.activity || {});
    if (channels.length === 0) {
      holder.replaceChildren(SB.el("p", { class: "hint", text: "No talk/silence measurements yet." }));
      return;
    }
    holder.replaceChildren(
      ...channels.map(([name, slices]) => {
        const svg = document.createElementNS(SVG, "svg");
        svg.setAttribute("viewBox", `0 0 ${slices.length} 10`);
        svg.setAttribute("preserveAspectRatio", "none");
        svg.setAttribute("class", "activity-bar");
        svg.setAttribute("role", "img");
        const talking = slices.filter((s) => s >= 50).length;
        svg.setAttribute(
          "aria-label",
          `${name}: talking in ${Math.round((100 * talking) / Math.max(1, slices.length))}% of the call`,
        );
        slices.forEach((share, index) => {
          const rect = document.createElementNS(SVG, "rect");
          rect.setAttribute("x", index);
          rect.setAttribute("y", 0);
          rect.setAttribute("width", 1);
          rect.setAttribute("height", 10);
          rect.setAttribute("class", share >= 50 ? "talk" : "silence");
          rect.setAttribute("opacity", (0.35 + (0.65 * share) / 100).toFixed(2));
          svg.append(rect);
        });
        svg.addEventListener("click", (event) => {
          const box = svg.getBoundingClientRect();
          seekTo((event.clientX - box.left) / box.width);
        });
        return SB.el("div", { class: "channel" }, SB.el("span", { class: "channel-name", text: name }), svg);
      }),
    );
  }

  async function load() {
    const result = await SB.api("GET", `/api/recordings/${sid}`);
    if (!result.ok) {
      status.textContent = result.data.detail || "The recording could not be loaded.";
      return;
    }
    status.textContent = result.data.playable ? "Ready to play." : `Not playable: ${result.data.state}.`;
    duration = result.data.duration_seconds || 0;
    meta(result.data);
    activity(result.data);
  }

  if (audio) {
    const { play, seek, position } = SB.byId({ play: "play", seek: "seek", position: "position" });
    const show = () => {
      position.textContent = `${SB.seconds(audio.currentTime)} / ${SB.seconds(duration)}`;
      seek.value = audio.currentTime;
    };
    audio.addEventListener("loadedmetadata", () => {
      if (Number.isFinite(audio.duration)) duration = audio.duration;
      seek.max = duration;
      show();
    });
    audio.addEventListener("timeupdate", show);
    audio.addEventListener("play", () => {
      play.textContent = "Pause";
      play.setAttribute("aria-pressed", "true");
    });
    audio.addEventListener("pause", () => {
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
    });
    audio.addEventListener("error", () => {
      status.textContent = "The audio could not be played.";
    });
    play.addEventListener("click", () => (audio.paused ? audio.play() : audio.pause()));
    document.getElementById("back").addEventListener("click", () => {
      audio.currentTime = Math.max(0, audio.currentTime - 10);
    });
    document.getElementById("forward").addEventListener("click", () => {
      audio.currentTime = Math.min(duration || audio.currentTime + 10, audio.currentTime + 10);
    });
    seek.addEventListener("input", () => {
      audio.currentTime = Number(seek.value);
    });
  }

  const qa = document.getElementById("qa-form");
  if (qa) {
    const comments = [];
    const { list, formSelect, result } = SB.byId({
      list: "comments", formSelect: "f-form_id", result: "qa-result",
    });
    const showForm = () =>
      qa.querySelectorAll(".qa-questions").forEach((part) => {
        part.hidden = part.dataset.form !== formSelect.value;
      });
    formSelect.addEventListener("change", showForm);
    showForm();

    function drawComments() {
      list.replaceChildren(
        ...comments.map((c, index) =>
          SB.el(
            "li",
            {},
            SB.el("button", {
              type: "button",
              class: "link",
              text: SB.seconds(c.at_seconds),
              "aria-label": `Play from ${SB.seconds(c.at_seconds)}`,
              onclick: () => audio && (audio.currentTime = c.at_seconds),
            }),
            ` ${c.text} `,
            SB.el("button", {
              type: "button",
              class: "secondary small",
              text: "Remove",
              onclick: () => {
                comments.splice(index, 1);
                drawComments();
              },
            }),
          ),
        ),
      );
    }
    document.getElementById("comment-now").addEventListener("click", () => {
      const text = document.getElementById("f-comment");
      if (!text.value.trim()) {
        text.focus();
        return;
      }
      const at = audio ? Math.round(audio.currentTime * 10) / 10 : 0;
      comments.push({ at_seconds: at, text: text.value.trim() });
      comments.sort((a, b) => a.at_seconds - b.at_seconds);
      text.value = "";
      drawComments();
    });

    qa.addEventListener("submit", async (event) => {
      event.preventDefault();
      const part = qa.querySelector(`.qa-questions[data-form="${formSelect.value}"]`);
      const answers = {};
      part.querySelectorAll(".question").forEach((question) => {
        const id = question.dataset.question;
        const checked = question.querySelector("input[type=radio]:checked");
        const number = question.querySelector("input[type=number]");
        if (checked) answers[id] = checked.value;
        else if (number && number.value !== "") answers[id] = Number(number.value);
      });
      const body = {
        form_id: Number(formSelect.value),
        agent: document.getElementById("f-agent").value.trim(),
        answers,
        comments,
      };
      const sent = await SB.api("POST", `/api/recordings/${sid}/evaluations`, body);
      if (!sent.ok) {
        SB.showProblem(qa, sent.data);
        return;
      }
      SB.clearErrors(qa);
      SB.clearDraft(qa);
      result.replaceChildren(
        SB.el(
          "p",
          {},
          "Evaluation saved: score ",
          SB.el("strong", { text: `${sent.data.score}%` }),
          sent.data.failed_critical ? " (a critical question failed)" : "",
          ".",
        ),
      );
      load();
    });
  }

  load();
})();
