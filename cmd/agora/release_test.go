package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/ingest/ledger"
)

// TestReleaseCommand builds a release of a stopped server's store twice:
// the same bytes; agora verify proves a vote in it offline, refuses a
// changed file, and, with the server running again, finds the release
// among the log's leaves.
func TestReleaseCommand(t *testing.T) {
	data, cfg := t.TempDir(), ledgerConfig(t, "")
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	voteN(t, p.url, 4, 18, "release")
	me := newContributor(t, p.url)
	frames := me.vote(t, 2)
	pts := me.points(t, http.StatusOK)
	if pts.Votes != 2 || pts.Total != 2*ledger.PointsPerVote || len(pts.Receipts) != 2 || len(pts.Shares) != 0 {
		t.Errorf("points after two votes: %+v", pts)
	}
	for i, f := range frames {
		r := f["receipt"].(map[string]any)
		got := pts.Receipts[len(frames)-1-i]
		if f["points"] != float64(ledger.PointsPerVote) || got.Leaf != int64(r["leaf_index"].(float64)) || got.LeafHash.String() != r["leaf_hash"] {
			t.Errorf("voted frame %d: points %v, receipt %v; the points API says %+v", i, f["points"], r, got)
		}
	}
	(&contributor{base: p.url, token: "v2.someone.1.forged"}).points(t, http.StatusUnauthorized)
	(&contributor{base: p.url}).points(t, http.StatusUnauthorized)
	key := strings.TrimSpace(string(httpGet(t, p.url+"/log/key")))
	// 20 votes and the first policy's leaf.
	waitCheckpoint(t, p.url, key, 21)
	p.stop(t)

	one, two := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")
	out, _, err := runAgora(t, "release", "--data", data, "--config", cfg, "--output", one)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`log state: (\d+) leaves`).FindStringSubmatch(out)
	leaf := regexp.MustCompile(`release leaf: (\d+)`).FindStringSubmatch(out)
	if m == nil || m[1] != "21" || leaf == nil || leaf[1] != "21" {
		t.Fatalf("release output, want a state of 21 leaves and release leaf 21:\n%s", out)
	}
	if out, _, err := runAgora(t, "release", "--data", data, "--config", cfg, "--output", two, "--log-size", m[1]); err != nil || !strings.Contains(out, "release leaf: 21") {
		t.Fatalf("release again: %v\n%s", err, out)
	}
	files, _ := os.ReadDir(one)
	if len(files) != 6 {
		t.Errorf("release has %d files, want 6", len(files))
	}
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(one, f.Name()))
		b, _ := os.ReadFile(filepath.Join(two, f.Name()))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of one release", f.Name())
		}
	}
	if out, _, err := runAgora(t, "verify", "--release", one, "--leaf", "3"); err != nil || strings.Count(out, "ok ") != 3 {
		t.Errorf("verify --release: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(two, "data.jsonl"), []byte("{}\n"), 0o644)
	if out, _, err := runAgora(t, "verify", "--release", two); err == nil || !strings.Contains(out, "FAIL release file data.jsonl") {
		t.Errorf("verify of a changed release: %v\n%s", err, out)
	}
	if out, _, err := runAgora(t, "verify", "--release", one, "--leaf", "99"); err == nil || !strings.Contains(out, "FAIL leaf 99") {
		t.Errorf("verify of a leaf not in the release: %v\n%s", err, out)
	}

	p = startSubprocessEnv(t, []string{"AGORA_ADMIN_TOKEN=release-admin-token-1234"}, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	defer p.stop(t)
	waitCheckpoint(t, p.url, key, 23)
	out, _, err = runAgora(t, "verify", "--server", p.url, "--key", key, "--release", one, "--leaf", "3", "--release-leaf", leaf[1])
	if err != nil || !strings.Contains(out, "release record is leaf 21") {
		t.Errorf("verify --server --release: %v\n%s", err, out)
	}
	t.Logf("agora verify --release:\n%s", out)
	me.base = p.url // the same token, on the server started again
	checkReleaseAPI(t, p.url, me, frames[0]["vote_id"].(string))
	checkBuildAPI(t, p.url, data, one)
}

// checkReleaseAPI reads the release through the API: the list, a vote's
// proof checked against the root of the log's release leaf, and the
// contributor's share in their points.
func checkReleaseAPI(t *testing.T, base string, me *contributor, vote string) {
	t.Helper()
	var list struct {
		Releases []ledger.ReleaseSummary `json:"releases"`
	}
	if err := json.Unmarshal(httpGet(t, base+"/api/v1/releases"), &list); err != nil || len(list.Releases) != 1 {
		t.Fatalf("GET /api/v1/releases: %v, %+v", err, list)
	}
	rel := list.Releases[0]
	root, err := ledger.ReleaseRoot([]byte(rel.Record))
	if err != nil || root != rel.Root {
		t.Fatalf("release record's root %v, %v; want %v", root, err, rel.Root)
	}
	var proof ledger.ReleaseProof
	if err := json.Unmarshal(httpGet(t, base+"/api/v1/releases/proof?root="+url.QueryEscape(root.String())+"&vote="+vote), &proof); err != nil {
		t.Fatal(err)
	}
	if err := ledger.CheckReleaseProof(&proof, root); err != nil {
		t.Errorf("proof of vote %s in the release: %v", vote, err)
	}
	pts := me.points(t, http.StatusOK)
	if len(pts.Shares) != 1 || pts.Shares[0].Votes != 2 || pts.Shares[0].Release != root || pts.Shares[0].Share == "0.000000000" {
		t.Errorf("shares in the points after a release: %+v", pts.Shares)
	}
}

// contributor is one contributor of a live server, with their token.
type contributor struct {
	base, token string
	conn        *websocket.Conn
}

func newContributor(t *testing.T, base string) *contributor {
	t.Helper()
	conn, hello := dialWSHello(t, base)
	if hello["token"] == nil {
		t.Fatalf("hello without a token: %v", hello)
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	return &contributor{base: base, token: hello["token"].(string), conn: conn}
}

// vote runs n battles to their votes and returns the voted frames.
func (c *contributor) vote(t *testing.T, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i := range n {
		f, err := battleOnce(c.conn, fmt.Sprintf("points prompt %d", i), "a")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// points reads GET /api/v1/me/points with the contributor's token and
// wants status.
func (c *contributor) points(t *testing.T, status int) *ledger.Points {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/api/v1/me/points", nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET /api/v1/me/points: %d %s, want %d", resp.StatusCode, body, status)
	}
	var p ledger.Points
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
	}
	return &p
}

// checkBuildAPI builds the same release through the API: the same root
// and leaf (nothing appended again) and the same bytes as agora release.
func checkBuildAPI(t *testing.T, base, data, cli string) {
	t.Helper()
	post := func(token, body string) (int, []byte) {
		code, out := call(t, "POST", base+"/api/v1/admin/releases", token, body)
		return code, []byte(out)
	}
	if code, body := post("not-the-admin", `{"log_size": 21}`); code != http.StatusUnauthorized {
		t.Errorf("POST /api/v1/admin/releases without the admin token: %d %s", code, body)
	}
	if code, body := post("release-admin-token-1234", `{"log_size": 9999}`); code != http.StatusBadRequest {
		t.Errorf("POST /api/v1/admin/releases of a state the log has not reached: %d %s", code, body)
	}
	code, body := post("release-admin-token-1234", `{"log_size": 21}`)
	var got httpapi.ReleaseBuilt
	if code != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Leaf != 21 || got.Votes != 20 {
		t.Fatalf("POST /api/v1/admin/releases: %d %s; want release leaf 21 with 20 votes", code, body)
	}
	for _, name := range got.Files {
		a, _ := os.ReadFile(filepath.Join(cli, name))
		b, _ := os.ReadFile(filepath.Join(data, got.Dir, name))
		if len(b) == 0 && name != ledger.ExcludedFile || !bytes.Equal(a, b) {
			t.Errorf("%s built by the server differs from agora release's", name)
		}
	}
	// The same votes from the state after the release's own two leaves:
	// the same root, a release of its own.
	code, body = post("release-admin-token-1234", `{"log_size": 23}`)
	var later httpapi.ReleaseBuilt
	if code != http.StatusOK || json.Unmarshal(body, &later) != nil || later.Leaf != 23 || later.Root != got.Root {
		t.Fatalf("POST /api/v1/admin/releases of state 23: %d %s; want release leaf 23 with root %s", code, body, got.Root)
	}
	checkReleaseLicences(t, base, 20)
}

// checkReleaseLicences checks that the release list and the transparency
// report give each release's votes by licence: all n under the
// configuration's licence (the test votes name none of their own).
func checkReleaseLicences(t *testing.T, base string, n int64) {
	t.Helper()
	var list struct {
		Releases []ledger.ReleaseSummary `json:"releases"`
	}
	var report struct {
		Releases []struct {
			Licence  string                `json:"licence"`
			Licences []ledger.LicenceCount `json:"licences"`
		} `json:"releases"`
	}
	if err := json.Unmarshal(httpGet(t, base+"/api/v1/releases"), &list); err != nil || len(list.Releases) != 2 {
		t.Fatalf("GET /api/v1/releases after a second state: %v, %d releases; want 2", err, len(list.Releases))
	}
	if err := json.Unmarshal(httpGet(t, base+"/api/v1/transparency"), &report); err != nil || len(report.Releases) != 2 {
		t.Fatalf("GET /api/v1/transparency: %v, %d releases; want 2", err, len(report.Releases))
	}
	for i, r := range list.Releases {
		l, tr := r.Licences, report.Releases[i]
		if len(l) != 1 || l[0].Votes != n || fmt.Sprint(tr.Licences) != fmt.Sprint(l) || tr.Licence != l[0].Licence {
			t.Errorf("release %d by licence: %+v; in the transparency report %+v; want one licence with %d votes", i, l, tr, n)
		}
	}
}
