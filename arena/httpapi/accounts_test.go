package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/openid"
)

// withOpenID turns on accounts with the fake issuer as the only way in.
func withOpenID(idp *fakeIdP) func(*testing.T, string) (httpapi.PasskeyCeremonies, httpapi.OpenID) {
	return func(t *testing.T, origin string) (httpapi.PasskeyCeremonies, httpapi.OpenID) {
		p, err := openid.New(openid.Config{Issuer: idp.issuer(), ClientID: idp.clientID, ClientSecret: idp.secret,
			RedirectURL: origin + "/api/v1/account/oidc/callback"})
		if err != nil {
			t.Fatal(err)
		}
		return nil, p
	}
}

// device is one browser: a cookie jar against the server's page origin.
type device struct {
	t      *testing.T
	base   string // http://localhost:PORT, the origin passkeys and the callback use
	client *http.Client
}

func (s *setup) device(t *testing.T) *device {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	d := &device{t: t, base: strings.Replace(s.http.URL, "127.0.0.1", "localhost", 1), client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	t.Cleanup(d.client.CloseIdleConnections)
	d.do("GET", "/", "", 200) // the page hands out an anonymous identity
	return d
}

// do sends a request as the device and checks its final status.
func (d *device) do(method, path, authorization string, want int) []byte {
	d.t.Helper()
	req, _ := http.NewRequest(method, d.base+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", "Bearer "+authorization)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		d.t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, body, want)
	}
	return body
}

// token returns the device's contributor token (its cookie).
func (d *device) token() string {
	u, _ := url.Parse(d.base)
	for _, c := range d.client.Jar.Cookies(u) {
		if c.Name == "agora_token" {
			return c.Value
		}
	}
	d.t.Fatal("the device has no contributor token")
	return ""
}

type accountState struct {
	ContributorID string `json:"contributor_id"`
	SignedIn      bool   `json:"signed_in"`
	Member        *struct {
		ID            string   `json:"id"`
		ContributorID string   `json:"contributor_id"`
		Name          string   `json:"name"`
		Linked        []string `json:"linked_contributors"`
	} `json:"member"`
	OpenID string `json:"openid"`
}

func (d *device) account() accountState {
	d.t.Helper()
	var st accountState
	if err := json.Unmarshal(d.do("GET", "/api/v1/account", "", 200), &st); err != nil {
		d.t.Fatal(err)
	}
	return st
}

// dialAs opens the websocket with a contributor token.
func (s *setup) dialAs(t *testing.T, token string) *wsClient {
	t.Helper()
	return s.dial(t, http.Header{"Authorization": {"Bearer " + token}})
}

// dialRefused opens the websocket with a token that should no longer
// count, and returns the error frame that comes before the hello, and the
// hello (a new contributor's).
func (s *setup) dialRefused(t *testing.T, token string) (problem, hello map[string]any) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(s.url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn}
	problem, hello = c.next(), c.next()
	if problem["type"] != "error" || problem["code"] != "unauthorized" || hello["type"] != "hello" {
		t.Fatalf("frames %v, %v; want an unauthorized error, then hello", problem, hello)
	}
	return problem, hello
}

