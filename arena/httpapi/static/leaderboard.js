// The leaderboard page: fetches /api/v1/leaderboard and draws the table, a
// chart of ratings with their intervals, a heat map of win rates and a
// model's detail. Model names are only ever inserted as text.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const t = (k, v) => AgoraI18n.t(k, v);
const num = (v, d) => AgoraI18n.number(v, d);
let current = null;

// cuts are the tabs (button#cut-ID in the page, labelled by the locale
// files): all battles, a category, or a language (the public set of GET
// /api/v1/leaderboard; languages as the detector names them).
const cuts = [{ id: "all", q: "" },
  { id: "coding", q: "&category=coding", note: "lb.cutCategoryNote" },
  { id: "math", q: "&category=math", note: "lb.cutCategoryNote" }]
  .concat([["English", "en"], ["Chinese", "zh"], ["Spanish", "es"], ["French", "fr"], ["German", "de"],
    ["Russian", "ru"], ["Arabic", "ar"], ["Japanese", "ja"], ["Portuguese", "pt"]].map(([name, code]) => ({
    id: code, q: "&language=" + name, note: "lb.cutLanguageNote" })));
let cut = cuts[0];

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function td(text) {
  const c = document.createElement("td");
  c.textContent = text;
  return c;
}

// fetchBoard gets the published board; an error says whether the votes
// cannot be fitted that way (invalid) rather than the request failing.
async function fetchBoard(style, q) {
  // The URL as the page preloads it (the same request, so the preloaded
  // answer is used).
  const res = await fetch("/api/v1/leaderboard?style=" + style + q);
  const body = await res.json();
  if (!res.ok) {
    const err = new Error(body.error ? body.error.message : res.statusText);
    err.unfittable = body.error && body.error.code === "invalid";
    throw err;
  }
  return body;
}

// disableStyle turns the style switch off for good, saying why.
function disableStyle() {
  const box = document.getElementById("style");
  box.checked = false;
  box.disabled = true;
  const note = document.getElementById("style-reason");
  note.textContent = t("lb.styleDisabled");
  note.hidden = false;
  box.setAttribute("aria-describedby", "style-reason");
}

// loads numbers the calls of load: an answer to an older one than the
// newest (the switch or a tab changed while it was on its way) is dropped.
let loads = 0;

// load fetches and draws the board of the current tab (or takes the
// answer of a fetch already asked for, pending).
async function load(pending) {
  const n = ++loads;
  const style = document.getElementById("style").checked;
  const status = document.getElementById("status");
  status.className = "";
  status.textContent = t("lb.loading");
  try {
    const body = await (pending || fetchBoard(style, cut.q));
    if (n !== loads) return;
    current = body;
    render();
    document.getElementById("download-json").href = "/api/v1/leaderboard?style=" + style + cut.q;
    status.textContent = t(body.models.length ? "lb.summary" : "lb.empty", { votes: AgoraI18n.plural("count.votes", body.battles), models: AgoraI18n.plural("count.models", body.models.length) });
  } catch (err) {
    if (n !== loads) return;
    if (style && err.unfittable) { disableStyle(); return load(); }
    status.className = "error";
    status.textContent = t("lb.loadFailed", { reason: err.message });
  }
}

// probeStyle asks once whether style control can be fitted on all votes,
// so that the switch is disabled before anyone tries it: true when it
// cannot be.
function probeStyle() {
  return fetchBoard(true, "").then(() => false, (err) => !!err.unfittable);
}

function render() {
  const lb = current;
  const pct = Math.round(lb.ci * 100);
  document.getElementById("ci-head").textContent = t("lb.ciHead", { pct: pct });
  let method = t(lb.solver && lb.solver.prior > 0 ? "lb.methodPrior" : "lb.methodExact") + " ";
  if (lb.method === "bradley-terry-style-control") method += t("lb.methodStyle", { pct: pct });
  else if (lb.rounds > 0) method += t("lb.methodBootstrap", { pct: pct, rounds: AgoraI18n.plural("count.rounds", lb.rounds) });
  document.getElementById("method").textContent = method;

  const tbody = document.querySelector("#board tbody");
  tbody.replaceChildren();
  for (const m of lb.models) {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    const b = document.createElement("button");
    b.type = "button"; b.className = "model"; b.textContent = m.model;
    b.addEventListener("click", () => showDetail(m.model));
    name.append(b);
    if (m.provisional) {
      const p = document.createElement("span");
      p.className = "badge"; p.textContent = t("lb.provisional");
      name.append(" ", p);
    }
    tr.append(td(m.rank), name, td(num(m.rating, 1)),
      td("+" + num(m.ci_upper - m.rating, 1) + " / −" + num(m.rating - m.ci_lower, 1)),
      td(num(m.battles)), td(num(m.elo, 1)));
    tbody.append(tr);
  }
  renderCoefficients(lb);
  drawChart(lb.models);
  drawHeat(lb);
  const warnings = document.getElementById("warnings");
  warnings.replaceChildren();
  for (const w of lb.warnings || []) {
    const li = document.createElement("li");
    li.textContent = w;
    warnings.append(li);
  }
  document.getElementById("cut-panel").hidden = false;
}

