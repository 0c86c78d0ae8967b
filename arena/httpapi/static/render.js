// Agora's answer renderer: a model's Markdown becomes sanitised HTML, re-
// rendered at most once per animation frame while tokens stream. Raw HTML
// in an answer is shown as text; DOMPurify then removes anything that could
// run script or load remote content (images, frames, styles, forms, media),
// and the page's content security policy is the last fence. Syntax
// highlighting (highlight.js) and math (KaTeX) are loaded only when an
// answer needs them. Libraries: /static/vendor (see arena/httpapi/vendorjs).
"use strict";
window.AgoraRender = (function () {
  const V = "/static/vendor/";
  const loads = {};
  const waiting = new Set(); // renderers to redraw when a library arrives

  function load(name, js, css) {
    if (!loads[name]) {
      loads[name] = new Promise((resolve, reject) => {
        for (const c of css || []) {
          const l = document.createElement("link");
          l.rel = "stylesheet"; l.href = V + c.href;
          if (c.media) l.media = c.media;
          document.head.appendChild(l);
        }
        const s = document.createElement("script");
        s.src = V + js; s.async = true;
        s.onload = resolve; s.onerror = () => reject(new Error("could not load " + js));
        document.head.appendChild(s);
      }).then(() => { for (const r of waiting) r.schedule(); waiting.clear(); });
    }
    return loads[name];
  }
  const needHighlight = () => load("hljs", "highlight/highlight.min.js", [
    { href: "highlight/a11y-light.min.css", media: "(prefers-color-scheme: light)" },
    { href: "highlight/a11y-dark.min.css", media: "(prefers-color-scheme: dark)" }]);
  const needMath = () => load("katex", "katex/katex.min.js", [{ href: "katex/katex.min.css" }]);

  function escapeHTML(s) {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function mathToken(name, level, re) {
    return {
      name: name, level: level,
      start(src) { const i = src.search(level === "block" ? /\$\$|\\\[/ : /\$|\\\(/); return i < 0 ? undefined : i; },
      tokenizer(src) {
        const m = re.exec(src);
        if (m) return { type: name, raw: m[0], tex: (m[1] || m[2] || "").trim() };
      },
      renderer(t) {
        const tex = escapeHTML(t.tex);
        return level === "block"
          ? '<div class="math math-display" data-tex="' + tex + '">' + tex + "</div>\n"
          : '<span class="math" data-tex="' + tex + '">' + tex + "</span>";
      },
    };
  }

  // The parser and the sanitiser load on the first sign of use (a key, a
  // touch or a renderer), not with the page: until then an answer shows
  // as plain text.
  let md = null, purifyConfig = null;
  function setup() {
    md = new marked.Marked({ gfm: true, breaks: false, async: false });
    md.use({
      extensions: [
        mathToken("mathBlock", "block", /^(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n|$)/),
        mathToken("mathInline", "inline", /^(?:\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\d$])|\\\(([\s\S]+?)\\\))/),
      ],
      renderer: {
        // Raw HTML in an answer is text, never markup.
        html(t) { return escapeHTML(t.text); },
        // Images would load remote content: show their description instead.
        image(t) { return '<span class="img-alt">[' + escapeHTML(t.text || "image") + "]</span>"; },
      },
    });

    purifyConfig = {
      FORBID_TAGS: ["img", "svg", "math", "style", "form", "input", "button", "textarea", "select", "video", "audio",
        "iframe", "frame", "object", "embed", "link", "meta", "base", "picture", "source", "template"],
      FORBID_ATTR: ["style", "src", "srcset", "background", "poster", "action", "formaction", "xlink:href", "id", "name"],
      ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
    };
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") { node.setAttribute("rel", "noopener noreferrer nofollow"); node.setAttribute("target", "_blank"); }
    });
  }
  let coreLoad = null;
  function needCore() {
    if (!coreLoad) {
      coreLoad = Promise.all([load("marked", "marked/marked.umd.js"), load("dompurify", "dompurify/purify.min.js")]).then(() => {
        setup();
        for (const r of waiting) r.schedule();
        waiting.clear();
        // Warm the parser and the sanitiser while the page is idle, so
        // that the first token does not wait for their first, slow call.
        (window.requestIdleCallback || setTimeout)(() => toHTML("# w\n\n- *a* `b` [c](#d)\n\n| e |\n|---|\n| f |\n\n```\ng\n```\n\n<i>h</i> $i$"));
      });
    }
    return coreLoad;
  }
  for (const ev of ["keydown", "pointerdown", "focusin"]) document.addEventListener(ev, () => needCore().catch(() => {}), { once: true, passive: true });

  function toHTML(text) { return DOMPurify.sanitize(md.parse(text), purifyConfig); }

  function decorate(el, opts) {
    for (const code of el.querySelectorAll("pre > code")) {
      if (window.hljs) {
        const lang = (/language-([\w+#-]+)/.exec(code.className) || [])[1];
        const text = code.textContent;
        const out = lang && hljs.getLanguage(lang) ? hljs.highlight(text, { language: lang }) : hljs.highlightAuto(text);
        code.innerHTML = out.value; // highlight.js escapes the text it wraps
        code.classList.add("hljs");
      }
      const b = document.createElement("button");
      b.type = "button"; b.className = "copy"; b.textContent = opts.copyLabel || "Copy"; b.dataset.copied = opts.copiedLabel || "Copied";
      code.parentNode.insertBefore(b, code);
    }
    for (const m of el.querySelectorAll(".math")) {
      if (!window.katex) continue;
      const tex = m.dataset.tex;
      m.textContent = "";
      katex.render(tex, m, { displayMode: m.classList.contains("math-display"), throwOnError: false, trust: false, maxExpand: 500 });
    }
  }

  // create returns a renderer for one answer shown in el. onShown(t) is
  // called with the frame's time when text first reaches the screen.
  function create(el, opts) {
    opts = opts || {};
    let text = "", queued = false, shownOnce = false;
    const r = {
      append(s) { text += s; r.schedule(); },
      text() { return text; },
      schedule() {
        if (queued) return;
        queued = true;
        requestAnimationFrame(r.draw);
      },
      draw(t) {
        queued = false;
        if (!md) {
          waiting.add(r); needCore().catch(() => {});
          el.textContent = text;
        } else {
          r.render(t);
        }
      },
      render(t) {
        if (/```|~~~|\n {4}\S/.test(text) && !window.hljs) { waiting.add(r); needHighlight().catch(() => {}); }
        if (/\$|\\\(|\\\[/.test(text) && !window.katex) { waiting.add(r); needMath().catch(() => {}); }
        el.innerHTML = toHTML(text);
        decorate(el, opts);
        if (opts.onDrawn) opts.onDrawn();
        if (!shownOnce && text) { shownOnce = true; if (opts.onShown) opts.onShown(t); }
      },
    };
    return r;
  }

  // Copy buttons: one listener for the whole page.
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest && ev.target.closest("button.copy");
    if (!b) return;
    const code = b.parentNode.querySelector("code");
    const done = () => { const old = b.textContent; b.textContent = b.dataset.copied; setTimeout(() => { b.textContent = old; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(code.textContent).then(done, () => {});
    else {
      const range = document.createRange(); range.selectNodeContents(code);
      const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
      document.execCommand("copy"); sel.removeAllRanges(); done();
    }
  });


  return { create: create, toHTML: toHTML };
})();
