// Agora arena page: speaks protocol v1 (docs/protocol.md) over a websocket.
// Model output is Markdown, rendered and sanitised by render.js.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { ws: null, battle: null, sides: {}, out: {}, streaming: false, voted: false, turns: 0, maxTurns: 1, retry: 500 };

  function setStatus(text) { $("status").textContent = text; }
  function showError(text) { const e = $("error"); e.textContent = text; e.hidden = !text; }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/api/v1/arena/ws");
    state.ws = ws;
    ws.onopen = () => { setStatus("connected"); state.retry = 500; };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (e) { showError("The server sent something unreadable."); return; }
      handle(f);
    };
    ws.onclose = (ev) => {
      setStatus(ev.code === 1001 ? "server restarting; reconnecting…" : "disconnected; reconnecting…");
      $("send").disabled = true;
      if (state.streaming) { showError("The connection dropped while the models were answering. Start a new battle."); resetVoting(false); state.streaming = false; }
      setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 10000);
    };
  }

  function send(msg) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) { showError("Not connected; retrying."); return false; }
    state.ws.send(JSON.stringify(msg));
    return true;
  }

  function handle(f) {
    switch (f.type) {
      case "hello":
        state.maxTurns = f.max_turns || 1;
        $("send").disabled = false;
        break;
      case "battle":
        if (f.campaign && f.prompt) addTurnHeader(f.prompt); // the campaign chose the prompt
        state.battle = f.battle_id; state.voted = false; state.turns = 1; state.streaming = true;
        state.sides = { a: false, b: false };
        setStatus("models are answering…");
        break;
      case "turn":
        state.turns = f.turn + 1; state.streaming = true; state.sides = { a: false, b: false };
        break;
      case "token":
        if (f.battle_id !== state.battle) return;
        appendText(f.side, f.text);
        break;
      case "done":
        if (f.battle_id !== state.battle) return;
        state.sides[f.side] = true;
        break;
      case "ready":
        if (f.battle_id !== state.battle) return;
        state.streaming = false;
        setStatus("vote now");
        resetVoting(true);
        $("follow-form").hidden = state.turns >= state.maxTurns;
        break;
      case "voted":
        state.voted = true;
        resetVoting(false);
        $("follow-form").hidden = true;
        $("name-a").textContent = "· " + f.model_a;
        $("name-b").textContent = "· " + f.model_b;
        for (const m of f.answers || []) {
          // Measures arrive with the reveal; show the last turn's.
          $("meta-" + m.side).textContent = m.tokens + " tokens · first token " + Math.round(m.ttft_ms) + " ms · " + (m.duration_ms / 1000).toFixed(1) + " s";
        }
        $("reveal-text").textContent = "Thank you! Model A was " + f.model_a + " and model B was " + f.model_b + ".";
        $("reveal").hidden = false;
        setStatus("vote recorded");
        $("new-battle").focus();
        break;
      case "error":
        if (f.side) {
          state.sides[f.side] = true;
          const span = document.createElement("span");
          span.className = "side-error";
          span.textContent = "⚠ " + f.message;
          $("answer-" + f.side).appendChild(span);
        } else {
          showError(f.message + (f.code ? " (" + f.code + ")" : ""));
          if (f.request === "start") { $("send").disabled = false; setStatus("ready"); }
        }
        break;
    }
  }

  // appendText adds a token to the side's current answer; the renderer
  // redraws it as Markdown once per animation frame.
  function appendText(side, text) {
    if (!state.out[side]) newAnswer(side);
    const r = state.out[side];
    if (!r.text()) r.arrived = performance.now();
    r.append(text);
  }

  // newAnswer starts the side's answer to the latest turn.
  function newAnswer(side) {
    const el = document.createElement("div");
    el.className = "md";
    $("answer-" + side).appendChild(el);
    const r = AgoraRender.create(el, {
      // The first token's way from its frame to the screen, for the tests.
      onShown() { performance.measure("agora:first-token", { start: r.arrived, end: performance.now(), detail: { chars: r.text().length } }); },
    });
    state.out[side] = r;
  }

  function resetVoting(enabled) {
    for (const id of ["vote-a", "vote-b", "vote-tie", "vote-both-bad"]) $(id).disabled = !enabled;
  }

  function clearPanes() {
    state.out = {};
    for (const s of ["a", "b"]) { $("answer-" + s).textContent = ""; $("meta-" + s).textContent = ""; $("name-" + s).textContent = ""; }
    $("reveal").hidden = true; $("follow-form").hidden = true;
    for (const r of document.querySelectorAll("input[name=strength]")) r.checked = false;
    resetVoting(false);
  }

  function startBattle(ev) {
    if (ev) ev.preventDefault();
    const prompt = $("prompt").value.trim();
    if (!prompt) { showError("Write a prompt first."); return; }
    showError("");
    clearPanes();
    if (send({ type: "start", prompt: prompt })) {
      $("send").disabled = true;
      addTurnHeader(prompt);
    }
  }

  // A link with ?campaign=ID lets the contributor take prompts from a
  // lab's campaign instead of writing one.
  const campaign = new URLSearchParams(location.search).get("campaign");
  if (campaign) {
    $("campaign-box").hidden = false;
    $("campaign-start").addEventListener("click", () => {
      showError("");
      clearPanes();
      if (send({ type: "start", campaign: campaign })) $("send").disabled = true;
    });
  }

  function addTurnHeader(text) {
    for (const s of ["a", "b"]) {
      const p = document.createElement("span");
      p.className = "turn-prompt";
      p.textContent = "You: " + text;
      $("answer-" + s).appendChild(p);
      newAnswer(s);
    }
  }

  function followUp(ev) {
    ev.preventDefault();
    const content = $("follow").value.trim();
    if (!content || !state.battle || state.streaming) return;
    showError("");
    if (send({ type: "message", battle_id: state.battle, content: content })) {
      resetVoting(false);
      $("follow").value = "";
      addTurnHeader(content);
    }
  }

  function vote(winner) {
    if (!state.battle || state.streaming || state.voted) return;
    const msg = { type: "vote", battle_id: state.battle, winner: winner };
    const s = document.querySelector("input[name=strength]:checked");
    if (s && (winner === "a" || winner === "b")) msg.strength = s.value;
    showError("");
    if (send(msg)) { resetVoting(false); setStatus("recording vote…"); }
  }

  function newBattle() {
    state.battle = null; state.voted = false;
    clearPanes();
    $("prompt").value = "";
    $("send").disabled = false;
    setStatus("ready");
    $("prompt").focus();
  }

  $("prompt-form").addEventListener("submit", startBattle);
  $("follow-form").addEventListener("submit", followUp);
  $("new-battle").addEventListener("click", newBattle);
  for (const b of document.querySelectorAll(".vote .buttons button")) b.addEventListener("click", () => vote(b.dataset.winner));
  $("prompt").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) startBattle(ev);
  });
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type === "text"))) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const winners = { "1": "a", "2": "b", "3": "tie", "4": "both_bad" };
    if (winners[ev.key]) { vote(winners[ev.key]); ev.preventDefault(); }
  });
  // N acts on key up, once the key's character has gone nowhere: acting on
  // key down would move the focus to the prompt box and type the "n" there.
  document.addEventListener("keyup", (ev) => {
    const t = ev.target;
    if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type === "text"))) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if ((ev.key === "n" || ev.key === "N") && (state.voted || !state.battle)) newBattle();
  });
  connect();
})();
