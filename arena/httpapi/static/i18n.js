// The pages' strings: static/locales/LANG.json, in the browser's language
// (or ?lang=), English for anything missing. Elements name their string in
// data-i18n (text), data-i18n-placeholder, data-i18n-label (aria-label)
// and data-i18n-title. Right-to-left languages set dir="rtl".
"use strict";
window.AgoraI18n = (function () {
  const supported = ["en", "es", "ar"];
  const rtl = { ar: true };
  let dict = {}, fallback = {};

  function pick() {
    const asked = new URLSearchParams(location.search).get("lang");
    for (const l of [asked, ...(navigator.languages || [navigator.language])]) {
      const base = (l || "").toLowerCase().split("-")[0];
      if (supported.includes(base)) return base;
    }
    return "en";
  }
  const lang = pick();

  // A page may preload a locale (<link rel="preload">, versioned by the
  // server): the same URL is fetched, so the preloaded answer is used.
  async function get(l) {
    const path = "/static/locales/" + l + ".json";
    const link = document.querySelector('link[rel="preload"][href^="' + path + '"]');
    const res = await fetch(link ? link.getAttribute("href") : path);
    if (!res.ok) throw new Error("no locale " + l);
    return res.json();
  }

  function t(key, vars) {
    let s = dict[key] ?? fallback[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  // apply writes the strings into root's elements; a string the page
  // already shows (the HTML's English) is left alone, so that English
  // costs no layout.
  function apply(root) {
    const set = (el, s) => { if (el.textContent !== s) el.textContent = s; };
    for (const el of root.querySelectorAll("[data-i18n]")) set(el, t(el.dataset.i18n));
    for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  }

  const ready = (async () => {
    try {
      const asked = lang === "en" ? null : get(lang).catch(() => null);
      fallback = await get("en");
      dict = (asked && await asked) || fallback;
    } catch (e) { /* the HTML's English stays */ }
    document.documentElement.lang = lang;
    document.documentElement.dir = rtl[lang] ? "rtl" : "ltr";
    if (document.body.dataset.titleKey) document.title = t(document.body.dataset.titleKey);
    apply(document);
  })();

  // plural returns the count n with its noun, in the form the language
  // wants for n (Intl.PluralRules): the locale files hold one string per
  // form, as KEY#one, KEY#few, KEY#other…, with {n} for the number.
  // (The rules are made on first use: making them takes a while. English
  // needs none: a count is "one" when it is 1.)
  const rules = {};
  const form = (l, n) => l === "en" ? (n === 1 ? "one" : "other") : (rules[l] = rules[l] || new Intl.PluralRules(l)).select(n);
  function plural(key, n) {
    const s = dict[key + "#" + form(lang, n)] ?? dict[key + "#other"] ??
      fallback[key + "#" + form("en", n)] ?? fallback[key + "#other"] ?? key;
    return s.split("{n}").join(number(n));
  }

  // number formats v with digits decimals. A formatter is costly to make
  // (the first one loads the browser's number data: tens of milliseconds
  // on a phone), so each is made once, and English, the pages' first
  // language, is written without one: 1,234.5.
  const formats = {};
  function number(v, digits) {
    const d = digits || 0;
    if (lang === "en" && Number.isFinite(v)) {
      const [whole, frac] = v.toFixed(d).split(".");
      return whole.replace(/\B(?=(\d{3})+$)/g, ",") + (frac ? "." + frac : "");
    }
    formats[d] = formats[d] || new Intl.NumberFormat(lang, { maximumFractionDigits: d, minimumFractionDigits: d });
    return formats[d].format(v);
  }

  return { t: t, ready: ready, lang: lang, apply: apply, number: number, plural: plural };
})();
