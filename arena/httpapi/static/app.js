// Agora arena page: speaks protocol v1 (docs/protocol.md) over a websocket.
// Model output is Markdown, rendered and sanitised by render.js; every
// other text goes in as text. Strings come from i18n.js.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const t = (k, v) => AgoraI18n.t(k, v);
  const SIDES = ["a", "b"];
  const state = {
    ws: null, battle: null, prompt: "", out: {}, streaming: false, voted: false, stopped: false,
    failed: {}, ended: {}, turns: 0, maxTurns: 1, retry: 500, maxPromptBytes: 16000,
  };

  // The example prompts are in the page for a first visit, and go as soon
  // as the script runs for a visitor who has sent a prompt before.
  try { if (localStorage.getItem("agora.seen")) $("examples").hidden = true; } catch (e) { /* private mode */ }

  function setStatus(key, vars) { $("status").textContent = t(key, vars); }
  function showError(text) { const e = $("error"); e.textContent = text; e.hidden = !text; }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    // A new visitor first earns an identity by proof of work (pow.js).
    AgoraPow.wsURL(proto + "//" + location.host + "/api/v1/arena/ws").then(openSocket, () => setTimeout(connect, state.retry));
  }

  function openSocket(url) {
    const ws = new WebSocket(url);
    state.ws = ws;
    ws.onopen = () => { setStatus("status.connected"); state.retry = 500; };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (e) { showError(t("error.unreadable")); return; }
      handle(f, ev.timeStamp);
    };
    ws.onclose = (ev) => {
      setStatus(ev.code === 1001 ? "status.restarting" : "status.reconnecting");
      $("send").disabled = true;
      if (state.streaming) { showError(t("error.dropped")); state.streaming = false; endStreaming(); resetVoting(false); }
      setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 10000);
    };
  }

  function send(msg) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) { showError(t("error.offline")); return false; }
    state.ws.send(JSON.stringify(msg));
    return true;
  }

  const mine = (f) => f.battle_id === state.battle && !state.stopped;

  // handle acts on frame f, which arrived at time `at` (the message
  // event's time stamp, on performance.now()'s clock).
  function handle(f, at) {
    switch (f.type) {
      case "hello":
        state.maxTurns = f.max_turns || 1;
        $("send").disabled = false;
        if (!state.battle) setStatus("status.ready");
        break;
      case "battle":
        if (!state.pending) return; // skipped before it began
        state.pending = false;
        if (f.campaign && f.prompt) { state.prompt = f.prompt; addTurnHeader(f.prompt); }
        state.battle = f.battle_id; state.voted = false; state.stopped = false; state.turns = 1;
        beginTurn();
        break;
      case "turn":
        if (!mine(f)) return;
        state.turns = f.turn + 1;
        beginTurn();
        break;
      case "token":
        if (mine(f)) appendText(f.side, f.text, at);
        break;
      case "done":
        if (mine(f)) endSide(f.side, f.finish_reason === "length" ? "side.cut" : "side.done");
        break;
      case "ready":
        if (mine(f)) ready();
        break;
      case "voted":
        if (f.battle_id === state.battle) reveal(f);
        break;
      case "error":
        if (f.side) {
          if (!mine(f)) return;
          state.failed[f.side] = true;
          const p = document.createElement("p");
          p.className = "side-error";
          p.textContent = t("side.failedText");
          $("answer-" + f.side).appendChild(p);
          endSide(f.side, "side.failed");
        } else {
          requestFailed(f);
        }
        break;
    }
  }

  // requestFailed explains a failed request in plain words.
  function requestFailed(f) {
    const key = "error." + (f.code || "internal");
    let text = t(key, { seconds: Math.ceil((f.retry_after_ms || 1000) / 1000) });
    if (text === key) text = t("error.internal");
    showError(text);
    if (f.request === "start") { state.pending = false; $("send").disabled = false; setStatus("status.ready"); state.streaming = false; endStreaming(); }
    if (f.request === "vote" && !state.voted) resetVoting(true);
    if (f.request === "message") { state.streaming = false; endStreaming(); ready(); }
  }

  function beginTurn() {
    state.streaming = true; state.ended = {};
    setStatus(state.turns > 1 ? "status.followUp" : "status.answering");
    for (const s of SIDES) { $("pane-" + s).classList.add("streaming"); $("state-" + s).textContent = t("side.answering"); }
    $("stop").disabled = false; $("skip").disabled = false; $("regenerate").disabled = true;
    $("follow-form").hidden = true; $("vote-note").hidden = true;
    resetVoting(false);
  }

  function endSide(side, key) {
    state.ended[side] = true;
    $("pane-" + side).classList.remove("streaming");
    $("state-" + side).textContent = t(key);
  }

  function endStreaming() {
    for (const s of SIDES) { $("pane-" + s).classList.remove("streaming"); if (!state.ended[s]) $("state-" + s).textContent = ""; }
    $("stop").disabled = true;
  }

  // ready: both sides ended the turn. A battle where a side failed is not
  // put to a normal vote: it can be marked "both bad" or skipped.
  function ready() {
    state.streaming = false;
    endStreaming();
    $("regenerate").disabled = state.turns > 1;
    const failed = SIDES.filter((s) => state.failed[s]);
    if (failed.length) {
      const note = $("vote-note");
      note.textContent = t(failed.length === 2 ? "vote.bothFailed" : "vote.oneFailed", { side: failed[0].toUpperCase() });
      note.hidden = false;
      resetVoting(true, ["vote-both-bad"]);
      setStatus("status.failedSide");
    } else {
      resetVoting(true);
      const more = state.turns < state.maxTurns;
      $("follow-form").hidden = !more;
      setStatus(more ? "status.voteOrFollow" : "status.vote");
    }
  }

  // appendText adds a token to the side's current answer; the renderer
  // redraws it as Markdown once per animation frame.
  function appendText(side, text, at) {
    if (!state.out[side]) newAnswer(side);
    const r = state.out[side];
    if (!r.text()) r.arrived = at;
    r.append(text);
  }

  // newAnswer starts the side's answer to the latest turn.
  function newAnswer(side) {
    const el = document.createElement("div");
    el.className = "md";
    el.dir = "auto"; // an answer runs in its own script's direction
    $("answer-" + side).appendChild(el);
    const box = $("answer-" + side);
    const r = AgoraRender.create(el, {
      copyLabel: t("code.copy"), copiedLabel: t("code.copied"),
      // The first token's way from its frame's arrival (the message
      // event's time) to the screen, for the tests: onShown runs in the
      // animation frame that draws it, and a task queued from there runs
      // once that frame is painted.
      onShown() {
        const chars = r.text().length;
        setTimeout(() => performance.measure("agora:first-token", { start: r.arrived, end: performance.now(), detail: { chars: chars } }), 0);
      },
      onDrawn() { if (box.dataset.follow !== "no") box.scrollTop = box.scrollHeight; },
    });
    state.out[side] = r;
  }

  // The vote buttons: the winner and, for A or B, the strength, in one step.
  const voteButtons = () => document.querySelectorAll(".vote .buttons button");

  function resetVoting(enabled, only) {
    for (const b of voteButtons()) b.disabled = !enabled || (only && !only.includes(b.id));
  }

  function clearPanes() {
    state.out = {}; state.failed = {}; state.ended = {};
    for (const s of SIDES) {
      $("answer-" + s).textContent = ""; $("meta-" + s).textContent = ""; $("name-" + s).textContent = "";
      $("state-" + s).textContent = ""; $("pane-" + s).classList.remove("streaming", "chosen");
    }
    $("reveal").hidden = true; $("follow-form").hidden = true; $("vote-note").hidden = true; $("vote").hidden = false;
    $("reason").value = "";
    resetVoting(false);
  }

  function tooLong(text) { return new TextEncoder().encode(text).length > state.maxPromptBytes; }

  // start asks for a new battle on prompt; the panes show it at once.
  function start(prompt) {
    showError("");
    if (tooLong(prompt)) { showError(t("error.promptTooLong", { max: AgoraI18n.plural("count.characters", state.maxPromptBytes) })); return; }
    clearPanes();
    state.battle = null; state.prompt = prompt;
    if (send({ type: "start", prompt: prompt })) {
      state.pending = true;
      $("send").disabled = true;
      $("examples").hidden = true;
      try { localStorage.setItem("agora.seen", "1"); } catch (e) { /* private mode */ }
      addTurnHeader(prompt);
      setStatus("status.answering");
      // The keys act on the battle, not the prompt box: 1–6 never type there.
      $("prompt").blur();
      $("answer-a").focus({ preventScroll: true });
    }
  }

  function startBattle(ev) {
    if (ev) ev.preventDefault();
    const prompt = $("prompt").value.trim();
    if (!prompt) { showError(t("error.emptyPrompt")); return; }
    start(prompt);
  }

  // A link with ?campaign=ID lets the contributor take prompts from a
  // lab's campaign instead of writing one.
  const campaign = new URLSearchParams(location.search).get("campaign");
  if (campaign) {
    $("campaign-box").hidden = false;
    $("campaign-start").addEventListener("click", () => {
      showError("");
      clearPanes();
      if (send({ type: "start", campaign: campaign })) { state.pending = true; $("send").disabled = true; }
    });
  }

  function addTurnHeader(text) {
    for (const s of SIDES) {
      const p = document.createElement("p");
      p.className = "turn-prompt";
      p.dir = "auto";
      p.textContent = t("pane.you", { text: text });
      $("answer-" + s).appendChild(p);
      newAnswer(s);
    }
  }

  function followUp(ev) {
    ev.preventDefault();
    const content = $("follow").value.trim();
    if (!content || !state.battle || state.streaming) return;
    if (tooLong(content)) { showError(t("error.promptTooLong", { max: AgoraI18n.plural("count.characters", state.maxPromptBytes) })); return; }
    showError("");
    if (send({ type: "message", battle_id: state.battle, content: content })) {
      resetVoting(false);
      $("follow").value = "";
      addTurnHeader(content);
      state.streaming = true;
      setStatus("status.followUp");
    }
  }

  // vote sends the choice of button b: its winner and its strength.
  function vote(b) {
    if (!state.battle || state.streaming || state.voted || state.stopped || b.disabled) return;
    const winner = b.dataset.winner;
    const msg = { type: "vote", battle_id: state.battle, winner: winner };
    if (b.dataset.strength) msg.strength = b.dataset.strength;
    const reason = $("reason").value.trim();
    if (reason) msg.reason = reason;
    state.choice = winner;
    showError("");
    if (send(msg)) { resetVoting(false); setStatus("status.recording"); }
  }

  function reveal(f) {
    state.voted = true;
    resetVoting(false);
    $("follow-form").hidden = true;
    $("regenerate").disabled = true; $("skip").disabled = true; $("stop").disabled = true;
    const names = { a: f.model_a, b: f.model_b };
    for (const s of SIDES) {
      $("name-" + s).textContent = "· " + names[s];
      $("reveal-" + s).querySelector(".name").textContent = names[s];
      $("reveal-" + s).querySelector(".rank").textContent = "";
      const chosen = f.winner === s || f.winner === "tie";
      $("pane-" + s).classList.toggle("chosen", chosen);
      $("reveal-" + s).classList.toggle("chosen", chosen);
    }
    // The measures arrive with the reveal; show the last turn's.
    for (const m of f.answers || []) {
      $("meta-" + m.side).textContent = t("reveal.meta", { tokens: AgoraI18n.plural("count.tokens", m.tokens),
        ttft: AgoraI18n.number(m.ttft_ms), seconds: AgoraI18n.number(m.duration_ms / 1000, 1) });
    }
    const choice = { a: "reveal.choseA", b: "reveal.choseB", tie: "reveal.choseTie", both_bad: "reveal.choseBothBad" }[f.winner];
    $("reveal-text").textContent = t(choice, { a: names.a, b: names.b });
    const pts = $("reveal-points");
    pts.hidden = typeof f.points !== "number";
    if (!pts.hidden) pts.textContent = t("reveal.points", { points: AgoraI18n.plural("count.points", f.points) });
    $("reveal").hidden = false;
    $("vote").hidden = true; // the reveal takes its place
    setStatus("status.recorded");
    $("new-battle").focus();
    showRanks(names);
  }

  // showRanks adds each model's place on the public leaderboard.
  async function showRanks(names) {
    try {
      const res = await fetch("/api/v1/leaderboard?matrices=false", { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const lb = await res.json();
      for (const s of SIDES) {
        const row = (lb.models || []).find((m) => m.model === names[s]);
        $("reveal-" + s).querySelector(".rank").textContent = row
          ? t("reveal.rank", { rank: row.rank, of: lb.models.length, rating: AgoraI18n.number(row.rating) })
          : t("reveal.unranked");
      }
    } catch (e) { /* the ranks are a courtesy */ }
  }

  // stop ends the battle here: its answers stop streaming on this page and
  // it cannot be voted on. The pair can be regenerated or skipped.
  function stop() {
    if (!state.battle || !state.streaming) return;
    state.stopped = true; state.streaming = false;
    endStreaming();
    for (const s of SIDES) if (!state.ended[s]) $("state-" + s).textContent = t("side.stopped");
    resetVoting(false);
    $("follow-form").hidden = true;
    $("regenerate").disabled = !state.prompt;
    setStatus("status.stopped");
  }

  function newBattle() {
    state.battle = null; state.voted = false; state.stopped = false; state.streaming = false; state.pending = false;
    endStreaming();
    clearPanes();
    $("prompt").value = "";
    $("send").disabled = false;
    $("skip").disabled = true; $("regenerate").disabled = true;
    setStatus("status.ready");
    $("prompt").focus();
  }

  function regenerate() {
    if (!state.prompt || state.voted) return;
    state.stopped = true; // the old battle's frames are ignored from now on
    start(state.prompt);
  }

  // Phone layout: the answers are tabs named like the vote buttons.
  function showTab(side) {
    for (const s of SIDES) {
      const on = s === side;
      $("tab-" + s).setAttribute("aria-selected", on);
      $("tab-" + s).tabIndex = on ? 0 : -1;
      $("pane-" + s).classList.toggle("shown", on);
    }
  }
  for (const s of SIDES) $("tab-" + s).addEventListener("click", () => showTab(s));
  $("pane-tabs").addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight") return;
    const next = $("tab-a").getAttribute("aria-selected") === "true" ? "b" : "a";
    showTab(next); $("tab-" + next).focus(); ev.preventDefault();
  });
  let touchX = null;
  $("panes").addEventListener("touchstart", (ev) => { touchX = ev.touches[0].clientX; }, { passive: true });
  $("panes").addEventListener("touchend", (ev) => {
    if (touchX === null) return;
    const dx = ev.changedTouches[0].clientX - touchX; touchX = null;
    if (Math.abs(dx) < 60) return;
    const rtl = document.documentElement.dir === "rtl";
    showTab((dx < 0) !== rtl ? "b" : "a");
  });
  showTab("a");

  // A pane follows its stream unless the reader scrolled up.
  for (const s of SIDES) {
    const box = $("answer-" + s);
    box.addEventListener("scroll", () => { box.dataset.follow = box.scrollTop + box.clientHeight >= box.scrollHeight - 8 ? "" : "no"; });
  }

  $("prompt-form").addEventListener("submit", startBattle);
  $("follow-form").addEventListener("submit", followUp);
  $("new-battle").addEventListener("click", newBattle);
  $("skip").addEventListener("click", newBattle);
  $("stop").addEventListener("click", stop);
  $("regenerate").addEventListener("click", regenerate);
  for (const b of voteButtons()) b.addEventListener("click", () => vote(b));
  for (const b of document.querySelectorAll("button.example")) b.addEventListener("click", () => { $("prompt").value = b.textContent; start(b.textContent); });
  $("prompt").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) startBattle(ev);
  });
  const typing = (el) => el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" || (el.tagName === "INPUT" && el.type === "text"));
  document.addEventListener("keydown", (ev) => {
    if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const b = voteButtons()[Number(ev.key) - 1];
    if (/^[1-6]$/.test(ev.key) && b) { vote(b); ev.preventDefault(); }
  });
  // N acts on key up, once the key's character has gone nowhere: acting on
  // key down would move the focus to the prompt box and type the "n" there.
  document.addEventListener("keyup", (ev) => {
    if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if ((ev.key === "n" || ev.key === "N") && (state.voted || !state.battle || state.stopped)) newBattle();
  });

  AgoraI18n.ready.then(connect);
})();
