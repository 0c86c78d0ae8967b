// Agora sign-in: optional contributor accounts with passkeys (WebAuthn) or
// an OpenID Connect issuer (docs/accounts.md). It renders into #account and
// reloads the page after a sign-in or sign-out, so that the arena's
// websocket reconnects as the new identity.
"use strict";
(function () {
  const box = document.getElementById("account");
  if (!box) return;
  const t = (k, v) => AgoraI18n.t(k, v);

  function button(id, text, onclick) {
    const b = document.createElement("button");
    b.type = "button"; b.id = id; b.textContent = text; b.onclick = onclick;
    return b;
  }
  function say(text) {
    let p = document.getElementById("account-message");
    if (!p) { p = document.createElement("span"); p.id = "account-message"; p.setAttribute("role", "status"); box.append(p); }
    p.textContent = text;
  }
  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : "" });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((data.error && data.error.message) || ("HTTP " + r.status));
    return data;
  }

  async function passkey(kind) {
    if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
      say(t("account.noPasskeys")); return;
    }
    try {
      let cred;
      if (kind === "register") {
        const o = await post("/api/v1/account/passkey/register/begin");
        cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o.publicKey) });
      } else {
        const o = await post("/api/v1/account/passkey/login/begin");
        cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o.publicKey) });
      }
      await post("/api/v1/account/passkey/" + kind + "/finish", cred.toJSON());
      location.reload();
    } catch (e) {
      say(t("account.passkeyFailed", { reason: e.message }));
    }
  }

  async function render() {
    const r = await fetch("/api/v1/account");
    if (!r.ok) return;
    const st = await r.json();
    await AgoraI18n.ready;
    box.replaceChildren();
    if (st.signed_in) {
      const who = document.createElement("span");
      who.id = "account-status"; who.textContent = t("account.signedIn", { name: st.member.name });
      box.append(who, button("account-signout", t("account.signOut"), async () => {
        try { await post("/api/v1/account/signout"); location.reload(); } catch (e) { say(e.message); }
      }));
      return;
    }
    const status = document.createElement("span");
    status.id = "account-status";
    status.textContent = st.require_account ? t("account.required") : t("account.signedOut");
    box.append(status);
    if (st.passkeys) {
      box.append(button("account-signup", t("account.createPasskey"), () => passkey("register")),
        button("account-signin", t("account.signInPasskey"), () => passkey("login")));
    }
    if (st.openid) {
      box.append(button("account-openid", t("account.signInWith", { provider: st.openid }), () => { location.href = "/api/v1/account/oidc/login"; }));
    }
  }
  render();
})();