function renderCoefficients(lb) {
  const coef = document.getElementById("style-coefficients");
  coef.hidden = !lb.style;
  if (!lb.style) return;
  const body = coef.querySelector("tbody");
  body.replaceChildren();
  for (const c of lb.style.coefficients) {
    const tr = document.createElement("tr");
    tr.append(td(c.feature), td(c.coefficient.toFixed(4)), td(c.std_err.toFixed(4)));
    body.append(tr);
  }
}

// csvURL is the table as a CSV file.
function csvURL(lb) {
  const q = (s) => '"' + String(s).replace(/"/g, '""') + '"';
  const rows = [["rank", "model", "rating", "ci_lower", "ci_upper", "votes", "wins", "losses", "ties", "elo"].join(",")];
  for (const m of lb.models) {
    rows.push([m.rank, q(m.model), m.rating, m.ci_lower, m.ci_upper, m.battles, m.wins, m.losses, m.ties, m.elo].join(","));
  }
  return URL.createObjectURL(new Blob([rows.join("\n") + "\n"], { type: "text/csv" }));
}

// showDetail shows one model's record against each opponent.
function showDetail(model) {
  const lb = current;
  const row = lb.models.find((m) => m.model === model);
  const sec = document.getElementById("detail");
  document.getElementById("detail-title").textContent = model;
  document.getElementById("detail-summary").textContent = t("lb.detailSummary", {
    rank: row.rank, rating: num(row.rating, 1), wins: AgoraI18n.plural("count.wins", row.wins), losses: AgoraI18n.plural("count.losses", row.losses),
    ties: AgoraI18n.plural("count.ties", row.ties) });
  const body = sec.querySelector("tbody");
  body.replaceChildren();
  const m = lb.matrices;
  const i = m ? m.models.indexOf(model) : -1;
  if (i >= 0) {
    m.models.forEach((other, j) => {
      if (j === i || !m.battles[i][j]) return;
      const pct = (v) => (v === null ? "–" : num(100 * v) + "%");
      const tr = document.createElement("tr");
      tr.append(td(other), td(pct(m.win_fraction[i][j])), td(pct(m.predicted[i][j])), td(num(m.battles[i][j])));
      body.append(tr);
    });
  }
  sec.hidden = false;
  sec.scrollIntoView({ block: "nearest" });
  loadDaily(model);
}

// loadDaily fetches and draws a model's votes per day in the current tab.
async function loadDaily(model) {
  const svg = document.getElementById("daily");
  svg.replaceChildren();
  svg.setAttribute("aria-label", t("lb.loading"));
  try {
    const res = await fetch("/api/v1/leaderboard/daily?model=" + encodeURIComponent(model) + cut.q);
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
    if (body.model === document.getElementById("detail-title").textContent) drawDaily(body.days);
  } catch (err) {
    svg.setAttribute("aria-label", t("lb.loadFailed", { reason: err.message }));
  }
}

// drawDaily draws votes per day as bars, with the total and the busiest
// day as the chart's accessible name.
function drawDaily(days) {
  const svg = document.getElementById("daily");
  const width = 600, height = 140, left = 36, bottom = 20, top = 10;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  if (!days.length) { svg.setAttribute("aria-label", t("lb.dailyNone")); return; }
  const most = days.reduce((a, d) => (d.votes > a.votes ? d : a), days[0]);
  const total = days.reduce((n, d) => n + d.votes, 0);
  svg.setAttribute("aria-label", t("lb.dailyLabel", { days: AgoraI18n.plural("count.days", days.length), total: AgoraI18n.plural("count.votes", total),
    most: AgoraI18n.plural("count.votes", most.votes), day: most.day }));
  const peak = Math.max(1, most.votes), bw = (width - left) / days.length;
  const y = (v) => top + (height - top - bottom) * (1 - v / peak);
  svg.append(el("line", { x1: left, x2: width, y1: y(0), y2: y(0), class: "grid" }));
  svg.append(el("text", { x: left - 4, y: y(peak) + 4, "text-anchor": "end" }, num(peak)));
  svg.append(el("text", { x: left - 4, y: y(0) + 4, "text-anchor": "end" }, "0"));
  days.forEach((d, i) => {
    const r = el("rect", { x: left + i * bw + 1, y: y(d.votes), width: Math.max(1, bw - 2), height: y(0) - y(d.votes), class: "bar" });
    r.append(el("title", {}, d.day + ": " + num(d.votes)));
    svg.append(r);
  });
  svg.append(el("text", { x: left, y: height - 4 }, days[0].day));
  svg.append(el("text", { x: width, y: height - 4, "text-anchor": "end" }, days[days.length - 1].day));
}

// bindTabs makes the page's tablist work: arrows (mirrored right to
// left), Home and End move between tabs and show each; only the shown tab
// is in the tab order.
function bindTabs() {
  const list = document.getElementById("cuts");
  for (const c of cuts) document.getElementById("cut-" + c.id).addEventListener("click", () => selectTab(c));
  list.addEventListener("keydown", (e) => {
    const i = cuts.indexOf(cut), rtl = document.documentElement.dir === "rtl";
    const next = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[e.key];
    let j = next === undefined ? { Home: 0, End: cuts.length - 1 }[e.key] : (i + next + cuts.length) % cuts.length;
    if (j === undefined) return;
    e.preventDefault();
    selectTab(cuts[j]);
    document.getElementById("cut-" + cuts[j].id).focus();
  });
  markTabs();
}

function markTabs() {
  for (const c of cuts) {
    const b = document.getElementById("cut-" + c.id);
    b.setAttribute("aria-selected", c === cut ? "true" : "false");
    b.tabIndex = c === cut ? 0 : -1;
  }
  document.getElementById("cut-panel").setAttribute("aria-labelledby", "cut-" + cut.id);
  const note = document.getElementById("cut-note");
  note.hidden = !cut.note;
  note.textContent = cut.note ? t(cut.note) : "";
}

function selectTab(c) {
  if (c === cut) return;
  cut = c;
  markTabs();
  document.getElementById("detail").hidden = true;
  load();
}

// Drawing: the table is drawn at once; the chart and the heat map are
// sized at once (nothing moves when they fill in) and drawn in pieces in
// later tasks, once the table is on screen, so that no task holds the
// page for long. A newer drawing of the same figure drops the pieces of
// an older one still waiting.
const drawings = {};
function later(figure, pieces) {
  const gen = (drawings[figure] = (drawings[figure] || 0) + 1);
  const next = () => {
    if (drawings[figure] !== gen || !pieces.length) return;
    pieces.shift()();
    setTimeout(next, 0);
  };
  requestAnimationFrame(() => setTimeout(next, 0));
}

function drawChart(models) {
  const svg = document.getElementById("chart");
  svg.replaceChildren();
  const left = 220, right = 30, row = 20, top = 24;
  const width = 900, height = top + row * models.length + 10;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  if (models.length === 0) return;
  later("chart", [() => {
    const lo = Math.min(...models.map(m => m.ci_lower)), hi = Math.max(...models.map(m => m.ci_upper));
    const pad = (hi - lo) * 0.05 || 10;
    const x = v => left + (v - (lo - pad)) / (hi - lo + 2 * pad) * (width - left - right);
    const step = niceStep((hi - lo + 2 * pad) / 8);
    const out = document.createDocumentFragment();
    for (let v = Math.ceil((lo - pad) / step) * step; v <= hi + pad; v += step) {
      out.append(el("line", { x1: x(v), x2: x(v), y1: top - 6, y2: height - 6, class: "grid" }));
      out.append(el("text", { x: x(v), y: 14, "text-anchor": "middle" }, Math.round(v)));
    }
    models.forEach((m, i) => {
      const y = top + row * i + row / 2;
      out.append(el("text", { x: left - 8, y: y + 4, "text-anchor": "end" }, m.rank + ". " + m.model));
      out.append(el("line", { x1: x(m.ci_lower), x2: x(m.ci_upper), y1: y, y2: y, class: "ci" }));
      out.append(el("circle", { cx: x(m.rating), cy: y, r: 4, class: "dot" }));
    });
    svg.append(out);
  }]);
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const f of [1, 2, 5, 10]) if (raw <= f * p) return f * p;
  return 10 * p;
}

