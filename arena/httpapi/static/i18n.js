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

  async function get(l) {
    const res = await fetch("/static/locales/" + l + ".json");
    if (!res.ok) throw new Error("no locale " + l);
    return res.json();
  }

  function t(key, vars) {
    let s = dict[key] ?? fallback[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  function apply(root) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  }

  const ready = (async () => {
    try {
      fallback = await get("en");
      dict = lang === "en" ? fallback : await get(lang).catch(() => fallback);
    } catch (e) { /* the HTML's English stays */ }
    document.documentElement.lang = lang;
    document.documentElement.dir = rtl[lang] ? "rtl" : "ltr";
    if (document.body.dataset.titleKey) document.title = t(document.body.dataset.titleKey);
    apply(document);
  })();

  // plural returns the count n with its noun, in the form the language
  // wants for n (Intl.PluralRules): the locale files hold one string per
  // form, as KEY#one, KEY#few, KEY#other…, with {n} for the number.
  const rules = new Intl.PluralRules(lang), enRules = new Intl.PluralRules("en");
  function plural(key, n) {
    const s = dict[key + "#" + rules.select(n)] ?? dict[key + "#other"] ??
      fallback[key + "#" + enRules.select(n)] ?? fallback[key + "#other"] ?? key;
    return s.split("{n}").join(number(n));
  }

  const number = (v, digits) => new Intl.NumberFormat(lang, { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 }).format(v);

  return { t: t, ready: ready, lang: lang, apply: apply, number: number, plural: plural };
})();
