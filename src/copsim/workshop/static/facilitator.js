// The facilitator's controls. The key comes from the address (#key=...), which the
// browser never sends to the server; every call carries it in the X-Copsim-Key header.
"use strict";

(() => {
  const { el, fill, api } = copsim;
  const key = new URLSearchParams(location.hash.slice(1)).get("key") || "";
  const headers = { "X-Copsim-Key": key };
  let formsFilled = false;
  let debriefShown = false;
  let current = {};

  function say(text, ok) {
    const m = document.getElementById("message");
    m.className = ok ? "ok" : "error";
    m.textContent = text;
  }

  async function act(action, body) {
    const res = await api("POST", `/api/facilitator/${action}`, body || {}, headers);
    say(res.ok ? `${action}: done` : res.data.message || `${action} failed`, res.ok);
    await refresh();
    return res;
  }

  const number = (id) => Number(document.getElementById(id).value);

  document.getElementById("open").addEventListener("click", () => act("open"));
  document.getElementById("close").addEventListener("click", () => act("close"));
  document.getElementById("end").addEventListener("click", () => {
    if (confirm("End the session for everyone and show the debrief?")) act("end");
  });
  document.getElementById("pace-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act("pace", { round_seconds: number("round_seconds"), weeks_per_round: number("weeks_per_round"),
      auto: document.getElementById("auto").checked });
  });
  document.getElementById("lever-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    let changed = 0;
    for (const name of ["hours_scale", "skill", "recruitment_scale"]) {
      const text = document.getElementById(name).value;
      if (text === "" || Number(text) === current[name]) continue;  // only what was changed
      changed += 1;
      const res = await act("lever", { name, value: Number(text) });
      if (!res.ok) return;
    }
    if (!changed) say("No lever changed.", true);
  });
  document.getElementById("shock-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act("shock", { depth: number("depth") });
  });
  document.getElementById("download").addEventListener("click", async () => {
    const res = await fetch("/api/record", { headers });
    if (!res.ok) { say("Could not download the record (facilitator key?)", false); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: "copsim-workshop-record.json" });
    document.body.append(a);
    a.click();
    a.remove();
    URL.revokeObjectURL(url);
    say("Record downloaded.", true);
  });

  async function refresh() {
    const res = await api("GET", "/api/facilitator", undefined, headers);
    if (!res.ok) {
      fill("state", res.data.message || "No connection");
      return;
    }
    const s = res.data;
    const round = s.state === "open" ? `Round ${s.round} of ${s.rounds} open · ${copsim.timer(s.seconds_left)} left · ` +
      `${s.decided} of ${s.connected} decided` : s.state === "ended" ? "Session ended"
      : `${s.rounds_played} of ${s.rounds} rounds played · next round not open`;
    fill("state", `${round} · week ${s.week} · code ${s.code || "expired"}`);
    // Nothing is left to open, close or end once the session is over.
    for (const id of ["open", "close", "end"]) document.getElementById(id).disabled = s.state === "ended";
    if (!formsFilled) {
      document.getElementById("round_seconds").value = s.round_seconds;
      document.getElementById("weeks_per_round").value = s.weeks_per_round;
      document.getElementById("auto").checked = s.auto;
      for (const [name, value] of Object.entries(s.levers)) {
        const input = document.getElementById(name);
        input.value = value ?? "";
        if (value === null) input.placeholder = "as in the scenario";
      }
      formsFilled = true;
    }
    current = s.levers;
    fill("people", s.people.map((p) => el("tr", { class: p.removed ? "removed" : "" },
      el("td", {}, p.name), el("td", {}, p.firm), el("td", {}, p.group),
      el("td", {}, p.removed ? "removed" : `${p.connected ? "connected" : "away"}${p.decided ? ", decided" : ""}`),
      el("td", {}, p.removed ? "" : el("button", { class: "small", onclick: () => {
        if (confirm(`Remove ${p.name}? The model will play their entrepreneur.`)) act("remove", { row: p.row });
      } }, "Remove")))));
    if (s.state === "ended" && !debriefShown) {
      const d = await api("GET", "/api/debrief", undefined, headers);
      if (d.ok) {
        fill("debrief", copsim.debrief(d.data)).hidden = false;
        debriefShown = true;
      }
    }
  }

  refresh();
  setInterval(refresh, 1000);
})();
