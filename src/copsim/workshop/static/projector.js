// The projector: the network growing live, the round timer, decisions in, outcomes,
// and the debrief at the end. Polls /api/status every second; the network only when
// the model has changed (its version).
"use strict";

(() => {
  const { el, fill, api, fmt } = copsim;
  const SVG = "http://www.w3.org/2000/svg";
  let shownVersion = -1;
  let debriefShown = false;

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  async function drawNetwork() {
    const res = await api("GET", "/api/network");
    if (!res.ok) return;
    const { nodes, edges, groups, version } = res.data;
    const lines = svg("g", {});
    for (const [a, b, width, jv] of edges) {
      lines.append(svg("line", { x1: nodes[a].x, y1: nodes[a].y, x2: nodes[b].x, y2: nodes[b].y,
        stroke: jv ? "#e6550d" : "#5b6b7c", "stroke-width": jv ? width + 2 : width,
        "stroke-opacity": jv ? 0.95 : 0.35 }));
    }
    const dots = svg("g", {});
    const labels = svg("g", {});
    for (const n of nodes) {
      const person = n.p !== undefined;
      const circle = svg("circle", { cx: n.x, cy: n.y, r: person ? n.r + 3 : n.r, fill: n.c,
        "fill-opacity": n.o, stroke: person ? "#111111" : "#ffffff", "stroke-width": person ? 3 : 0.8,
        class: person ? "node person" : "node" });
      const title = svg("title", {});
      title.textContent = person ? n.p : String(n.id);
      circle.append(title);
      dots.append(circle);
      if (person) {
        const label = svg("text", { x: n.x + n.r + 6, y: n.y + 6, class: "node-label" });
        label.textContent = n.p;
        labels.append(label);
      }
    }
    const names = svg("g", {});
    for (const g of groups) {
      const label = svg("text", { x: g.x, y: g.y, "text-anchor": "middle", class: "group-label" });
      label.textContent = g.name;
      names.append(label);
    }
    document.getElementById("network").replaceChildren(lines, dots, names, labels);
    document.getElementById("network").dataset.version = version;
    shownVersion = version;
  }

  function stat(label, value) {
    return el("div", { class: "stat" }, el("span", { class: "stat-value" }, value), el("span", { class: "muted" }, label));
  }

  async function refresh() {
    const res = await api("GET", "/api/status");
    if (!res.ok) return;
    const s = res.data;
    document.getElementById("join-url").textContent = s.join_url;
    document.getElementById("join-code").textContent = s.code || "expired";
    document.getElementById("join-box").hidden = s.state === "ended";
    let head;
    if (s.state === "open") {
      head = [el("h2", {}, `Round ${s.round} of ${s.rounds}`),
        el("p", { class: "timer", id: "timer" }, copsim.timer(s.seconds_left)),
        el("p", { class: "decided" }, `Decisions in: ${s.decided} of ${s.connected} connected`)];
    } else if (s.state === "ended") {
      head = [el("h2", {}, "Session ended"), el("p", {}, `${s.rounds_played} rounds played`)];
    } else {
      head = [el("h2", {}, s.state === "lobby" ? "Join now: the first round starts soon"
        : `Round ${s.round} of ${s.rounds} done`), el("p", { class: "decided" }, `${s.participants} people playing`)];
    }
    fill("round-box", head, el("p", { class: "muted" }, `Week ${s.week}`));
    const o = s.outcomes;
    fill("outcomes", el("div", { class: "stats" },
      stat("members", fmt(o.members)), stat("at the last meetings", fmt(o.attendance)),
      stat("trust ties", fmt(o.ties)), stat("strong ties", fmt(o.strong_ties)),
      stat("joint ventures formed", fmt(o.ventures_formed)), stat("ventures active", fmt(o.ventures_active)),
      stat("members' knowledge", o.knowledge_members === null ? "n/a" : o.knowledge_members.toFixed(3)),
      stat("firms in business", o.survival === null ? "n/a" : `${(100 * o.survival).toFixed(1)} %`)));
    // The feed comes newest first; the projector tells it in week order, newest at the bottom,
    // under a heading that stays put while the list scrolls.
    const lines = el("ul", {}, [...s.feed].reverse().map((line) => el("li", {}, line)));
    fill("feed", el("h3", {}, "What happened"), lines);
    lines.scrollTop = lines.scrollHeight;
    if (s.version !== shownVersion) await drawNetwork();
    if (s.state === "ended" && !debriefShown) {
      const d = await api("GET", "/api/debrief");
      if (d.ok) {
        const box = fill("debrief", copsim.debrief(d.data));
        box.hidden = false;
        debriefShown = true;
      }
    }
  }

  refresh();
  setInterval(refresh, 1000);
})();
