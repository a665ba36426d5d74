// Shared by the three workshop pages: API calls, element building, the debrief.
// Everything a person typed is shown with textContent, never as HTML.
"use strict";

const copsim = {
  async api(method, path, body, headers) {
    const options = { method, headers: Object.assign({ "Content-Type": "application/json" }, headers || {}) };
    if (body !== undefined) options.body = JSON.stringify(body);
    let response;
    try {
      response = await fetch(path, options);
    } catch (err) {
      return { ok: false, status: 0, data: { error: "offline", message: "No connection to the workshop: retrying." } };
    }
    let data = {};
    try { data = await response.json(); } catch (err) { data = {}; }
    return { ok: response.ok, status: response.status, data };
  },

  nonce() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  },

  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  fill(id, ...children) {
    const node = document.getElementById(id);
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
    return node;
  },

  fmt(value) {
    if (value === null || value === undefined) return "n/a";
    return typeof value === "number" ? value.toLocaleString("en-GB") : String(value);
  },

  signed(value) {
    if (value === null || value === undefined) return "n/a";
    const text = copsim.fmt(value);
    return value > 0 ? "+" + text : text;
  },

  timer(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.ceil(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  },

  // The debrief: one table per section (room, model alone, difference), then a card per person.
  debrief(d) {
    const el = copsim.el;
    const parts = [el("h2", {}, "Debrief: the room against the model alone"),
      el("p", { class: "muted" }, `Same world (seed ${d.seed}), ${d.weeks} weeks, ${d.rounds} rounds: ` +
        "what people decided against what the model would have done with the same firms."),
      el("ul", { class: "summary" }, d.summary.map((line) => el("li", {}, line)))];
    for (const section of d.sections) {
      parts.push(el("h3", {}, section.title));
      parts.push(el("div", { class: "table-wrap" }, el("table", { class: "debrief-table" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "In the room"),
          el("th", {}, "Model alone"), el("th", {}, "Difference"))),
        el("tbody", {}, section.rows.map((r) => el("tr", {},
          el("td", {}, r.metric), el("td", {}, copsim.fmt(r.room)), el("td", {}, copsim.fmt(r.alone)),
          el("td", { class: r.difference > 0 ? "up" : r.difference < 0 ? "down" : "" }, copsim.signed(r.difference))))))));
    }
    if (d.people && d.people.length) {
      // One card per person (a table of seven columns does not fit a phone).
      const both = (pair) => `${copsim.fmt(pair[0])} / ${copsim.fmt(pair[1])}`;
      parts.push(el("h3", {}, "Each person's entrepreneur (room / model alone)"));
      parts.push(el("div", { class: "person-cards" }, d.people.map((p) => el("div", { class: "person-card" },
        el("h4", {}, `${p.name}: ${p.firm}`),
        el("dl", {}, [["Knowledge", both(p.knowledge)], ["Ties", both(p.ties)], ["Ventures", both(p.ventures)],
          ["Meetings", both(p.meetings)], ["In business", `${p.alive[0] ? "yes" : "no"} / ${p.alive[1] ? "yes" : "no"}`]]
          .map(([label, value]) => el("div", {}, el("dt", {}, label), el("dd", {}, value))))))));
    }
    return el("section", { class: "copsim-debrief" }, parts);
  },
};
