package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/policy"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// testPolicy is small enough to cross every threshold with a few votes.
const testPolicy = `version: 1
min_votes: 5
max_unlisted_per_lab: 2
variants: {more_than: 2, window: 720h, fresh_votes: 4}
sampling: {target: equal, tolerance: 0.05}
`

// policySetup is a lab setup whose server enforces testPolicy, with a live
// leaderboard of the store's votes.
type policySetup struct {
	*labSetup
	gov   *policy.Governor
	live  *analytics.Live
	votes int
}

func newPolicySetup(t *testing.T) *policySetup {
	t.Helper()
	ps := &policySetup{}
	ls := newLabSetup(t, func(store *store.Store, reg func() *registry.Registry) (func(arena.Matcher) arena.Matcher, func(*httpapi.Config)) {
		ctx := context.Background()
		gov, err := policy.New(ctx, policy.Config{Store: store, Parse: configs.ParsePolicy, ModelLabs: func() map[string]string {
			out := map[string]string{}
			for _, m := range reg().Models("") {
				out[m.Name] = m.Lab
			}
			return out
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := gov.Start(ctx, []byte(testPolicy), "test"); err != nil {
			t.Fatal(err)
		}
		live, err := analytics.NewLive(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		ps.gov, ps.live = gov, live
		return gov.Matcher, func(c *httpapi.Config) {
			c.Policy, c.Leaderboards = gov, policy.Boards{Inner: live, Gov: gov}
		}
	})
	ps.labSetup = ls
	return ps
}

// vote stores n votes of a over b, committed now, and adds them to the
// live leaderboard.
func (ps *policySetup) vote(a, b string, n int) {
	ps.t.Helper()
	ctx := context.Background()
	for range n {
		ps.votes++
		now := time.Now()
		bt := &rlhf.Battle{ID: fmt.Sprintf("pb%d", ps.votes), ContributorID: fmt.Sprintf("c%d", ps.votes%7), ModelA: a, ModelB: b,
			Status: rlhf.StatusVoted, CreatedAt: now, UpdatedAt: now,
			Turns: []rlhf.Turn{{Prompt: "hi", At: now, A: rlhf.Answer{Content: "x", FinishReason: "stop"}, B: rlhf.Answer{Content: "y", FinishReason: "stop"}}}}
		v := &rlhf.Vote{ID: "pv" + bt.ID, BattleID: bt.ID, ContributorID: bt.ContributorID, Winner: rlhf.WinnerA, CreatedAt: now}
		if err := ps.store.SaveBattle(ctx, bt); err != nil {
			ps.t.Fatal(err)
		}
		if err := ps.store.SaveVote(ctx, bt, v); err != nil {
			ps.t.Fatal(err)
		}
		if err := ps.live.Add(rlhf.Record{Battle: *bt, Vote: *v}); err != nil {
			ps.t.Fatal(err)
		}
	}
}

// board returns the leaderboard's rows by model, as the public sees
// them but fitted afresh (a researcher's parameter: the published fit is
// kept for seconds).
func (ps *policySetup) board() (map[string]analytics.Row, *analytics.Leaderboard) {
	ps.t.Helper()
	var lb analytics.Leaderboard
	ps.must(http.StatusOK, "GET", "/api/v1/leaderboard?rounds=20", researcherToken, nil, &lb)
	rows := map[string]analytics.Row{}
	for _, r := range lb.Models {
		rows[r.Model] = r
	}
	return rows, &lb
}

// register registers a model of the lab with token, unlisted or not, and
// returns the status and body.
func (ps *policySetup) register(token, local string, unlisted bool) (int, []byte) {
	body := map[string]any{"name": local, "base_url": ps.epURL, "model": local, "max_tokens": 20, "unlisted": unlisted}
	return ps.do("POST", "/api/v1/models", token, "", body)
}

func (ps *policySetup) report() policy.Report {
	ps.t.Helper()
	r, err := ps.gov.Report(context.Background())
	if err != nil {
		ps.t.Fatal(err)
	}
	return *r
}

// TestUnlistedCapAndRetraction registers unlisted variants up to the cap,
// lists one, and finds its scores cannot be retracted while an unlisted
// one can be deleted.
func TestUnlistedCapAndRetraction(t *testing.T) {
	ps := newPolicySetup(t)
	acme := ps.account("labs", "acme")
	for _, name := range []string{"v1", "v2"} {
		if st, body := ps.register(acme, name, true); st != http.StatusCreated {
			t.Fatalf("register unlisted %s = %d %s", name, st, body)
		}
	}
	st, body := ps.register(acme, "v3", true)
	if st != http.StatusTooManyRequests || !strings.Contains(string(body), "max_unlisted_per_lab: 2") {
		t.Fatalf("register a third unlisted model = %d %s, want 429 naming the cap", st, body)
	}
	if r := ps.report(); len(r.Unlisted) != 1 || r.Unlisted[0] != (policy.LabUnlisted{Lab: "acme", Unlisted: 2, Cap: 2}) {
		t.Errorf("report's unlisted = %+v, want acme 2 of 2", r.Unlisted)
	}
	ps.vote("acme/v1", "base-1", 6)
	ps.vote("acme/v2", "base-2", 6)
	rows, lb := ps.board()
	if _, ok := rows["acme/v1"]; ok || lb.Policy == nil || lb.Policy.Hidden != 2 {
		t.Errorf("public board shows unlisted models: %+v, policy %+v", rows, lb.Policy)
	}
	if _, ok := rows["base-1"]; !ok {
		t.Errorf("public board lacks base-1: %+v", rows)
	}
	// Unlisted: deleting it is allowed (it was never public); it still
	// counts as a tested variant.
	ps.must(http.StatusNoContent, "DELETE", "/api/v1/models/acme/v2", acme, nil, nil)
	if st, body := ps.register(acme, "v3", true); st != http.StatusCreated {
		t.Fatalf("register v3 after deleting v2 = %d %s", st, body)
	}
	var listed struct{ Listing policy.Listing }
	ps.must(http.StatusOK, "POST", "/api/v1/models/acme/v1/list", acme, nil, &listed)
	if listed.Listing.State != policy.Listed || listed.Listing.Variants != 3 {
		t.Errorf("list acme/v1 = %+v, want listed with 3 variants tested", listed.Listing)
	}
	st, body = ps.do("DELETE", "/api/v1/models/acme/v1", acme, "", nil)
	if st != http.StatusConflict || !strings.Contains(string(body), "cannot be retracted") || !strings.Contains(string(body), "deprecate") {
		t.Fatalf("delete listed acme/v1 = %d %s, want 409 saying scores cannot be retracted", st, body)
	}
	st, body = ps.do("DELETE", "/api/v1/models/acme/v1", adminToken, "", nil)
	if st != http.StatusConflict {
		t.Errorf("admin deletes listed acme/v1 = %d %s, want 409", st, body)
	}
	var got struct{ Model struct{ Listing string } }
	ps.must(http.StatusOK, "GET", "/api/v1/models/acme/v1", acme, nil, &got)
	if got.Model.Listing != "listed" {
		t.Errorf("acme/v1 listing = %q, want listed", got.Model.Listing)
	}
}

// TestProvisionalLabels sets and clears both provisional rules: too few
// votes, and too few fresh votes after a lab listed one of many variants.
func TestProvisionalLabels(t *testing.T) {
	ps := newPolicySetup(t)
	acme, bolt := ps.account("labs", "acme"), ps.account("labs", "bolt")
	if st, body := ps.register(bolt, "b1", false); st != http.StatusCreated {
		t.Fatalf("register bolt/b1 = %d %s", st, body)
	}
	ps.vote("bolt/b1", "base-1", 2)
	rows, _ := ps.board()
	if r := rows["bolt/b1"]; !r.Provisional || !strings.Contains(r.ProvisionalReason, "2 of the 5") {
		t.Errorf("bolt/b1 with 2 votes = %+v, want provisional (2 of the 5)", r)
	}
	ps.vote("bolt/b1", "base-2", 3)
	if rows, _ = ps.board(); rows["bolt/b1"].Provisional {
		t.Errorf("bolt/b1 with 5 votes = %+v, want not provisional", rows["bolt/b1"])
	}
	// acme tests 3 variants (more than 2), then lists one.
	for _, name := range []string{"v1", "v2"} {
		if st, body := ps.register(acme, name, true); st != http.StatusCreated {
			t.Fatalf("register %s = %d %s", name, st, body)
		}
	}
	ps.must(http.StatusNoContent, "DELETE", "/api/v1/models/acme/v2", acme, nil, nil)
	if st, body := ps.register(acme, "v3", true); st != http.StatusCreated {
		t.Fatalf("register v3 = %d %s", st, body)
	}
	ps.vote("acme/v1", "base-1", 8)
	ps.must(http.StatusOK, "POST", "/api/v1/models/acme/v1/list", acme, nil, nil)
	rows, _ = ps.board()
	if r := rows["acme/v1"]; !r.Provisional || !strings.Contains(r.ProvisionalReason, "0 of the 4 fresh votes") {
		t.Errorf("acme/v1 just listed after 3 variants = %+v, want provisional (0 of the 4 fresh votes)", r)
	}
	ps.vote("acme/v1", "base-2", 3)
	if rows, _ = ps.board(); !rows["acme/v1"].Provisional {
		t.Errorf("acme/v1 with 3 fresh votes = %+v, want provisional", rows["acme/v1"])
	}
	ps.vote("acme/v1", "bolt/b1", 1)
	if rows, _ = ps.board(); rows["acme/v1"].Provisional {
		t.Errorf("acme/v1 with 4 fresh votes = %+v, want not provisional", rows["acme/v1"])
	}
	if _, ok := rows["acme/v3"]; ok {
		t.Errorf("unlisted acme/v3 is on the public board")
	}
}

// TestDeprecationAppliedEqually deprecates a model of each of two labs and
// one of the operator's: each is logged with its reason, labelled on the
// board, and never battles again, whoever asked.
func TestDeprecationAppliedEqually(t *testing.T) {
	ps := newPolicySetup(t)
	acme, bolt := ps.account("labs", "acme"), ps.account("labs", "bolt")
	for _, reg := range []struct{ token, name string }{{acme, "a1"}, {bolt, "b1"}, {bolt, "b2"}} {
		if st, body := ps.register(reg.token, reg.name, false); st != http.StatusCreated {
			t.Fatalf("register %s = %d %s", reg.name, st, body)
		}
	}
	ps.vote("acme/a1", "bolt/b1", 3)
	ps.vote("base-1", "bolt/b2", 3)
	dep := func(token, model, reason, by string) (int, []byte) {
		return ps.do("POST", "/api/v1/deprecations", token, "", map[string]any{"model": model, "reason": reason, "by": by})
	}
	if st, body := dep(acme, "acme/a1", "", ""); st != http.StatusBadRequest || !strings.Contains(string(body), "reason") {
		t.Errorf("deprecate without a reason = %d %s, want 400", st, body)
	}
	if st, body := dep(acme, "bolt/b1", "not mine", ""); st != http.StatusNotFound {
		t.Errorf("acme deprecates bolt/b1 = %d %s, want 404", st, body)
	}
	if st, body := dep(adminToken, "bolt/b1", "no by", ""); st != http.StatusBadRequest {
		t.Errorf("admin deprecates without by = %d %s, want 400", st, body)
	}
	ps.must(http.StatusCreated, "POST", "/api/v1/deprecations", acme, map[string]any{"model": "acme/a1", "reason": "superseded by a2"}, nil)
	ps.must(http.StatusCreated, "POST", "/api/v1/deprecations", adminToken, map[string]any{"model": "bolt/b1", "reason": "endpoint retired", "by": "ops"}, nil)
	ps.must(http.StatusCreated, "POST", "/api/v1/deprecations", adminToken, map[string]any{"model": "base-1", "reason": "old baseline", "by": "ops"}, nil)
	if st, body := dep(acme, "acme/a1", "again", ""); st != http.StatusConflict {
		t.Errorf("deprecate twice = %d %s, want 409", st, body)
	}
	want := map[string]string{"acme/a1": "acme", "bolt/b1": "bolt", "base-1": policy.OperatorLab}
	r := ps.report()
	if len(r.Deprecations) != 3 {
		t.Fatalf("deprecation log = %+v, want 3 entries", r.Deprecations)
	}
	for _, d := range r.Deprecations {
		if want[d.Model] != d.Lab || d.Reason == "" || d.PolicyVersion != 1 || d.At.IsZero() {
			t.Errorf("deprecation %+v, want lab %q, a reason, policy version 1", d, want[d.Model])
		}
	}
	rows, _ := ps.board()
	for model := range want {
		if !rows[model].Deprecated {
			t.Errorf("board row %s = %+v, want deprecated (its history kept)", model, rows[model])
		}
	}
	if rows["bolt/b2"].Deprecated {
		t.Errorf("bolt/b2 labelled deprecated")
	}
	before := sidesByModel(t, ps.store)
	c := ps.dialWS(t)
	for i := range 12 {
		id, _ := c.start(fmt.Sprintf("prompt %d", i))
		c.vote(id, "a", nil)
	}
	after := sidesByModel(t, ps.store)
	for model := range want {
		if after[model] != before[model] {
			t.Errorf("deprecated %s took %d battle sides after its deprecation", model, after[model]-before[model])
		}
	}
	if after["bolt/b2"]+after["base-2"]-before["bolt/b2"]-before["base-2"] != 24 {
		t.Errorf("sides before %v, after %v: want 12 battles of bolt/b2 and base-2", before, after)
	}
}

func sidesByModel(t *testing.T, store *store.Store) map[string]int64 {
	t.Helper()
	sides, err := store.BattleSides(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, s := range sides {
		out[s.Model] = s.Sides
	}
	return out
}

// TestPolicyChangeAndTransparency changes the policy as the admin, and
// checks the transparency API's figures against the store.
func TestPolicyChangeAndTransparency(t *testing.T) {
	ps := newPolicySetup(t)
	acme := ps.account("labs", "acme")
	if st, body := ps.register(acme, "a1", false); st != http.StatusCreated {
		t.Fatalf("register = %d %s", st, body)
	}
	ps.vote("acme/a1", "base-1", 6)
	ps.vote("base-1", "base-2", 2)
	v2 := strings.Replace(testPolicy, "version: 1", "version: 2", 1)
	v2 = strings.Replace(v2, "min_votes: 5", "min_votes: 7", 1)
	put := func(token, text, by, reason string) (int, []byte) {
		return ps.do("PUT", "/api/v1/admin/policy", token, "", map[string]any{"policy": text, "by": by, "reason": reason})
	}
	if st, _ := put(acme, v2, "acme", "we like it"); st != http.StatusForbidden {
		t.Errorf("a lab changes the policy = %d, want 403", st)
	}
	if st, body := put(adminToken, testPolicy, "ops", "same version"); st != http.StatusConflict {
		t.Errorf("change keeping version 1 = %d %s, want 409", st, body)
	}
	if st, body := put(adminToken, v2, "", ""); st != http.StatusBadRequest {
		t.Errorf("change without who and why = %d %s, want 400", st, body)
	}
	if st, body := put(adminToken, "version: 3\n", "ops", "broken"); st != http.StatusBadRequest {
		t.Errorf("change to a bad file = %d %s, want 400", st, body)
	}
	size0, _ := ps.store.LogSize(context.Background())
	var got struct{ Change policy.Change }
	ps.must(http.StatusOK, "PUT", "/api/v1/admin/policy", adminToken, map[string]any{"policy": v2, "by": "ops", "reason": "more votes before ratings are final"}, &got)
	if size, _ := ps.store.LogSize(context.Background()); got.Change.Version != 2 || got.Change.Leaf != size0 || size != size0+1 {
		t.Errorf("change = %+v, log %d → %d leaves, want version 2 in leaf %d", got.Change, size0, size, size0)
	}
	rows, lb := ps.board()
	if r := rows["acme/a1"]; !r.Provisional || lb.Policy.Version != 2 || lb.Policy.MinVotes != 7 {
		t.Errorf("acme/a1 with 6 votes under min_votes 7 = %+v, policy %+v", r, lb.Policy)
	}

	var rep policy.Report
	ps.must(http.StatusOK, "GET", "/api/v1/transparency", "", nil, &rep)
	if rep.InForce.Version != 2 || len(rep.History) != 2 || rep.History[0].By != "operator" || rep.History[1].Reason != "more votes before ratings are final" {
		t.Errorf("history = %+v, in force %+v", rep.History, rep.InForce)
	}
	if rep.Votes != (policy.VoteCounts{Total: 8, Counted: 8}) {
		t.Errorf("votes = %+v, want 8 counted", rep.Votes)
	}
	// The store's battles, counted here from its records.
	sides := map[string]int64{}
	var total int64
	err := ps.store.Records(context.Background(), func(r *rlhf.Record) error {
		for _, m := range []string{r.Battle.ModelA, r.Battle.ModelB} {
			lab := policy.OperatorLab
			if strings.HasPrefix(m, "acme/") {
				lab = "acme"
			}
			sides[lab]++
			total++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sides != total || len(rep.Shares) != 2 {
		t.Fatalf("shares = %+v of %d sides, want 2 labs of %d", rep.Shares, rep.Sides, total)
	}
	for _, s := range rep.Shares {
		if s.Sides != sides[s.Lab] || s.Share != float64(sides[s.Lab])/float64(total) || s.Target != 0.5 {
			t.Errorf("share %+v, want %d sides of %d, target 0.5", s, sides[s.Lab], total)
		}
		if s.OffTarget != (s.Share < 0.45 || s.Share > 0.55) {
			t.Errorf("share %+v: off_target wrong for tolerance 0.05", s)
		}
	}
	if rep.Releases == nil || rep.Unlisted == nil || rep.Deprecations == nil {
		t.Errorf("report has null lists: %+v", rep)
	}
	st, body := ps.do("GET", "/transparency", "", "", nil)
	if st != http.StatusOK || !strings.Contains(string(body), `<script src="/static/transparency.js?v=`) {
		t.Errorf("GET /transparency = %d %s", st, body)
	}
	if st, _ := ps.do("GET", "/static/transparency.js", "", "", nil); st != http.StatusOK {
		t.Errorf("GET /static/transparency.js = %d", st)
	}
}

// TestFirstPolicyLogged checks that a store's first policy, put in force
// from the file at start, has its leaf in the verifiable log like every
// later change, and that starting again with the same file adds none.
func TestFirstPolicyLogged(t *testing.T) {
	ps := newPolicySetup(t)
	ctx := context.Background()
	history, err := ps.gov.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].Leaf < 0 {
		t.Fatalf("history after the first start = %+v, want one policy with a leaf", history)
	}
	first := history[0]
	ps.store.UseLedger(ledger.NewEncoder([]byte("pseudonym key of the policy test")))
	recs, err := ps.store.LeafRecords(ctx, first.Leaf, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.PolicyRecord(fmt.Sprintf("leaderboard-policy/v%d", first.Version), first.SHA256, first.At)
	if len(recs) != 1 || string(recs[0]) != string(want) {
		t.Errorf("leaf %d = %q, want %q", first.Leaf, recs, want)
	}
	size, _ := ps.store.LogSize(ctx)
	if err := ps.gov.Start(ctx, []byte(testPolicy), "test again"); err != nil {
		t.Fatal(err)
	}
	if again, _ := ps.store.LogSize(ctx); again != size {
		t.Errorf("a restart with the same policy file: log %d → %d leaves, want no new leaf", size, again)
	}
}