// color maps a win rate in [0, 1] to red (0) through white (0.5) to blue
// (1), as [r, g, b].
function color(v) {
  const s = Math.max(-1, Math.min(1, (v - 0.5) * 2));
  const a = Math.round(255 * (1 - Math.abs(s)));
  return s < 0 ? [255, a, a] : [a, a, 255];
}

// textOn picks black or white text, whichever contrasts more with rgb.
function textOn(rgb) {
  const lin = rgb.map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); });
  const lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? "#000" : "#fff";
}

// drawHeat draws the heat map of the chosen kind, a few rows a task.
function drawHeat(lb) {
  const kind = document.getElementById("heat").value;
  document.getElementById("heat-title").textContent = t(kind === "predicted" ? "lb.heatTitlePredicted" : "lb.heatTitleEmpirical");
  const svg = document.getElementById("heatmap");
  svg.replaceChildren();
  const m = lb.matrices;
  if (!m) { later("heat", []); return; }
  const n = Math.min(m.models.length, 30); // the top 30 keep the map readable
  const cell = 24, left = 200, top = 150;
  const size = left + cell * n + 70;
  svg.setAttribute("viewBox", "0 0 " + size + " " + (top + cell * n + 10));
  const pieces = [];
  for (let i0 = 0; i0 < n; i0 += 2) {
    pieces.push(() => {
      const out = document.createDocumentFragment();
      for (let i = i0; i < Math.min(n, i0 + 2); i++) heatRow(out, m, kind, i, n, { cell: cell, left: left, top: top });
      svg.append(out);
    });
  }
  later("heat", pieces);
}

