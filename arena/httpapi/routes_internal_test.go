package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestRouteTableIsTheEngine checks that the engine serves exactly the
// routes of the table: none is added outside it, so the matrix test over
// the table covers the whole server.
func TestRouteTableIsTheEngine(t *testing.T) {
	s, err := New(fullConfig())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, rt := range s.Routes() {
		methods := []string{rt.Method}
		if rt.Method == "ANY" {
			methods = []string{"GET", "POST", "PUT", "PATCH", "HEAD", "OPTIONS", "DELETE", "CONNECT", "TRACE"}
		}
		for _, m := range methods {
			want = append(want, m+" "+rt.Path)
		}
	}
	var got []string
	for _, ri := range s.engine.Routes() {
		got = append(got, ri.Method+" "+ri.Path)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("engine routes:\n%s\nroute table:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRoutesNeedTheirDependency checks that a route group is registered
// only with its dependency: a server without one answers its routes 404
// (no such route), never 503, and a server with every dependency serves
// them all.
func TestRoutesNeedTheirDependency(t *testing.T) {
	full, err := New(fullConfig())
	if err != nil {
		t.Fatal(err)
	}
	bare, err := New(bareConfig())
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{}
	for _, rt := range bare.publicRoutes() {
		public[rt.Method+" "+rt.Path] = true
	}
	bareRoutes := map[string]bool{}
	for _, rt := range bare.Routes() {
		bareRoutes[rt.Method+" "+rt.Path] = true
	}
	if len(bareRoutes) != len(public) {
		t.Errorf("a server with no optional dependency has %d routes, want only the %d public ones", len(bareRoutes), len(public))
	}
	for _, rt := range full.Routes() {
		key := rt.Method + " " + rt.Path
		if public[key] {
			continue
		}
		if bareRoutes[key] {
			t.Errorf("%s is served without its dependency", key)
			continue
		}
		method := rt.Method
		if method == "ANY" {
			method = "GET"
		}
		path := strings.NewReplacer(":", "x", "*", "x").Replace(rt.Path)
		w := httptest.NewRecorder()
		bare.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader("{}")))
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"not_found"`) {
			t.Errorf("%s %s without its dependency = %d %s, want 404 not_found", method, path, w.Code, w.Body)
		}
	}
}

// bareConfig is a server with only what New requires.
func bareConfig() Config {
	id, _ := NewIdentity(bytes.Repeat([]byte("k"), 32))
	return Config{Battles: nopBattles{}, Identity: id, Store: nopStore{}}
}

// fullConfig is a server with every optional dependency (none of them
// works: calling one panics), so that it has every route.
func fullConfig() Config {
	c := bareConfig()
	c.Demo = http.NotFoundHandler()
	c.Leaderboards = struct{ Leaderboards }{}
	c.Daily = struct{ DailyVotes }{}
	c.MyGold = struct{ GoldScorer }{}
	c.Records = struct{ rlhf.RecordSource }{}
	c.Metrics = []Metrics{struct{ Metrics }{}}
	c.Ledger = struct{ Ledger }{}
	c.Contributions = struct{ Contributions }{}
	c.Releaser = struct{ Releaser }{}
	c.Quarantine = struct{ Quarantines }{}
	c.Terms = Terms{Version: "1", Keeper: struct{ TermsKeeper }{}}
	c.Privacy = struct{ Privacy }{}
	c.Contributors = struct{ ContributorViews }{}
	c.Members = struct{ Members }{}
	c.Passkeys = struct{ PasskeyCeremonies }{}
	c.OpenID = struct{ OpenID }{}
	c.Accounts = struct{ anyAccounts }{}
	c.Registry = struct{ ModelRegistry }{}
	c.Usage = struct{ UsageSource }{}
	c.Policy = struct{ Governance }{}
	c.Campaigns = struct{ CampaignStore }{}
	return c
}

// anyAccounts names Accounts for embedding: its method Accounts would
// clash with a field of that name.
type anyAccounts = Accounts

type nopBattles struct{ Battles }

func (nopBattles) MaxTurns() int { return 1 }

type nopStore struct{}

func (nopStore) Ping(context.Context) error { return nil }
