package ledger

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// The files of a release, in its directory.
const (
	ReleaseFile  = "release.txt"  // the release leaf's record
	ManifestFile = "manifest.txt" // "<leaf index> <leaf hash>" per vote: the release tree's records
	ExcludedFile = "excluded.txt" // "<leaf index> <reason> <leaf that says why>" per vote left out
	SharesFile   = "shares.tsv"   // the share table
	CardFile     = "README.md"    // the data card
)

// StoredRelease is a release as the store keeps it, with the two leaves
// that put it in the log.
type StoredRelease struct {
	Root     Hash
	Leaf     int64 // the release leaf's index (set by the store)
	LogSize  int64 // the state of the log it was built from
	Record   []byte
	Shares   []byte // the shares leaf's record
	Manifest []byte
	Table    []byte         // the share table
	Licences []LicenceCount // the data's votes by licence, as its card counts them
}

// LicenceCount is how many of a release's votes are under one licence.
type LicenceCount struct {
	Licence string `json:"licence"` // an SPDX id; NOASSERTION when the votes name none
	Votes   int64  `json:"votes"`
}

// licenceCounts sums the export's rows by licence (over scopes), in the
// order of the licences' ids.
func licenceCounts(st formats.Stats) []LicenceCount {
	sum := map[string]int64{}
	for k, n := range st.Consent {
		sum[cmp.Or(k.Licence, NoLicence)] += int64(n)
	}
	out := make([]LicenceCount, 0, len(sum))
	for l, n := range sum {
		out = append(out, LicenceCount{Licence: l, Votes: n})
	}
	slices.SortFunc(out, func(a, b LicenceCount) int { return strings.Compare(a.Licence, b.Licence) })
	return out
}

// NoLicence stands for the licence of votes that name none (SPDX's word
// for information not given).
const NoLicence = "NOASSERTION"

// ReleaseStore reads the log and keeps releases: ingest/store's Store.
type ReleaseStore interface {
	LeafReader
	// PutRelease appends the release and shares leaves and keeps r in one
	// transaction, and returns the release leaf's index. A release with
	// the same root and record is kept once: its leaf is returned again.
	PutRelease(ctx context.Context, r *StoredRelease) (int64, error)
}

// ReleaseConfig says what release to build.
type ReleaseConfig struct {
	Store   ReleaseStore
	Records rlhf.RecordSource // every stored vote, as exports read them
	// Size is the state of the log the release is made of: its first Size
	// leaves. It is the release's only notion of time: the same Size
	// gives the same release.
	Size    int64
	Origin  string // the log's origin
	Key     []byte // the log's pseudonym key: the data's judges are the log's pseudonyms
	Format  formats.Format
	Options formats.Options // the export's language detector and such; contributors and keys are set here
	Licence string
	Cap     *big.Rat // nil means DefaultShareCap
	// GoldStrength is ρ, how much gold answers weigh in shares; nil means
	// GoldStrength.
	GoldStrength *big.Rat
	Dir          string
	// DryRun builds the files but appends nothing (to check a release).
	DryRun bool
}

// Release is a built release.
type Release struct {
	Root     Hash
	Leaf     int64 // the release leaf, -1 on a dry run
	LogSize  int64
	LogRoot  Hash
	Votes    int
	Excluded []Exclusion
	Shares   []ShareRow
	// Population is the tally of every contributor in the release, and
	// Quality the values of votes it gives (Shares).
	Population Tally
	Quality    Quality
	Files      []string       // in the directory, in the order of the record
	Licences   []LicenceCount // the data's votes by licence
}

