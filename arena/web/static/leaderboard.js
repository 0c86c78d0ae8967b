// The leaderboard page: fetches /api/v1/leaderboard and draws the table, a
// chart of ratings with their intervals and a heat map of win rates. Model
// names are only ever inserted as text.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let current = null;

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

async function load() {
  const style = document.getElementById("style").checked;
  const status = document.getElementById("status");
  status.className = "";
  status.textContent = "loading…";
  try {
    const res = await fetch("/api/v1/leaderboard?style=" + style, { headers: { Accept: "application/json" } });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
    current = body;
    render();
    status.textContent = body.battles + " votes, " + body.models.length + " models";
  } catch (err) {
    status.className = "error";
    status.textContent = "Could not load the leaderboard: " + err.message;
  }
}

function render() {
  const lb = current;
  const pct = Math.round(lb.ci * 100);
  document.getElementById("ci-head").textContent = pct + "% CI";
  let method = "Bradley–Terry, exact maximum likelihood; ties count as half a win. ";
  if (lb.solver && lb.solver.prior > 0) {
    method = "Bradley–Terry with a weak prior (the exact estimate does not exist; see the warnings); ties count as half a win. ";
  }
  if (lb.method === "bradley-terry-style-control") {
    method += "Style control: ratings adjusted for answer length and markdown; " + pct + "% Wald intervals.";
  } else if (lb.rounds > 0) {
    method += pct + "% bootstrap intervals from " + lb.rounds + " rounds.";
  }
  document.getElementById("method").textContent = method;

  const tbody = document.querySelector("#board tbody");
  tbody.replaceChildren();
  for (const m of lb.models) {
    const tr = document.createElement("tr");
    tr.append(td(m.rank), td(m.model), td(m.rating.toFixed(1)),
      td("+" + (m.ci_upper - m.rating).toFixed(1) + " / −" + (m.rating - m.ci_lower).toFixed(1)),
      td(m.battles), td(m.elo.toFixed(1)));
    tbody.append(tr);
  }

  const coef = document.getElementById("style-coefficients");
  coef.hidden = !lb.style;
  if (lb.style) {
    const body = coef.querySelector("tbody");
    body.replaceChildren();
    for (const c of lb.style.coefficients) {
      const tr = document.createElement("tr");
      tr.append(td(c.feature), td(c.coefficient.toFixed(4)), td(c.std_err.toFixed(4)));
      body.append(tr);
    }
  }

  drawChart(lb.models);
  drawHeat(lb);
  const warnings = document.getElementById("warnings");
  warnings.replaceChildren();
  for (const w of lb.warnings || []) {
    const li = document.createElement("li");
    li.textContent = w;
    warnings.append(li);
  }
}

function drawChart(models) {
  const svg = document.getElementById("chart");
  svg.replaceChildren();
  const left = 220, right = 30, row = 20, top = 24;
  const width = 900, height = top + row * models.length + 10;
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  if (models.length === 0) return;
  const lo = Math.min(...models.map(m => m.ci_lower)), hi = Math.max(...models.map(m => m.ci_upper));
  const pad = (hi - lo) * 0.05 || 10;
  const x = v => left + (v - (lo - pad)) / (hi - lo + 2 * pad) * (width - left - right);
  const step = niceStep((hi - lo + 2 * pad) / 8);
  for (let t = Math.ceil((lo - pad) / step) * step; t <= hi + pad; t += step) {
    svg.append(el("line", { x1: x(t), x2: x(t), y1: top - 6, y2: height - 6, class: "grid" }));
    svg.append(el("text", { x: x(t), y: 14, "text-anchor": "middle" }, Math.round(t)));
  }
  models.forEach((m, i) => {
    const y = top + row * i + row / 2;
    svg.append(el("text", { x: left - 8, y: y + 4, "text-anchor": "end" }, m.rank + ". " + m.model));
    svg.append(el("line", { x1: x(m.ci_lower), x2: x(m.ci_upper), y1: y, y2: y, class: "ci" }));
    svg.append(el("circle", { cx: x(m.rating), cy: y, r: 4, class: "dot" }));
  });
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const f of [1, 2, 5, 10]) if (raw <= f * p) return f * p;
  return 10 * p;
}

// color maps a win rate in [0, 1] to red (0) through white (0.5) to blue (1).
function color(v) {
  const t = Math.max(-1, Math.min(1, (v - 0.5) * 2));
  const a = Math.round(255 * (1 - Math.abs(t)));
  return t < 0 ? "rgb(255," + a + "," + a + ")" : "rgb(" + a + "," + a + ",255)";
}

function drawHeat(lb) {
  const kind = document.getElementById("heat").value;
  document.getElementById("heat-title").textContent =
    kind === "predicted" ? "Predicted win rate (row beats column)" : "Empirical win rate, ties excluded (row beats column)";
  const svg = document.getElementById("heatmap");
  svg.replaceChildren();
  const m = lb.matrices;
  if (!m) return;
  const n = Math.min(m.models.length, 30); // the top 30 keep the map readable
  const cell = 24, left = 200, top = 150;
  const size = left + cell * n + 70;
  svg.setAttribute("viewBox", "0 0 " + size + " " + (top + cell * n + 10));
  svg.setAttribute("width", size);
  svg.setAttribute("height", top + cell * n + 10);
  for (let i = 0; i < n; i++) {
    svg.append(el("text", { x: left - 6, y: top + cell * i + cell / 2 + 4, "text-anchor": "end" }, m.models[i]));
    const cx = left + cell * i + cell / 2;
    svg.append(el("text", { x: cx, y: top - 6, transform: "rotate(-60 " + cx + " " + (top - 6) + ")" }, m.models[i]));
    for (let j = 0; j < n; j++) {
      const v = m[kind][i][j];
      const r = el("rect", { x: left + cell * j, y: top + cell * i, width: cell - 1, height: cell - 1,
        fill: v === null ? "#f3f3f3" : color(v) });
      const title = el("title", {}, m.models[i] + " vs " + m.models[j] + ": " +
        (v === null ? "no data" : (100 * v).toFixed(0) + "%") + " (" + m.battles[i][j] + " battles)");
      r.append(title);
      svg.append(r);
      if (v !== null) {
        svg.append(el("text", { x: left + cell * j + cell / 2, y: top + cell * i + cell / 2 + 4, "text-anchor": "middle",
          "font-size": "9" }, Math.round(100 * v)));
      }
    }
  }
}

document.getElementById("style").addEventListener("change", load);
document.getElementById("heat").addEventListener("change", () => current && drawHeat(current));
load();
