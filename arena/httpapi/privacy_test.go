package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// consents returns the store as the arena's Consents when on.
func consents(on bool, s *store.Store) arena.Consents {
	if !on {
		return nil
	}
	return s
}

// privacyOf returns the store as the server's Privacy when on.
func privacyOf(on bool, s *store.Store) httpapi.Privacy {
	if !on {
		return nil
	}
	return s
}

// call makes an HTTP request with a bearer token and returns the status
// and body.
func call(t *testing.T, s *setup, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.http.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestConsentDownloadErase plays battles as two contributors over real
// websockets, then checks consent on their votes, the download, the
// export by scope and the erasure: gone from the file and its WAL, from
// the live leaderboard and the export, with the other's data intact.
func TestConsentDownloadErase(t *testing.T) {
	ctx := context.Background()
	live, err := analytics.NewLive(ctx, memRecords(nil))
	if err != nil {
		t.Fatal(err)
	}
	var s *setup
	s = newSetup(t, options{privacy: true, ledger: true, leaderboards: live,
		onVote:  func(r *rlhf.Record) { live.Add(*r) },
		onErase: func(ctx context.Context, _ []string) error { return live.Reload(ctx, s.store) }})
	mark, keep := fmt.Sprintf("GONE%08x", rand.Uint32()), fmt.Sprintf("KEPT%08x", rand.Uint32())

	victim, other := s.dial(t, nil), s.dial(t, nil)
	vt, ot := victim.hello["token"].(string), other.hello["token"].(string)
	if code, body := call(t, s, "PUT", "/api/v1/me/consent", vt, map[string]string{"scope": "training", "licence": "CC0-1.0"}); code != 200 {
		t.Fatalf("PUT consent = %d %s", code, body)
	}
	mine := map[string]bool{}
	for i := range 4 {
		id, _ := victim.start(fmt.Sprintf("%s prompt %d", mark, i))
		mine[id] = true
		if i < 3 { // the last battle stays unvoted
			if f := victim.vote(id, "a", map[string]any{"reason": mark + " reason"}); f["type"] != "voted" {
				t.Fatalf("vote: %v", f)
			}
		}
		oid, _ := other.start(fmt.Sprintf("%s prompt %d", keep, i))
		if f := other.vote(oid, "b", map[string]any{"reason": keep + " reason"}); f["type"] != "voted" {
			t.Fatalf("vote: %v", f)
		}
	}

	d := download(t, s, vt)
	checkDownload(t, d, mine, 3, keep)
	for _, v := range d.Votes {
		if v.Scope != rlhf.ScopeTraining || v.Licence != "CC0-1.0" {
			t.Errorf("vote %s recorded %s/%s, want the chosen training/CC0-1.0", v.ID, v.Scope, v.Licence)
		}
	}
	for _, v := range download(t, s, ot).Votes {
		if v.Scope != testConsent.Scope || v.Licence != testConsent.Licence {
			t.Errorf("vote %s recorded %s/%s, want the operator's default %v", v.ID, v.Scope, v.Licence, testConsent)
		}
	}
	if code, body := call(t, s, "GET", "/api/v1/export?format=arena-jsonl&scope=training", researcherToken, nil); code != 200 ||
		strings.Contains(string(body), keep) || strings.Count(string(body), "\n") != 3 {
		t.Fatalf("export scope=training = %d, %d rows, has research-only votes = %v; want the victim's 3", code, strings.Count(string(body), "\n"), strings.Contains(string(body), keep))
	}
	if code, _ := call(t, s, "GET", "/api/v1/me/data", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("download without a token = %d, want 401", code)
	}

	code, body := call(t, s, "DELETE", "/api/v1/me/data", vt, nil)
	var ans struct {
		Erasure      rlhf.Erasure `json:"erasure"`
		Unrecallable string       `json:"unrecallable"`
	}
	json.Unmarshal(body, &ans)
	if code != 200 || ans.Erasure.Battles != 4 || ans.Erasure.Votes != 3 || ans.Unrecallable == "" {
		t.Fatalf("DELETE /api/v1/me/data = %d %s; want 4 battles and 3 votes erased", code, body)
	}
	if n := live.Len(); n != 4 {
		t.Errorf("live leaderboard holds %d battles after the erasure, want the other's 4", n)
	}
	checkGone(t, s, mark, keep)
	if d := download(t, s, vt); len(d.Battles)+len(d.Votes) != 0 {
		t.Errorf("download after erasure has %d battles and %d votes", len(d.Battles), len(d.Votes))
	}
	if d := download(t, s, ot); len(d.Battles) != 4 || len(d.Votes) != 4 {
		t.Errorf("the other's download after erasure has %d battles and %d votes, want 4 and 4", len(d.Battles), len(d.Votes))
	}
}

func download(t *testing.T, s *setup, token string) rlhf.ContributorData {
	t.Helper()
	code, body := call(t, s, "GET", "/api/v1/me/data", token, nil)
	var d rlhf.ContributorData
	if err := json.Unmarshal(body, &d); code != 200 || err != nil {
		t.Fatalf("GET /api/v1/me/data = %d %s (%v)", code, body, err)
	}
	return d
}

// checkDownload checks that d holds exactly the battles in mine and votes
// votes, and nothing with someone else's text.
func checkDownload(t *testing.T, d rlhf.ContributorData, mine map[string]bool, votes int, foreign string) {
	t.Helper()
	got := map[string]bool{}
	for _, b := range d.Battles {
		got[b.ID] = true
		if !mine[b.ID] || len(b.Turns) == 0 {
			t.Errorf("download has battle %s (%d turns), not one of theirs", b.ID, len(b.Turns))
		}
	}
	if len(got) != len(mine) || len(d.Votes) != votes {
		t.Errorf("download has %d battles and %d votes, want %d and %d", len(got), len(d.Votes), len(mine), votes)
	}
	if b, _ := json.Marshal(d); bytes.Contains(b, []byte(foreign)) {
		t.Error("download holds another contributor's text")
	}
}

// checkGone scans the store's file and WAL and an export made now.
func checkGone(t *testing.T, s *setup, mark, keep string) {
	t.Helper()
	var disk []byte
	for _, p := range []string{s.store.Path(), s.store.Path() + "-wal"} {
		b, _ := os.ReadFile(p)
		disk = append(disk, b...)
	}
	if bytes.Contains(disk, []byte(mark)) || !bytes.Contains(disk, []byte(keep)) {
		t.Errorf("store file and WAL: erased text present = %v, other's text present = %v; want false, true",
			bytes.Contains(disk, []byte(mark)), bytes.Contains(disk, []byte(keep)))
	}
	_, body := call(t, s, "GET", "/api/v1/export?format=arena-jsonl&scope=all", researcherToken, nil)
	if strings.Contains(string(body), mark) || strings.Count(string(body), keep) == 0 {
		t.Errorf("export after erasure holds erased text = %v", strings.Contains(string(body), mark))
	}
}

// memRecords is a RecordSource over a slice.
type memRecords []rlhf.Record

func (m memRecords) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	for i := range m {
		if err := fn(&m[i]); err != nil {
			return err
		}
	}
	return nil
}
