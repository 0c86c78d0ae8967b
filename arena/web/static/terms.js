// terms.js: the plain notice, and the operator's terms in a dialog before
// a first battle when the server has them (docs/consent.md). Kept apart
// from app.js: the page's own code need not know about it.
(function () {
  'use strict';
  fetch('/api/v1/terms', { credentials: 'same-origin' })
    .then(function (r) { return r.json(); })
    .then(function (t) {
      var notice = document.createElement('p');
      notice.id = 'agora-notice';
      notice.className = 'notice';
      notice.textContent = t.notice;
      // Inside <main>, so the notice sits in a landmark like the rest of
      // the page's content.
      (document.querySelector('main') || document.body).appendChild(notice);
      if (!t.version || t.accepted_at) return;
      var d = document.createElement('dialog');
      d.id = 'agora-terms';
      var text = document.createElement('pre');
      text.textContent = t.text;
      text.style.whiteSpace = 'pre-wrap';
      var accept = document.createElement('button');
      accept.id = 'agora-terms-accept';
      accept.textContent = 'Accept the terms (version ' + t.version + ')';
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
