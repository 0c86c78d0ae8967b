// The contributor's own page: their points, receipts and shares, their
// consent, and their data to download or delete. Everything comes from
// /api/v1/me/... with this browser's contributor cookie, so it is about
// them alone. Values from the server are only ever inserted as text.
"use strict";

const t = (k, v) => AgoraI18n.t(k, v);
const num = (v, d) => AgoraI18n.number(v, d);
const $ = (id) => document.getElementById(id);

function say(text, error) {
  $("status").className = error ? "error" : "";
  $("status").textContent = text;
}

// api calls a /api/v1/me route; an error carries the server's code.
async function api(method, path, body) {
  const init = { method: method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.error ? data.error.message : res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  return tr;
}

function emptyRow(tbody, cols, key) {
  const tr = row([[t(key), "empty"]]);
  tr.firstChild.colSpan = cols;
  tbody.appendChild(tr);
}

function renderPoints(p) {
  $("points-summary").textContent = t("me.total", { points: AgoraI18n.plural("count.points", p.total), votes: AgoraI18n.plural("count.votes", p.votes) });
  $("quarantined").hidden = !p.quarantined;
  const receipts = $("receipts").tBodies[0];
  receipts.replaceChildren();
  for (const r of p.receipts || []) {
    receipts.appendChild(row([[num(r.leaf_index)], [r.vote_id, "hash"], [new Date(r.time).toLocaleString(AgoraI18n.lang)], [num(r.points)]]));
  }
  if (!(p.receipts || []).length) emptyRow(receipts, 4, "me.noReceipts");
  const example = (p.receipts || [])[0];
  $("verify-cmd").textContent = "agora verify --server " + location.origin + " --vote " + (example ? example.vote_id : "VOTE_ID");
  const shares = $("shares").tBodies[0];
  shares.replaceChildren();
  for (const s of p.shares || []) {
    shares.appendChild(row([[s.release_root, "hash"], [num(s.log_size)], [num(s.votes)], [s.share]]));
  }
  if (!(p.shares || []).length) emptyRow(shares, 4, "me.noShares");
}

async function loadPoints() {
  try {
    renderPoints(await api("GET", "/api/v1/me/points"));
  } catch (err) {
    $("points-summary").textContent = err.status === 401 ? t("me.noToken") : err.status === 404 ? t("me.noLog") : t("me.failed", { reason: err.message });
    emptyRow($("receipts").tBodies[0], 4, "me.noReceipts");
    emptyRow($("shares").tBodies[0], 4, "me.noShares");
  }
}

// loadGold shows the contributor's own accuracy on gold (check) battles.
async function loadGold() {
  try {
    const g = await api("GET", "/api/v1/me/gold");
    $("gold-summary").textContent = g.battles === 0 ? t("me.goldNone") : t("me.goldScore", {
      correct: num(g.correct), battles: AgoraI18n.plural("count.checks", g.battles), pct: num(100 * g.accuracy), estimate: num(100 * g.estimate) });
  } catch (err) {
    if (err.status === 404) { $("gold").hidden = true; return; } // no gold battles on this server
    $("gold-summary").textContent = err.status === 401 ? t("me.noToken") : t("me.failed", { reason: err.message });
  }
}

let licence = "";

async function loadConsent() {
  try {
    const c = await api("GET", "/api/v1/me/consent");
    licence = c.consent.licence;
    $("scope").value = c.consent.scope;
    $("consent-now").textContent = t(c.chosen ? "me.consentChosen" : "me.consentDefault", { scope: t("me.scope." + c.consent.scope) });
  } catch (err) {
    $("consent-now").textContent = err.status === 401 ? t("me.noToken") : t("me.failed", { reason: err.message });
    for (const b of document.querySelectorAll("#consent-form button, #narrow-form button")) b.disabled = true;
  }
}

async function saveConsent(ev) {
  ev.preventDefault();
  try {
    await api("PUT", "/api/v1/me/consent", { scope: $("scope").value, licence: licence });
    say(t("me.saved"));
    await loadConsent();
  } catch (err) {
    say(t("me.failed", { reason: err.message }), true);
  }
}

async function narrow(ev) {
  ev.preventDefault();
  try {
    const r = await api("POST", "/api/v1/me/consent/narrow", { scope: $("narrow-scope").value });
    say(t("me.narrowed", { votes: AgoraI18n.plural("count.votes", r.narrowed), scope: t("me.scope." + r.scope) }));
  } catch (err) {
    say(t("me.failed", { reason: err.message }), true);
  }
}

async function erase() {
  try {
    await api("DELETE", "/api/v1/me/data");
    say(t("me.deleted"));
    await loadPoints();
  } catch (err) {
    say(t("me.failed", { reason: err.message }), true);
  }
}

AgoraI18n.ready.then(() => {
  $("consent-form").addEventListener("submit", saveConsent);
  $("narrow-form").addEventListener("submit", narrow);
  $("delete").addEventListener("click", () => $("delete-dialog").showModal());
  $("delete-dialog").addEventListener("close", () => {
    if ($("delete-dialog").returnValue === "delete") erase();
  });
  Promise.all([loadPoints(), loadGold()]).then(() => { document.body.dataset.loaded = "points"; });
  loadConsent();
});