// heatRow draws row i of the heat map (and column i's label) into out.
function heatRow(out, m, kind, i, n, g) {
  const { cell, left, top } = g;
  out.append(el("text", { x: left - 6, y: top + cell * i + cell / 2 + 4, "text-anchor": "end" }, m.models[i]));
  const cx = left + cell * i + cell / 2;
  out.append(el("text", { x: cx, y: top - 6, transform: "rotate(-60 " + cx + " " + (top - 6) + ")" }, m.models[i]));
  for (let j = 0; j < n; j++) {
    const v = m[kind][i][j];
    const rgb = v === null ? [243, 243, 243] : color(v);
    const r = el("rect", { x: left + cell * j, y: top + cell * i, width: cell - 1, height: cell - 1, fill: "rgb(" + rgb.join(",") + ")" });
    r.append(el("title", {}, t("lb.cellTitle", { a: m.models[i], b: m.models[j],
      rate: v === null ? t("lb.noData") : num(100 * v) + "%", battles: AgoraI18n.plural("count.battles", m.battles[i][j]) })));
    out.append(r);
    if (v !== null) {
      const label = el("text", { x: left + cell * j + cell / 2, y: top + cell * i + cell / 2 + 4, "text-anchor": "middle",
        "font-size": "9", class: "cell" }, Math.round(100 * v));
      label.style.fill = textOn(rgb);
      out.append(label);
    }
  }
}

document.getElementById("style").addEventListener("change", () => load());
// The CSV file is made when asked for (the link follows its new address).
document.getElementById("download-csv").addEventListener("click", (e) => {
  if (!current) { e.preventDefault(); return; }
  const a = e.currentTarget;
  if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
  a.href = csvURL(current);
});
document.getElementById("heat").addEventListener("change", () => current && drawHeat(current));
bindTabs();

// The first board and the style probe are asked for at once (the page
// preloads both), and the board is drawn when the strings are in and the
// probe has answered (or taken a second): the style note then shows with
// the board, moving nothing already on screen.
(function start() {
  const board = fetchBoard(false, "");
  board.catch(() => {}); // load reports it
  const probe = probeStyle();
  const late = new Promise((resolve) => setTimeout(() => resolve(null), 1000));
  // (A task of its own: the strings' arrival took one.)
  const task = (v) => new Promise((resolve) => setTimeout(() => resolve(v), 0));
  Promise.all([AgoraI18n.ready, Promise.race([probe, late])]).then(task).then(([, unfittable]) => {
    if (unfittable) disableStyle();
    else if (unfittable === null) probe.then((u) => u && disableStyle());
    // The preloaded board is all battles without style control: shown
    // unless the reader has already asked for another.
    if (loads) return;
    const asked = document.getElementById("style").checked || cut !== cuts[0];
    return load(asked ? undefined : board);
  });
})();
