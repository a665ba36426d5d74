// The participant's page: join, the entrepreneur's card, the round's decision.
// The token lives in this browser's localStorage, so a reload gets the same entrepreneur.
"use strict";

(() => {
  const { el, fill, api, fmt } = copsim;
  const TOKEN = "copsim-workshop-token";
  let me = null;
  let formRound = -1;          // the round the decision form was built for
  let answers = {};            // proposal id -> accept, sent with the decision
  let sentRound = -1;
  let proposalsShown = "";

  const token = () => localStorage.getItem(TOKEN);
  const headers = () => ({ "X-Copsim-Token": token() || "" });

  // A join error stays until the person acts (types or joins again): the refresh every two
  // seconds shows the join form again without a message and must not wipe it.
  function showJoin(message) {
    document.getElementById("join").hidden = false;
    document.getElementById("play").hidden = true;
    if (message) document.getElementById("join-error").textContent = message;
    const code = new URLSearchParams(location.search).get("code");
    if (code && !document.getElementById("code").value) document.getElementById("code").value = code;
  }

  document.getElementById("join-form").addEventListener("input", () => {
    document.getElementById("join-error").textContent = "";
  });

  document.getElementById("join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    document.getElementById("join-error").textContent = "";
    const body = { code: document.getElementById("code").value, name: document.getElementById("name").value };
    const res = await api("POST", "/api/join", body);
    if (!res.ok) {
      document.getElementById("join-error").textContent = res.data.message || "Could not join.";
      return;
    }
    localStorage.setItem(TOKEN, res.data.token);
    formRound = -1;
    await refresh();
  });

  async function refresh() {
    if (!token()) { showJoin(); return; }
    const res = await api("GET", "/api/me", undefined, headers());
    if (res.status === 401 || res.status === 403) {
      localStorage.removeItem(TOKEN);
      showJoin(res.data.message);
      return;
    }
    if (!res.ok) {
      document.getElementById("round-info").textContent = res.data.message || "Reconnecting...";
      return;
    }
    me = res.data;
    document.getElementById("join").hidden = true;
    document.getElementById("play").hidden = false;
    render();
  }

  function roundText() {
    if (me.state === "open") return `Round ${me.round} of ${me.rounds} · ${copsim.timer(me.seconds_left)} left`;
    if (me.state === "ended") return "The session has ended";
    if (me.state === "lobby") return "Waiting for the first round";
    return `Round ${me.round} of ${me.rounds} done · wait for the next`;
  }

  function render() {
    document.getElementById("round-info").textContent = `${roundText()} · week ${me.week}`;
    renderCard();
    renderDecision();
    renderNews();
    const debrief = document.getElementById("debrief");
    debrief.hidden = !me.debrief;
    if (me.debrief && !debrief.dataset.shown) {
      fill("debrief", copsim.debrief(me.debrief));
      debrief.dataset.shown = "1";
      debrief.scrollIntoView();
    }
  }

  function renderCard() {
    const c = me.card;
    const knowledge = Object.entries(c.knowledge).map(([topic, value]) =>
      el("div", { class: "kbar" }, el("span", { class: "klabel" }, topic),
        el("span", { class: "ktrack" }, el("span", { class: "kfill", style: null, "data-v": value })),
        el("span", { class: "kvalue" }, value.toFixed(2))));
    fill("card",
      el("div", { class: "card-head" }, el("h1", { class: "firm", id: "firm-name" }, c.name),
        el("p", { class: "muted" }, `played by ${me.name} · ${c.sector} · ${c.type} · ${c.region}`),
        el("p", {}, el("strong", {}, "Group: "), c.group, ` · ${c.meetings} meeting${c.meetings === 1 ? "" : "s"} attended`)),
      el("p", { class: c.problem === "none" ? "" : "problem" }, el("strong", {}, "Current problem: "), c.problem),
      el("div", { class: "facts" },
        fact("Cash", `${fmt(c.cash)} €`), fact("Revenue", `${fmt(c.revenue)} €/wk`),
        fact("Employees", fmt(c.employees)), fact("Confidence", c.confidence.toFixed(2))),
      el("p", {}, el("strong", {}, "Assets: "), c.assets.length ? c.assets.join(", ") : "none"),
      el("details", { open: true }, el("summary", {}, "Knowledge (0-1)"), knowledge),
      el("p", {}, el("strong", {}, "Trusted peers: "),
        c.ties.length ? c.ties.map(([n, t]) => `${n} (${t})`).join(", ") : "none yet"),
      c.alive ? null : el("p", { class: "error" }, "This firm has closed down."));
    for (const bar of document.querySelectorAll(".kfill")) bar.style.width = `${Math.round(100 * bar.dataset.v)}%`;
  }

  function fact(label, value) {
    return el("div", { class: "fact" }, el("span", { class: "muted" }, label), el("strong", {}, value));
  }

  function peerLabel(p) {
    return `${p.firm}${p.player ? " (" + p.player + ")" : ""} · trust ${p.trust.toFixed(2)}`;
  }

  function renderDecision() {
    if (me.state !== "open") {
      formRound = -1;
      fill("decide", el("h2", {}, "Decisions"),
        el("p", { class: "muted" }, me.state === "ended" ? "The session is over: see the debrief above."
          : "The next round opens when the facilitator says so. Read your card meanwhile."));
      return;
    }
    if (!me.can_decide) {
      fill("decide", el("h2", {}, `Round ${me.round}`), el("p", { class: "error" }, me.why_not));
      return;
    }
    if (formRound !== me.round) {
      buildForm();
      document.getElementById("decide").scrollIntoView({ block: "start" });
    }
    renderProposals();
    const status = document.getElementById("sent-status");
    if (status && me.decision && sentRound !== me.round) {
      status.textContent = "Decision received ✓ (you can change it until the round closes)";
      sentRound = me.round;
    }
  }

  function buildForm() {
    formRound = me.round;
    answers = me.decision ? Object.assign({}, me.decision.answers) : {};
    const d = me.decision || {};
    const problemKey = (me.topics.find((t) => t.label === me.card.problem) || {}).key;
    const topic = d.topic !== undefined ? d.topic : problemKey || null;
    const select = (id, options, chosen) => el("select", { id, name: id },
      options.map(([value, label]) => el("option", { value: value ?? "", selected: (value ?? "") === (chosen ?? "") }, label)));
    const peers = me.peers.map((p) => [String(p.row), peerLabel(p)]);
    const attend = d.attend !== undefined ? d.attend : true;
    fill("decide",
      el("h2", {}, `Round ${me.round}: your decisions`),
      el("form", { id: "decision-form", onsubmit: (e) => { e.preventDefault(); send(); } },
        el("fieldset", { class: "attend" }, el("legend", {}, "Go to the group's meeting?"),
          el("label", {}, el("input", { type: "radio", name: "attend", value: "yes", checked: attend }), " Yes, I attend"),
          el("label", {}, el("input", { type: "radio", name: "attend", value: "no", checked: !attend }), " No, not this time")),
        el("label", { for: "topic" }, "Topic to raise (the theme if you host)"),
        select("topic", [[null, "nothing in particular"], ...me.topics.map((t) =>
          [t.key, t.label + (t.key === problemKey ? " (my problem)" : "")])], topic),
        el("label", { for: "talk_to" }, "Whom to talk to at the meeting"),
        select("talk_to", [[null, "nobody in particular"], ...peers], d.talk_to == null ? null : String(d.talk_to)),
        el("label", { for: "propose_to" }, "Propose a joint venture to"),
        select("propose_to", [[null, "nobody this round"], ...peers], d.propose_to == null ? null : String(d.propose_to)),
        el("p", { class: "hint", id: "propose-hint" }),
        el("div", { id: "proposals" }),
        el("button", { type: "submit", class: "primary", id: "send" }, "Send my decision"),
        el("p", { id: "sent-status", class: "ok", role: "status" })));
    proposalsShown = "";
    document.getElementById("propose_to").addEventListener("change", proposeHint);
    proposeHint();
  }

  // What the chosen partner brings, and whether the venture rule can be met.
  function proposeHint() {
    const hint = document.getElementById("propose-hint");
    const chosen = value("propose_to");
    const general = "A venture forms at the meeting if you both attend, trust each other " +
      "(0.25 or more) and each has an asset the other lacks.";
    const peer = me.peers.find((p) => String(p.row) === chosen);
    if (!peer) { hint.textContent = general; return; }
    const mine = new Set(me.card.assets);
    const theirs = new Set(peer.assets);
    const complement = [...theirs].some((a) => !mine.has(a)) && [...mine].some((a) => !theirs.has(a));
    hint.textContent = `${peer.firm} has: ${peer.assets.join(", ") || "no shareable assets"}. ` +
      (complement ? "Your assets complement each other. " : "Your assets do not complement each other. ") +
      (peer.trust >= 0.25 ? `Trust ${peer.trust.toFixed(2)}: enough.` : `Trust ${peer.trust.toFixed(2)}: not enough yet (0.25).`);
  }

  function renderProposals() {
    const box = document.getElementById("proposals");
    if (!box) return;
    const key = JSON.stringify([me.proposals_to_me, answers]);
    if (key === proposalsShown) return;
    proposalsShown = key;
    box.replaceChildren(...me.proposals_to_me.map((p) => el("div", { class: "proposal" },
      el("p", {}, el("strong", {}, p.from), p.by ? ` (${p.by})` : "", " proposes a joint venture."),
      el("button", { type: "button", class: answers[p.id] === true ? "primary" : "",
        onclick: () => { answers[p.id] = true; send(); } }, "Accept"),
      el("button", { type: "button", class: answers[p.id] === false ? "primary" : "",
        onclick: () => { answers[p.id] = false; send(); } }, "Decline"))));
  }

  function value(id) {
    const v = document.getElementById(id).value;
    return v === "" ? null : v;
  }

  async function send() {
    const talk = value("talk_to"), propose = value("propose_to");
    const decision = {
      entrepreneur: me.row,
      attend: document.querySelector("input[name=attend]:checked").value === "yes",
      topic: value("topic"),
      talk_to: talk === null ? null : Number(talk),
      propose_to: propose === null ? null : Number(propose),
      answers,
    };
    const status = document.getElementById("sent-status");
    status.textContent = "Sending...";
    const res = await api("POST", "/api/decide", { round: me.round, nonce: copsim.nonce(), decision }, headers());
    status.className = res.ok ? "ok" : "error";
    status.textContent = res.ok ? "Decision received ✓ (you can change it until the round closes)"
      : res.data.message || "Not received: try again.";
    proposalsShown = "";
    await refresh();
  }

  function renderNews() {
    const history = me.card.history || [];
    const list = (lines, cls) => el("ul", { class: cls }, lines.map((line) => el("li", {}, line)));
    fill("news", el("h2", {}, "What happened"),
      me.news.length ? [el("h3", {}, "Your choices and what came of them"), list(me.news, "news")] : null,
      me.group_news.length ? [el("h3", {}, "In your group last round"), list(me.group_news, "group-news")] : null,
      history.length ? [el("h3", {}, "Your firm's story"), list(history.slice().reverse(), "history")]
        : el("p", { class: "muted" }, "Nothing yet."));
  }

  refresh();
  setInterval(refresh, 2000);
})();
