// terms.js: the operator's terms in a dialog before a first battle when
// the server has them (docs/consent.md); the page's foot carries the
// plain notice (arena.usage in the locale files). Kept apart from app.js:
// the page's own code need not know about it.
(function () {
  'use strict';
  fetch('/api/v1/terms', { credentials: 'same-origin' })
    .then(function (r) { return r.json(); })
    .then(function (t) { return AgoraI18n.ready.then(function () { return t; }); })
    .then(function (t) {
      if (!t.version || t.accepted_at) return;
      var d = document.createElement('dialog');
      d.id = 'agora-terms';
      var text = document.createElement('pre');
      text.textContent = t.text;
      text.style.whiteSpace = 'pre-wrap';
      var accept = document.createElement('button');
      accept.id = 'agora-terms-accept';
      accept.textContent = AgoraI18n.t("terms.accept", { version: t.version });
      accept.addEventListener('click', function () {
        fetch('/api/v1/me/terms', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ version: t.version })
        }).then(function (r) { if (r.ok) d.close(); });
      });
      d.addEventListener('cancel', function (e) { e.preventDefault(); });
      d.append(text, accept);
      document.body.appendChild(d);
      d.showModal();
    });
})();
