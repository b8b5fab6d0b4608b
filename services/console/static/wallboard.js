/* The wallboard: the server sends the whole board (server-sent events) whenever a figure
   changes; each figure on the page is updated in place. Screen readers are told only of
   new waiting calls, not of every change. */
"use strict";

(() => {
  const status = document.getElementById("board-status");
  let updates = 0;

  const minsec = (seconds) => (seconds === null || seconds === undefined ? "–" : SB.seconds(seconds));

  function figures(row) {
    return {
      waiting: String(row.waiting),
      longest_wait: minsec(row.longest_wait_seconds),
      service_level: row.service_level === null ? "–" : `${row.service_level}%`,
      abandoned_today: String(row.abandoned_today),
      answered_today: String(row.answered_today),
      "agents.available": String(row.agents.available),
      "agents.busy": String(row.agents.busy),
      "agents.wrap_up": String(row.agents.wrap_up),
      "agents.away": String(row.agents.away),
      "names.available": row.staff.available.join(", "),
      "names.busy": row.staff.busy.join(", "),
      "names.wrap_up": row.staff.wrap_up.join(", "),
      "names.away": row.staff.away.join(", "),
    };
  }

  function show(section, row) {
    for (const [name, text] of Object.entries(figures(row))) {
      const node = section.querySelector(`[data-figure="${name}"]`);
      if (node && node.textContent !== text) {
        node.textContent = text;
        node.classList.remove("changed");
        void node.offsetWidth; // restart the highlight
        node.classList.add("changed");
      }
    }
  }

  function onBoard(board) {
    const boards = document.querySelector(".boards");
    show(document.querySelector('[data-board="all"]'), board.total);
    for (const row of board.departments) {
      let section = document.querySelector(`[data-board="${CSS.escape(row.department)}"]`);
      if (!section) {
        // A department first seen now: a tile like the others.
        section = document.querySelector('[data-board="all"]').cloneNode(true);
        section.dataset.board = row.department;
        const id = `board-new-${row.department || "none"}-title`;
        section.setAttribute("aria-labelledby", id);
        const heading = section.querySelector("h2");
        heading.id = id;
        const name = row.name.charAt(0).toUpperCase() + row.name.slice(1);
        heading.textContent = row.department ? `${name} (key ${row.department})` : name;
        boards.append(section);
      }
      show(section, row);
    }
    updates += 1;
    status.dataset.updated = String(updates);
    const waiting = board.total.waiting;
    status.textContent = `Live. ${waiting} call${waiting === 1 ? "" : "s"} waiting; updated ${new Date().toLocaleTimeString("en-US", { timeZone: document.querySelector('meta[name="city-tz"]').content, timeStyle: "short" })}.`;
  }

  function connect() {
    const source = new EventSource("/console/wallboard/events");
    source.addEventListener("board", (event) => onBoard(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      status.textContent = "Reconnecting…";
    });
  }
  connect();
})();
