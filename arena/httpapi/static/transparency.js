// The transparency page: fetches /api/v1/transparency and fills its
// tables. Every value is inserted as text, never as markup.
"use strict";

function cell(row, text, cls) {
  const c = document.createElement("td");
  c.textContent = text;
  if (cls) c.className = cls;
  row.appendChild(c);
}

function pct(x) { return (100 * x).toFixed(1) + "%"; }

// span writes a Go duration ("720h0m0s") without its zero parts: "720h".
function span(d) { return d.replace(/h0m0s$/, "h").replace(/m0s$/, "m"); }

function day(t) { return t ? t.replace("T", " ").slice(0, 16) + " UTC" : ""; }

// fill puts one row per item into table id, or a row saying it is empty.
function fill(id, items, columns, empty) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren();
  if (!items || items.length === 0) {
    const tr = body.insertRow();
    const c = document.createElement("td");
    c.colSpan = document.querySelectorAll("#" + id + " thead th").length;
    c.className = "empty";
    c.textContent = empty;
    tr.appendChild(c);
    return;
  }
  for (const item of items) {
    const tr = body.insertRow();
    for (const col of columns) {
      const [text, cls] = col(item);
      cell(tr, text, cls);
    }
  }
}

function showPolicy(p, inForce) {
  document.getElementById("in-force").textContent =
    "Version " + inForce.version + ", in force since " + day(inForce.at) + ", set by " + inForce.by + ": " + inForce.reason;
  const target = p.sampling.target === "equal" ? "equal shares" :
    Object.entries(p.sampling.shares || {}).map(([k, v]) => k + " " + pct(v)).join(", ") + " (others share the rest)";
  const rules = [
    ["Votes before a rating is final", p.min_votes + " counted votes (provisional until then)"],
    ["Unlisted models per lab", "at most " + p.max_unlisted_per_lab + " at once"],
    ["Many variants tested", "more than " + p.variants.more_than + " within " + span(p.variants.window) +
      ": provisional until " + p.variants.fresh_votes + " fresh votes after listing"],
    ["Retraction", "a listed model's scores are never retracted; models are deprecated, with a published reason"],
    ["Sampling target", target + ", tolerance ±" + pct(p.sampling.tolerance)],
  ];
  const dl = document.getElementById("policy");
  dl.replaceChildren();
  for (const [k, v] of rules) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

function show(r) {
  showPolicy(r.policy, r.in_force);
  const v = r.votes;
  fill("votes", [v], [
    (x) => [String(x.counted), "num"], (x) => [String(x.quarantined), "num"],
    (x) => [String(x.not_anonymous), "num"], (x) => [String(x.failed), "num"], (x) => [String(x.total), "num"],
  ], "");
  fill("shares", r.shares, [
    (x) => [x.lab], (x) => [String(x.battle_sides), "num"], (x) => [pct(x.share), "num"],
    (x) => [pct(x.target), "num"], (x) => x.off_target ? ["off target", "off"] : ["yes"],
  ], "No battles yet.");
  fill("unlisted", r.unlisted, [
    (x) => [x.lab], (x) => [String(x.unlisted), "num"], (x) => [String(x.cap), "num"],
  ], "No lab is testing unlisted models.");
  fill("deprecations", r.deprecations, [
    (x) => [day(x.at)], (x) => [x.model], (x) => [x.lab], (x) => [x.by], (x) => [x.reason], (x) => ["v" + x.policy_version],
  ], "No model has been deprecated.");
  fill("releases", r.releases, [
    (x) => [x.id], (x) => [x.licence], (x) => [x.scope || ""], (x) => [String(x.votes), "num"], (x) => [day(x.at)],
  ], "No data has been released yet.");
  fill("history", r.history.slice().reverse(), [
    (x) => ["v" + x.version], (x) => [day(x.at)], (x) => [x.by], (x) => [x.reason],
    (x) => [String(x.log_leaf), "num"], (x) => [x.sha256, "hash"],
  ], "");
}

async function load() {
  const status = document.getElementById("status");
  try {
    const res = await fetch("/api/v1/transparency", { headers: { Accept: "application/json" } });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
    show(body);
    status.className = "";
    status.textContent = "As of " + day(body.generated_at) + ".";
  } catch (e) {
    status.className = "error";
    status.textContent = "Could not load the report: " + e.message;
  }
}

load();
