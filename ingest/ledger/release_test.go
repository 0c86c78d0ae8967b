package ledger_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// voteAs stores battle i with its vote by contributor.
func (tl *testLog) voteAs(t testing.TB, i int, contributor string) *rlhf.Vote {
	t.Helper()
	b, v := battleAndVote(i)
	b.ContributorID, v.ContributorID = contributor, contributor
	if err := tl.store.SaveVote(context.Background(), b, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (tl *testLog) size(t testing.TB) int64 {
	t.Helper()
	n, err := tl.store.LogSize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (tl *testLog) release(t testing.TB, dir string, size int64, dry bool) (*ledger.Release, error) {
	t.Helper()
	return ledger.BuildRelease(context.Background(), ledger.ReleaseConfig{
		Store: tl.store, Records: tl.store, Size: size, Origin: tl.log.Origin(), Key: tl.key.PseudonymKey(),
		Format: formats.ArenaJSONL, Licence: "CC-BY-4.0", Dir: dir, DryRun: dry,
	})
}

// TestReleaseReproducible builds a release twice from one store: the same
// bytes and root, one release leaf; a vote's proof checks against the root
// in the log; quarantined and erased votes are left out, each explained by
// a leaf of the log.
func TestReleaseReproducible(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	for i := range 30 {
		tl.voteAs(t, i, fmt.Sprintf("c%d", i%3))
	}
	if err := tl.store.Quarantine(ctx, rlhf.Quarantine{Contributor: "c2", Reason: "test", Since: t0}, "admin"); err != nil {
		t.Fatal(err)
	}
	enc := tl.log.Encoder()
	tomb, err := ledger.Append(ctx, tl.store, ledger.KindTombstone, "v0003", enc.Tombstone(ledger.Tombstone{Vote: "v0003", Contributor: "c0", Reason: "erasure request", At: t0}))
	if err != nil {
		t.Fatal(err)
	}
	size := tl.size(t)
	d1, d2 := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")
	r1, err := tl.release(t, d1, size, false)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := tl.release(t, d2, size, false)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Root != r2.Root || r1.Leaf != r2.Leaf || r1.Leaf != size {
		t.Errorf("releases: root %s leaf %d, then root %s leaf %d; want one root at leaf %d", r1.Root, r1.Leaf, r2.Root, r2.Leaf, size)
	}
	if got := tl.size(t); got != size+2 {
		t.Errorf("log size after two builds of one release = %d, want %d (a release leaf and a shares leaf)", got, size+2)
	}
	for _, name := range r1.Files {
		a, _ := os.ReadFile(filepath.Join(d1, name))
		b, _ := os.ReadFile(filepath.Join(d2, name))
		if len(a) == 0 && name != ledger.ExcludedFile || !bytes.Equal(a, b) {
			t.Errorf("%s: %d bytes, then %d bytes, or they differ", name, len(a), len(b))
		}
	}
	// c2's ten votes (quarantined) and v0003 (erased) are left out.
	if r1.Votes != 19 {
		t.Errorf("release holds %d votes, want 19", r1.Votes)
	}
	checkExcluded(t, tl, d1, tomb)
	checkReleaseProofs(t, tl, d1, r1)
	checkReleaseStates(t, tl, r1)
}

// checkReleaseStates releases the votes of r again from the log's state
// after r's own leaves: the same root, but a release of its own (kept by
// root and state of the log); both list their votes by licence.
func checkReleaseStates(t *testing.T, tl *testLog, r *ledger.Release) {
	t.Helper()
	later, err := tl.release(t, t.TempDir(), r.LogSize+2, false)
	if err != nil {
		t.Fatal(err)
	}
	if later.Root != r.Root || later.Leaf != r.LogSize+2 {
		t.Errorf("release of state %d: root %s leaf %d; want root %s at a leaf of its own, %d", r.LogSize+2, later.Root, later.Leaf, r.Root, r.LogSize+2)
	}
	kept, err := tl.store.Releases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.LicenceCount{{Licence: ledger.NoLicence, Votes: int64(r.Votes)}} // votes name no licence
	if len(kept) != 2 || kept[0].LogSize != r.LogSize || kept[1].LogSize != r.LogSize+2 {
		t.Fatalf("releases kept: %d; want the two states %d and %d", len(kept), r.LogSize, r.LogSize+2)
	}
	for _, k := range kept {
		if fmt.Sprint(k.Licences) != fmt.Sprint(want) || fmt.Sprint(r.Licences) != fmt.Sprint(want) {
			t.Errorf("release of state %d by licence: %v (built: %v); want %v", k.LogSize, k.Licences, r.Licences, want)
		}
	}
}

// checkExcluded checks that each vote left out names a leaf that says why.
func checkExcluded(t *testing.T, tl *testLog, dir string, tomb int64) {
	t.Helper()
	ctx := context.Background()
	ex, _ := os.ReadFile(filepath.Join(dir, ledger.ExcludedFile))
	lines := strings.Split(strings.TrimSpace(string(ex)), "\n")
	if len(lines) != 11 {
		t.Fatalf("excluded.txt has %d lines, want 11:\n%s", len(lines), ex)
	}
	pseud := tl.log.Encoder().Pseudonym("c2")
	for _, ln := range lines {
		f := strings.Fields(ln)
		leaf, _ := strconv.ParseInt(f[0], 10, 64)
		by, _ := strconv.ParseInt(f[2], 10, 64)
		recs, err := tl.store.LeafRecords(ctx, by, 1)
		if err != nil {
			t.Fatal(err)
		}
		switch f[1] {
		case "quarantined":
			if !strings.Contains(string(recs[0]), "contributor "+pseud+"\naction quarantine\n") {
				t.Errorf("leaf %d is said quarantined by leaf %d, which is %q", leaf, by, recs[0])
			}
		case "erased":
			if by != tomb || leaf != 3 {
				t.Errorf("leaf %d erased by leaf %d, want leaf 3 by %d", leaf, by, tomb)
			}
		default:
			t.Errorf("excluded line %q", ln)
		}
	}
}

// checkReleaseProofs proves every vote of the manifest in the release,
// against the root read back from the log's release leaf, and checks that
// a vote left out has no proof.
func checkReleaseProofs(t *testing.T, tl *testLog, dir string, r *ledger.Release) {
	t.Helper()
	recs, err := tl.store.LeafRecords(context.Background(), r.Leaf, 2)
	if err != nil {
		t.Fatal(err)
	}
	root, err := ledger.ReleaseRoot(recs[0])
	if err != nil || root != r.Root {
		t.Fatalf("release leaf's root = %s, %v; want %s", root, err, r.Root)
	}
	onDisk, _ := os.ReadFile(filepath.Join(dir, ledger.ReleaseFile))
	if !bytes.Equal(onDisk, recs[0]) {
		t.Errorf("release.txt is not the release leaf's record:\n%s\n%s", onDisk, recs[0])
	}
	table, _ := os.ReadFile(filepath.Join(dir, ledger.SharesFile))
	sum := sha256.Sum256(table)
	if !strings.Contains(string(recs[1]), "table "+hex.EncodeToString(sum[:])+"\n") {
		t.Errorf("shares leaf %q does not name the table's hash", recs[1])
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, ledger.ManifestFile))
	entries, err := ledger.ParseManifest(manifest)
	if err != nil || len(entries) != r.Votes {
		t.Fatalf("manifest: %d entries, %v; want %d", len(entries), err, r.Votes)
	}
	for _, e := range entries {
		p, err := ledger.ProveInRelease(manifest, e.Leaf)
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.CheckReleaseProof(p, root); err != nil {
			t.Errorf("leaf %d: %v", e.Leaf, err)
		}
		p.LeafHash[0] ^= 1
		if err := ledger.CheckReleaseProof(p, root); err == nil {
			t.Errorf("leaf %d with a changed hash: proof checks", e.Leaf)
		}
	}
	if _, err := ledger.ProveInRelease(manifest, 3); err == nil {
		t.Error("the erased vote's leaf 3 has a proof in the release")
	}
}

// TestReleaseRefusesTamperedStore: a vote whose content is gone with no
// tombstone, or whose record no longer hashes to its leaf, stops a
// release, naming the leaf. (cmd/agora's tamper tests edit the file.)
func TestReleaseRefusesTamperedStore(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	for i := range 5 {
		tl.voteAs(t, i, "c0")
	}
	for _, tc := range []struct {
		name   string
		record []byte
	}{
		{"deleted", ledger.Missing(ledger.KindVote, "v0002")},
		{"changed", []byte("vote 1\nid v0002\nwinner b\n")},
	} {
		_, err := ledger.BuildRelease(context.Background(), ledger.ReleaseConfig{
			Store: tamperedLeaf{tl.store, 2, tc.record}, Records: tl.store, Size: 5, Key: tl.key.PseudonymKey(),
			Format: formats.ArenaJSONL, Dir: t.TempDir(), DryRun: true,
		})
		if err == nil || !strings.Contains(err.Error(), "leaf 2") {
			t.Errorf("release of a store with a vote %s: %v; want an error naming leaf 2", tc.name, err)
		}
	}
}

// tamperedLeaf serves record for one leaf of a real store.
type tamperedLeaf struct {
	ledger.ReleaseStore
	leaf   int64
	record []byte
}

func (s tamperedLeaf) LeafRecords(ctx context.Context, from, n int64) ([][]byte, error) {
	recs, err := s.ReleaseStore.LeafRecords(ctx, from, n)
	if err == nil && s.leaf >= from && s.leaf < from+n {
		recs[s.leaf-from] = s.record
	}
	return recs, err
}

// TestSharesSybil releases the same votes twice: once as they were cast,
// once with every vote of contributor c0 spread over ten identities. The
// shares add up to 1 and c0's total moves by at most 1%. Rebuilding the
// table from the log gives the same bytes.
func TestSharesSybil(t *testing.T) {
	counts := map[string]int{"c0": 12, "c1": 30, "c2": 25, "c3": 40, "c4": 33, "c5": 27, "c6": 31, "c7": 22, "c8": 36, "c9": 29, "c10": 35, "c11": 20}
	build := func(split bool) (map[string]int64, *testLog) {
		tl := openLog(t, ledger.Config{})
		i := 0
		for _, c := range sortedNames(counts) {
			for k := range counts[c] {
				who := c
				if split && c == "c0" {
					who = fmt.Sprintf("c0-%d", k%10)
				}
				tl.voteAs(t, i, who)
				i++
			}
		}
		dir := t.TempDir()
		if _, err := tl.release(t, dir, tl.size(t), false); err != nil {
			t.Fatal(err)
		}
		table, _ := os.ReadFile(filepath.Join(dir, ledger.SharesFile))
		again := t.TempDir()
		if _, err := tl.release(t, again, int64(i), true); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(again, ledger.SharesFile)); !bytes.Equal(b, table) {
			t.Errorf("share table rebuilt from the log differs:\n%s\n%s", table, b)
		}
		return parseShares(t, table), tl
	}
	whole, tw := build(false)
	split, ts := build(true)
	sum := func(m map[string]int64, ids ...string) (n int64) {
		for _, id := range ids {
			n += m[id]
		}
		return n
	}
	var ids []string
	for k := range 10 {
		ids = append(ids, ts.log.Encoder().Pseudonym(fmt.Sprintf("c0-%d", k)))
	}
	before, after := whole[tw.log.Encoder().Pseudonym("c0")], sum(split, ids...)
	if before == 0 || abs(after-before)*100 > before {
		t.Errorf("c0's share: %s whole, %s over ten identities: more than 1%% apart", ledger.FormatShare(before), ledger.FormatShare(after))
	}
}

func parseShares(t *testing.T, table []byte) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	var total int64
	for _, ln := range strings.Split(strings.TrimSpace(string(table)), "\n") {
		f := strings.Split(ln, "\t")
		if strings.HasPrefix(ln, "#") || f[0] == "contributor" {
			continue
		}
		share := f[len(f)-1]
		r, ok := new(big.Rat).SetString(share)
		if !ok {
			t.Fatalf("share %q", share)
		}
		units := new(big.Rat).Mul(r, big.NewRat(ledger.ShareUnits, 1))
		out[f[0]] = units.Num().Int64()
		total += out[f[0]]
	}
	if total != ledger.ShareUnits {
		t.Errorf("shares add up to %s, want 1", ledger.FormatShare(total))
	}
	return out
}

func sortedNames(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
