package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
	"github.com/agora-rlhf/agora/rlhf/formats/langdetect"
)

const releaseUsage = `release --output DIR [--log-size N] [--format FORMAT] [flags]

Builds a dataset release from the store's verifiable log (docs/ledger.md)
into DIR, and appends it to the log:

  data.jsonl     the votes, in an export format (default arena-jsonl)
  README.md      the data card, with the share formula
  manifest.txt   every vote in the data: its leaf in the log and its hash;
                 the release root is the Merkle root of these lines
  excluded.txt   every vote of the log left out, and the leaf that says why
                 (a quarantine decision, an erasure tombstone)
  shares.tsv     each contributor's share of the release
  release.txt    the release leaf's record: the log's state, the root and
                 each file's SHA-256

Only votes whose contributor allowed the use named by --scope are released
(default research; docs/consent.md): a vote narrowed before the release, or
erased, is not in it.

--log-size N is the release's time: it is built from the log's first N
leaves (default: the latest checkpoint's size, printed so that the release
can be built again). Two runs with the same N give the same bytes; the
release and shares leaves are appended once.

Run it with the server stopped, or use POST /api/v1/admin/releases.`

type releaseFlags struct {
	data, config, output, format, licence, cap string
	scope                                      string
	logSize                                    int64
	dryRun                                     bool
}

func runRelease(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("release", releaseUsage, e)
	var f releaseFlags
	fs.StringVar(&f.output, "output", "", "directory of the release (required)")
	fs.Int64Var(&f.logSize, "log-size", 0, "build from the log's first N leaves (default: the latest checkpoint's)")
	fs.StringVar(&f.format, "format", string(formats.ArenaJSONL), "export format of the data (see agora export)")
	fs.StringVar(&f.licence, "licence", "", "licence for the data card (default: the configuration's export.licence)")
	fs.StringVar(&f.cap, "share-cap", ledger.DefaultShareCap, "the largest share of one contributor (a fraction, 1/10, or a decimal)")
	fs.StringVar(&f.scope, "scope", "research", `only votes whose contributor allowed this use: leaderboard, research or training (docs/consent.md)`)
	fs.BoolVar(&f.dryRun, "dry-run", false, "build the files but append nothing to the log (to check a release)")
	fs.StringVar(&f.data, "data", e.getenv("AGORA_DATA"), "data directory of the store (default from the configuration: ./agora-data)")
	fs.StringVar(&f.config, "config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("release takes no arguments; got %q", fs.Args())}
	}
	if f.output == "" {
		return usageError{"release needs --output DIR"}
	}
	format, err := formats.ParseFormat(f.format)
	if err != nil {
		return usageError{err.Error()}
	}
	capRat, err := ledger.ParseShareCap(f.cap)
	if err != nil {
		return usageError{"--share-cap: " + err.Error()}
	}
	scope, err := scopeFlag(f.scope)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	cfg.Server.Data = or(f.data, or(cfg.Server.Data, "./agora-data"))
	rc := releaseConfig(format, capRat, scope, or(f.licence, exportLicence(cfg)))
	rc.Dir, rc.Size, rc.DryRun = f.output, f.logSize, f.dryRun
	rel, err := buildRelease(ctx, cfg, rc)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "release %s\nlog state: %d leaves, root %s\nvotes: %d (left out: %d)\ncontributors with a share: %d\n",
		rel.Root, rel.LogSize, rel.LogRoot, rel.Votes, len(rel.Excluded), len(rel.Shares))
	fmt.Fprintf(e.stdout, "gold answers: %d (%d right); in shares a right one is worth %s votes, a wrong one %s\n",
		rel.Population.Gold, rel.Population.Correct, rel.Quality.Right.FloatString(3), rel.Quality.Wrong.FloatString(3))
	if rel.Leaf >= 0 {
		fmt.Fprintf(e.stdout, "release leaf: %d (shares leaf: %d)\n", rel.Leaf, rel.Leaf+1)
	}
	fmt.Fprintf(e.stdout, "files in %s: %v\nbuild it again with: agora release --output DIR --log-size %s --format %s --share-cap %s\n",
		f.output, rel.Files, strconv.FormatInt(rel.LogSize, 10), format, capRat.RatString())
	return nil
}

// releaseConfig is the release agora release and POST
// /api/v1/admin/releases build from the same choices: the same config,
// and so, for one state of the log, the same bytes.
func releaseConfig(format formats.Format, capRat *big.Rat, scope rlhf.Scope, licence string) ledger.ReleaseConfig {
	return ledger.ReleaseConfig{Format: format, Cap: capRat, Licence: licence,
		Options: formats.Options{Detector: langdetect.New(), Scope: scope, Licence: licence, Spill: tempSpill}}
}

