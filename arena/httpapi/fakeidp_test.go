package httpapi_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeIdP is a hand-written OpenID Connect provider for tests: discovery,
// JWKS, an authorization endpoint that consents at once for the subject
// it is told, and a token endpoint that checks the client, the code and
// its PKCE verifier and returns an RS256-signed id token.
type fakeIdP struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	clientID string
	secret   string

	mu        sync.Mutex       // guards the fields below
	subject   string           // who signs in next
	codes     map[string]grant // issued codes, each usable once
	badNonce  bool             // sign the wrong nonce (a replayed token)
	exchanges int
}

// grant is what an authorization code stands for.
type grant struct {
	subject, nonce, challenge, redirect string
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	idp := &fakeIdP{t: t, key: key, clientID: "agora-test", secret: "idp-client-secret-never-logged", subject: "alice", codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", idp.discovery)
	mux.HandleFunc("GET /jwks", idp.jwks)
	mux.HandleFunc("GET /authorize", idp.authorize)
	mux.HandleFunc("POST /token", idp.token)
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

func (idp *fakeIdP) issuer() string { return idp.srv.URL }

func (idp *fakeIdP) signInAs(subject string) {
	idp.mu.Lock()
	idp.subject = subject
	idp.mu.Unlock()
}

func (idp *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": idp.issuer(), "authorization_endpoint": idp.issuer() + "/authorize", "token_endpoint": idp.issuer() + "/token",
		"jwks_uri": idp.issuer() + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func (idp *fakeIdP) jwks(w http.ResponseWriter, r *http.Request) {
	pub := idp.key.PublicKey
	json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize checks the request as a real issuer would and sends the
// browser back with a code at once (the user consents).
func (idp *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != idp.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := b64(randomBytes(16))
	idp.mu.Lock()
	idp.codes[code] = grant{subject: idp.subject, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	idp.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token exchanges a code: the client's secret, the code (once) and the
// PKCE verifier must all be right.
func (idp *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	idp.mu.Lock()
	g, found := idp.codes[r.PostFormValue("code")]
	delete(idp.codes, r.PostFormValue("code"))
	idp.exchanges++
	badNonce := idp.badNonce
	idp.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != idp.clientID || secret != idp.secret:
		tokenError(w, "invalid_client")
		return
	case !found || g.redirect != r.PostFormValue("redirect_uri"):
		tokenError(w, "invalid_grant")
		return
	case b64(sum[:]) != g.challenge:
		tokenError(w, "invalid_grant") // PKCE: the verifier does not match the challenge
		return
	}
	nonce := g.nonce
	if badNonce {
		nonce = "a-nonce-from-another-sign-in"
	}
	now := time.Now()
	idToken := idp.sign(map[string]any{"iss": idp.issuer(), "sub": g.subject, "aud": idp.clientID, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "preferred_username": g.subject})
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": b64(randomBytes(16)), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// sign returns claims as a compact JWS signed with RS256.
func (idp *fakeIdP) sign(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	body, _ := json.Marshal(claims)
	input := b64(header) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, idp.key, crypto.SHA256, sum[:])
	if err != nil {
		idp.t.Error(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