// BuildRelease builds the release cfg describes into cfg.Dir and appends
// it to the log. Every file is a function of the log's first cfg.Size
// leaves and the store's votes: building it again gives the same bytes.
func BuildRelease(ctx context.Context, cfg ReleaseConfig) (*Release, error) {
	if cfg.Store == nil || cfg.Records == nil || cfg.Dir == "" || len(cfg.Key) == 0 {
		return nil, errors.New("release: need a store, its records, a key and a directory")
	}
	if cfg.Cap == nil {
		cfg.Cap, _ = ParseShareCap(DefaultShareCap)
	}
	if cfg.GoldStrength == nil {
		cfg.GoldStrength, _ = new(big.Rat).SetString(GoldStrength)
	}
	// Every vote is a contribution: duplicates are kept, and the judges
	// are the log's pseudonyms.
	o := &cfg.Options
	o.Contributors, o.Key, o.KeepDuplicates = formats.ContributorsPseudonym, cfg.Key, true
	st, err := scanLog(ctx, cfg.Store, cfg.Size)
	if err != nil {
		return nil, fmt.Errorf("release of the log's first %d leaves: %w", cfg.Size, err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("release directory: %w", err)
	}
	data := "data" + cfg.Format.Ext()
	written, stats, err := exportRelease(ctx, &cfg, st, filepath.Join(cfg.Dir, data))
	if err != nil {
		return nil, err
	}
	rel := &Release{Leaf: -1, LogSize: st.size, LogRoot: st.root, Excluded: st.excluded, Votes: len(written), Licences: licenceCounts(stats)}
	manifest := Manifest(written)
	if rel.Root, err = ManifestRoot(manifest); err != nil {
		return nil, err
	}
	table, err := releaseShares(&cfg, rel, st, written)
	if err != nil {
		return nil, err
	}
	card, err := releaseCard(&cfg, rel, stats, data)
	if err != nil {
		return nil, err
	}
	files := []namedFile{{data, nil, true}, {ManifestFile, manifest, false},
		{ExcludedFile, excludedText(st.excluded), false}, {SharesFile, table, false}, {CardFile, card, false}}
	record, err := writeReleaseFiles(&cfg, rel, files)
	if err != nil {
		return nil, err
	}
	if cfg.DryRun {
		return rel, nil
	}
	sr := &StoredRelease{Root: rel.Root, LogSize: rel.LogSize, Record: record, Shares: sharesRecord(rel.Root, cfg.Cap, len(rel.Shares), table), Manifest: manifest, Table: table, Licences: rel.Licences}
	if rel.Leaf, err = cfg.Store.PutRelease(ctx, sr); err != nil {
		return nil, fmt.Errorf("append the release to the log: %w", err)
	}
	return rel, nil
}

// releaseShares computes the share table of the release: every
// contributor's tally over the votes of st (gold answers of every vote in
// the release's state of the log; ordinary votes that gave a row of the
// data), the population's, the values of votes, and the weights.
func releaseShares(cfg *ReleaseConfig, rel *Release, st *logState, written []logVote) ([]byte, error) {
	data := make(map[int64]bool, len(written))
	for _, v := range written {
		data[v.leaf] = true
	}
	tallies := map[string]*Tally{}
	var pop Tally
	for i := range st.votes {
		v := &st.votes[i]
		t := v.tally(data[v.leaf])
		if t == (Tally{}) {
			continue
		}
		if tallies[v.contributor] == nil {
			tallies[v.contributor] = &Tally{}
		}
		tallies[v.contributor].Add(t)
		pop.Add(t)
	}
	q := NewQuality(pop, cfg.GoldStrength)
	rel.Population, rel.Quality = pop, q
	rows := make([]ShareRow, 0, len(tallies))
	for c, t := range tallies {
		w := new(big.Rat) // no data in the release, no share: gold answers alone earn none
		if t.Votes > 0 {
			w = q.Weight(*t)
		}
		rows = append(rows, ShareRow{Contributor: c, Tally: *t, Weight: w})
	}
	var err error
	if rel.Shares, err = Shares(rows, cfg.Cap); err != nil {
		return nil, err
	}
	return ShareTable(rel.Root, cfg.Cap, cfg.GoldStrength, pop, q, rel.Shares), nil
}

// exportRelease writes the votes of st in the export format to path and
// returns those that gave rows, in leaf order.
func exportRelease(ctx context.Context, cfg *ReleaseConfig, st *logState, path string) ([]logVote, formats.Stats, error) {
	byID := make(map[string]int, len(st.votes))
	for i, v := range st.votes {
		byID[v.id] = i
	}
	gave := make([]bool, len(st.votes))
	opts := cfg.Options
	opts.Written = func(r *rlhf.Record) { gave[byID[r.Vote.ID]] = true }
	src := formats.RecordsFunc(func(ctx context.Context, fn func(r *rlhf.Record) error) error {
		return cfg.Records.Records(ctx, func(r *rlhf.Record) error {
			if _, ok := byID[r.Vote.ID]; !ok {
				return nil
			}
			return fn(r)
		})
	})
	f, err := os.Create(path)
	if err != nil {
		return nil, formats.Stats{}, fmt.Errorf("release: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	stats, err := formats.Export(ctx, w, string(cfg.Format), opts, src)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, stats, fmt.Errorf("release: %w", err)
	}
	var out []logVote
	for i, v := range st.votes {
		if gave[i] {
			out = append(out, v)
		}
	}
	return out, stats, nil
}

// namedFile is a release file and its content, unless it is already
// written.
type namedFile struct {
	name    string
	data    []byte
	written bool
}

// writeReleaseFiles writes the files and the release record, which names
// each file with its SHA-256, and returns the record.
func writeReleaseFiles(cfg *ReleaseConfig, rel *Release, files []namedFile) ([]byte, error) {
	rec := []byte("release 1\n")
	rec = line(rec, "origin", cfg.Origin)
	rec = line(rec, "log", strconv.FormatInt(rel.LogSize, 10), rel.LogRoot.String())
	rec = line(rec, "root", rel.Root.String())
	rec = line(rec, "votes", strconv.Itoa(rel.Votes))
	rec = line(rec, "format", string(cfg.Format))
	for _, f := range files {
		path := filepath.Join(cfg.Dir, f.name)
		data := f.data
		if f.written {
			var err error
			if data, err = os.ReadFile(path); err != nil {
				return nil, fmt.Errorf("release: %w", err)
			}
		} else if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("release: %w", err)
		}
		rec = line(rec, "file", f.name, sha256Hex(data))
		rel.Files = append(rel.Files, f.name)
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, ReleaseFile), rec, 0o644); err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	rel.Files = append(rel.Files, ReleaseFile)
	return rec, nil
}

// sharesRecord is the record of a share table's leaf:
//
//	shares 1
//	release <release root>
//	cap <cap, as a fraction>
//	contributors <n>
//	table <SHA-256 of the share table, hex>
func sharesRecord(root Hash, cap *big.Rat, n int, table []byte) []byte {
	rec := []byte("shares 1\n")
	rec = line(rec, "release", root.String())
	rec = line(rec, "cap", cap.RatString())
	rec = line(rec, "contributors", strconv.Itoa(n))
	return line(rec, "table", sha256Hex(table))
}

func excludedText(ex []Exclusion) []byte {
	var b []byte
	for _, e := range ex {
		b = fmt.Appendf(b, "%d %s %d\n", e.Leaf, e.Reason, e.By)
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