// voteOnce plays one battle as c and returns the stored vote's contributor.
func (s *setup) voteOnce(t *testing.T, c *wsClient) string {
	t.Helper()
	id, _ := c.start("Which is the largest planet?")
	if f := c.vote(id, "a", nil); f["type"] != "voted" {
		t.Fatalf("vote answered %v", f)
	}
	v, err := s.store.VoteForBattle(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v.ContributorID
}

// TestOpenIDSignInKeepsHistory signs in through an OpenID Connect issuer
// the test runs: the anonymous contributor's id (and so its votes) becomes
// the account's, a second device signing in gets the same id, and the
// old anonymous token no longer speaks for it.
func TestOpenIDSignInKeepsHistory(t *testing.T) {
	idp := newFakeIdP(t)
	s := newSetup(t, options{accounts: withOpenID(idp)})

	phone := s.device(t)
	anonToken := phone.token()
	anon := s.dialAs(t, anonToken)
	before := anon.hello["contributor_id"].(string)
	if got := s.voteOnce(t, anon); got != before {
		t.Fatalf("anonymous vote stored for %s, want %s", got, before)
	}
	phone.do("GET", "/api/v1/account/oidc/login", "", 200) // issuer → callback → the page
	st := phone.account()
	if !st.SignedIn || st.Member == nil || st.Member.ContributorID != before || st.ContributorID != before {
		t.Fatalf("after sign-in: %+v, want signed in as contributor %s", st, before)
	}
	if st.Member.Name != "alice" || st.OpenID != "Test IdP" {
		t.Errorf("member name %q, openid %q; want alice, Test IdP", st.Member.Name, st.OpenID)
	}

	signed := s.dialAs(t, phone.token())
	if signed.hello["contributor_id"] != before || signed.hello["member"] != st.Member.ID {
		t.Errorf("signed-in hello = %v, want contributor %s, member %s", signed.hello, before, st.Member.ID)
	}
	if got := s.voteOnce(t, signed); got != before {
		t.Errorf("signed-in vote stored for %s, want %s", got, before)
	}
	// The anonymous token of that id no longer speaks for it.
	problem, hello := s.dialRefused(t, anonToken)
	if !strings.Contains(problem["message"].(string), "belongs to an account") || hello["contributor_id"] == before {
		t.Errorf("old anonymous token: %v, then %v; want refused and a new contributor", problem, hello)
	}

	laptop := s.device(t)
	laptopAnon := s.dialAs(t, laptop.token()).hello["contributor_id"].(string)
	laptop.do("GET", "/api/v1/account/oidc/login", "", 200)
	st2 := laptop.account()
	if st2.Member == nil || st2.Member.ID != st.Member.ID || st2.ContributorID != before {
		t.Fatalf("second device: %+v, want member %s as %s", st2, st.Member.ID, before)
	}
	if want := []string{before, laptopAnon}; strings.Join(st2.Member.Linked, ",") != strings.Join(want, ",") {
		t.Errorf("linked = %v, want %v", st2.Member.Linked, want)
	}

	idp.signInAs("bob")
	other := s.device(t)
	other.do("GET", "/api/v1/account/oidc/login", "", 200)
	if st3 := other.account(); st3.Member == nil || st3.Member.ID == st.Member.ID || st3.ContributorID == before {
		t.Errorf("another subject: %+v, want another member", st3)
	}
}

// TestSignOutAndAdminRevoke checks that contributor tokens are revocable:
// signing out ends that device's session only; the admin ends them all.
func TestSignOutAndAdminRevoke(t *testing.T) {
	idp := newFakeIdP(t)
	s := newSetup(t, options{accounts: withOpenID(idp), privacy: true})
	phone, laptop := s.device(t), s.device(t)
	phone.do("GET", "/api/v1/account/oidc/login", "", 200)
	laptop.do("GET", "/api/v1/account/oidc/login", "", 200)
	phoneToken, laptopToken := phone.token(), laptop.token()
	member := phone.account().Member

	var out struct {
		SignedOut     bool   `json:"signed_out"`
		ContributorID string `json:"contributor_id"`
	}
	json.Unmarshal(phone.do("POST", "/api/v1/account/signout", "", 200), &out)
	if !out.SignedOut || out.ContributorID == member.ContributorID || phone.account().SignedIn {
		t.Errorf("sign-out = %+v, signed in %v; want signed out as a new contributor", out, phone.account().SignedIn)
	}
	if problem, _ := s.dialRefused(t, phoneToken); !strings.Contains(problem["message"].(string), "signed out") {
		t.Errorf("signed-out token: first frame %v, want signed out", problem)
	}
	laptop.do("GET", "/api/v1/me/data", phoneToken, 401) // nor the contributor's data
	laptop.do("GET", "/api/v1/me/consent", laptopToken, 200)
	if c := s.dialAs(t, laptopToken); c.hello["contributor_id"] != member.ContributorID {
		t.Errorf("the other device's hello = %v, want it still signed in", c.hello)
	}

	laptop.do("DELETE", "/api/v1/admin/members/"+member.ID+"/sessions", "", 401)
	var rev struct{ Revoked int }
	json.Unmarshal(laptop.do("DELETE", "/api/v1/admin/members/"+member.ID+"/sessions", adminToken, 200), &rev)
	if rev.Revoked != 1 {
		t.Errorf("admin revoked %d sessions, want 1 (the phone's was revoked already)", rev.Revoked)
	}
	s.dialRefused(t, laptopToken)
	if laptop.account().SignedIn {
		t.Error("the page still says signed in after the admin's revocation")
	}
}

// TestOpenIDRefusals checks the flow's guards: the sealed state, the
// state parameter, a code used twice and an id token with another
// sign-in's nonce are all refused.
func TestOpenIDRefusals(t *testing.T) {
	idp := newFakeIdP(t)
	s := newSetup(t, options{accounts: withOpenID(idp)})
	d := s.device(t)
	d.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	authorize := func() *url.URL { // the issuer's redirect back, not yet followed
		loc, _ := url.Parse(string(location(t, d, "/api/v1/account/oidc/login")))
		resp, err := d.client.Get(loc.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		back, _ := url.Parse(resp.Header.Get("Location"))
		return back
	}
	back := authorize()
	q := back.Query()
	q.Set("state", "forged")
	d.do("GET", "/api/v1/account/oidc/callback?"+q.Encode(), "", 401)
	d.do("GET", back.RequestURI(), "", 400) // the sealed state went with the first try

	back = authorize()
	d.do("GET", back.RequestURI(), "", 302) // signed in
	location(t, d, "/api/v1/account/oidc/login")
	d.do("GET", back.RequestURI(), "", 401) // the same code again: the issuer refuses it (and the state differs)

	idp.mu.Lock()
	idp.badNonce = true
	idp.mu.Unlock()
	back = authorize()
	body := d.do("GET", back.RequestURI(), "", 401)
	if !strings.Contains(string(body), "not accepted") || strings.Contains(string(body), idp.secret) {
		t.Errorf("bad nonce answered %s", body)
	}
}

// location requests path without following the redirect and returns its
// Location.
func location(t *testing.T, d *device, path string) string {
	t.Helper()
	resp, err := d.client.Get(d.base + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s = %d, want 302", path, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// TestRequireAccount checks contributors.require_account: anonymous
// contributors are told in their hello and refused battles with
// account_required; signed in, they play.
func TestRequireAccount(t *testing.T) {
	idp := newFakeIdP(t)
	s := newSetup(t, options{accounts: withOpenID(idp), requireAccount: true})
	d := s.device(t)
	anon := s.dialAs(t, d.token())
	if anon.hello["account_required"] != true {
		t.Errorf("hello = %v, want account_required", anon.hello)
	}
	anon.send(map[string]any{"type": "start", "prompt": "hi"})
	if f := anon.next(); f["code"] != "account_required" || f["request"] != "start" {
		t.Errorf("anonymous start answered %v, want account_required", f)
	}
	d.do("GET", "/api/v1/account/oidc/login", "", 200)
	signed := s.dialAs(t, d.token())
	if got := s.voteOnce(t, signed); got != d.account().ContributorID {
		t.Errorf("vote stored for %s, want the member's contributor", got)
	}
}

// TestNewIdentityLimits checks the account-age limits: anonymous
// contributors and new accounts have the newcomers' budget on top of the
// others; an account older than the new-account age has not.
func TestNewIdentityLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		age     time.Duration
		signIn  bool
		limited bool
	}{
		{"anonymous", 0, false, true},
		{"established account", 0, true, false},
		{"new account", time.Hour, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newFakeIdP(t)
			s := newSetup(t, options{accounts: withOpenID(idp), limits: httpapi.Limits{
				VotesPerNewContributor: httpapi.Rate{Every: time.Hour, Burst: 1}, NewAccountAge: tc.age}})
			d := s.device(t)
			if tc.signIn {
				d.do("GET", "/api/v1/account/oidc/login", "", 200)
			}
			c := s.dialAs(t, d.token())
			s.voteOnce(t, c)
			id, _ := c.start("And the smallest?")
			f := c.vote(id, "b", nil)
			if got := f["code"] == "rate_limited"; got != tc.limited {
				t.Fatalf("second vote answered %v; want rate limited = %v", f, tc.limited)
			}
			if tc.limited && (f["retry_after_ms"].(float64) <= 0 || !strings.Contains(f["message"].(string), "new identity")) {
				t.Errorf("rate_limited frame %v, want a retry time and the newcomers' reason", f)
			}
		})
	}
}