// buildRelease opens the store and its log in cfg.Server.Data and builds
// the release rc describes (its Store, Records, Origin and Key are set
// here; Size 0 means the latest checkpoint's).
func buildRelease(ctx context.Context, cfg *configs.Config, rc ledger.ReleaseConfig) (*ledger.Release, error) {
	dir := cfg.Server.Data
	if _, err := os.Stat(filepath.Join(dir, storeFile)); err != nil {
		return nil, fmt.Errorf("no store in %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, logKeyFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no log key in %s: the store has no verifiable log to release from", dir)
	}
	db, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	key, err := ledger.LoadKey(filepath.Join(dir, logKeyFile), cfg.Log.Origin)
	if err != nil {
		return nil, usageError{"configuration: log.origin: " + err.Error()}
	}
	l, err := ledger.New(ctx, ledger.Config{Store: db, Key: key})
	if err != nil {
		return nil, err
	}
	db.UseLedger(l.Encoder())
	if rc.Size == 0 {
		c := l.Latest()
		if c == nil {
			return nil, errors.New("the log has no checkpoint yet: give --log-size")
		}
		rc.Size = c.Size
	}
	rc.Store, rc.Records, rc.Origin, rc.Key = db, db.ExportSource(store.RecordFilter{}), l.Origin(), key.PseudonymKey()
	return ledger.BuildRelease(ctx, rc)
}

// exportLicence is the configuration's export.licence, or "".
func exportLicence(cfg *configs.Config) string {
	var xc exportConfig
	if cfg.Export.IsZero() || cfg.Export.Decode(&xc) != nil {
		return ""
	}
	return or(xc.Licence, xc.License)
}

// serverReleaser builds releases for POST /api/v1/admin/releases, into
// DATA/releases/SIZE-FORMAT-SCOPE-CAP, through the running server's store,
// one at a time: a request waits for the build before it, or until it is
// cancelled.
type serverReleaser struct {
	store   *store.Store
	log     *ledger.Log
	data    string
	licence string
	turn    chan struct{} // holds a token while a build runs; capacity 1
}

func newServerReleaser(st *store.Store, log *ledger.Log, data, licence string) *serverReleaser {
	return &serverReleaser{store: st, log: log, data: data, licence: licence, turn: make(chan struct{}, 1)}
}

func (r *serverReleaser) Release(ctx context.Context, req httpapi.ReleaseRequest) (*httpapi.ReleaseBuilt, error) {
	format, err := formats.ParseFormat(or(req.Format, string(formats.ArenaJSONL)))
	if err != nil {
		return nil, rlhf.Errorf(rlhf.EInvalid, "%v", err)
	}
	capRat, err := ledger.ParseShareCap(or(req.ShareCap, ledger.DefaultShareCap))
	if err != nil {
		return nil, rlhf.Errorf(rlhf.EInvalid, "%v", err)
	}
	scope, err := rlhf.ParseScope(or(req.Scope, string(rlhf.ScopeResearch)))
	if err != nil {
		return nil, err
	}
	if err := rlhf.ValidLicence(req.Licence); err != nil {
		return nil, err
	}
	size := req.LogSize
	if c := r.log.Latest(); size == 0 && c != nil {
		size = c.Size
	}
	name := fmt.Sprintf("%d-%s-%s-%s", size, format, scope, strings.ReplaceAll(capRat.RatString(), "/", "of"))
	rc := releaseConfig(format, capRat, scope, or(req.Licence, r.licence))
	rc.Store, rc.Records, rc.Size, rc.Origin, rc.Key = r.store, r.store.ExportSource(store.RecordFilter{}), size, r.log.Origin(), r.log.PseudonymKey()
	rc.Dir = filepath.Join(r.data, "releases", name)
	select {
	case r.turn <- struct{}{}:
		defer func() { <-r.turn }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rel, err := ledger.BuildRelease(ctx, rc)
	if err != nil {
		return nil, err
	}
	return &httpapi.ReleaseBuilt{Root: rel.Root, Leaf: rel.Leaf, LogSize: rel.LogSize, LogRoot: rel.LogRoot, Votes: rel.Votes,
		Excluded: len(rel.Excluded), Contributors: len(rel.Shares), Licences: rel.Licences,
		Dir: filepath.Join("releases", name), Files: rel.Files}, nil
}
