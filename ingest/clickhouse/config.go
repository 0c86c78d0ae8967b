package clickhouse

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config says where ClickHouse is and how Agora ships to it. The zero Config
// (no addresses) means ClickHouse is not used and Agora runs on its embedded
// store alone.
type Config struct {
	// Addrs are host:port addresses of the native protocol (port 9000 by
	// default). With several, they must be replicas of one shard: each Agora
	// server writes to exactly one shard.
	Addrs    []string `yaml:"addrs"`
	Database string   `yaml:"database"`
	User     string   `yaml:"user"`
	// PasswordEnv names the environment variable that holds the password;
	// the password itself never appears in configuration files.
	PasswordEnv string `yaml:"password_env"`
	// Password is filled from PasswordEnv by ConfigFromEnv.
	Password string `yaml:"-"`

	// Cluster, when set, is the name of a cluster in the servers'
	// remote_servers: Agora then writes to <table>_local tables on its own
	// shard and reads through Distributed tables named <table>.
	Cluster string `yaml:"cluster"`
	// Replicated makes the local tables Replicated*MergeTree (ZooKeeper or
	// ClickHouse Keeper paths /clickhouse/tables/{shard}/<database>/<table>
	// with the {shard} and {replica} macros) and runs DDL ON CLUSTER.
	// Without it, each shard is a single server and every Agora server
	// creates the tables on the shard it writes to.
	Replicated bool `yaml:"replicated"`

	BatchSize     int           `yaml:"batch_size"`     // votes per insert, at most
	FlushInterval time.Duration `yaml:"flush_interval"` // how long a partial batch may wait
	// BacklogCap is how many committed but unshipped votes Agora keeps
	// before it refuses new votes.
	BacklogCap  int64         `yaml:"backlog_cap"`
	DialTimeout time.Duration `yaml:"dial_timeout"`
	ReadTimeout time.Duration `yaml:"read_timeout"` // per query, including inserts
	// Contributors says what goes into the contributor_id columns:
	// "pseudonym" (the default), the keyed hash exports use
	// (ContributorKey), or "raw", the ids themselves, for an operator who
	// opts out.
	Contributors string `yaml:"contributors"`
	// ContributorKey keys the pseudonyms; main sets it to the export key,
	// so that ClickHouse and exports name a contributor alike. Without it,
	// ids are written raw.
	ContributorKey []byte `yaml:"-"`

	// Compression of the data Agora sends: "lz4" or "none". Empty (auto)
	// means none when every address is a loopback host, where compressing
	// costs both sides processor time and saves nothing, and lz4
	// otherwise.
	Compression string `yaml:"compression"`
}

// Values of Config.Contributors.
const (
	ContributorsPseudonym = "pseudonym"
	ContributorsRaw       = "raw"
)

// Pseudonymous reports whether contributor ids are to be written as
// pseudonyms (the configuration does not opt out).
func (c Config) Pseudonymous() bool { return c.Contributors != ContributorsRaw }

// Compression methods of Config.Compression.
const (
	CompressionLZ4  = "lz4"
	CompressionNone = "none"
)

// compression returns the method to use: Compression, or the automatic
// choice when it is empty.
func (c Config) compression() string {
	if c.Compression != "" {
		return c.Compression
	}
	for _, a := range c.Addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return CompressionLZ4
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return CompressionLZ4
		}
	}
	return CompressionNone
}

// Defaults used by WithDefaults for fields left zero.
const (
	DefaultDatabase      = "agora"
	DefaultUser          = "default"
	DefaultBatchSize     = 20000
	DefaultFlushInterval = time.Second
	DefaultBacklogCap    = 1_000_000
	DefaultDialTimeout   = 5 * time.Second
	DefaultReadTimeout   = 60 * time.Second
	maxBatchSize         = 1_000_000
)

// Enabled reports whether ClickHouse is configured.
func (c Config) Enabled() bool { return len(c.Addrs) > 0 }

// WithDefaults returns c with every zero field but Addrs, Cluster and the
// password set to its default.
func (c Config) WithDefaults() Config {
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.BacklogCap == 0 {
		c.BacklogCap = DefaultBacklogCap
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	return c
}

// identRE is what Agora accepts as a database or cluster name: it is
// interpolated into DDL, so nothing that needs quoting.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Validate checks an enabled configuration after WithDefaults.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	for _, a := range c.Addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("clickhouse: address %q: want host:port: %w", a, err)
		}
		if host == "" {
			return fmt.Errorf("clickhouse: address %q: missing host", a)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("clickhouse: address %q: bad port %q", a, port)
		}
	}
	switch {
	case !identRE.MatchString(c.Database):
		return fmt.Errorf("clickhouse: database %q: want letters, digits and _ (not starting with a digit)", c.Database)
	case c.Cluster != "" && !identRE.MatchString(c.Cluster):
		return fmt.Errorf("clickhouse: cluster %q: want letters, digits and _ (not starting with a digit)", c.Cluster)
	case c.Replicated && c.Cluster == "":
		return fmt.Errorf("clickhouse: replicated tables need a cluster name")
	case c.User == "":
		return fmt.Errorf("clickhouse: missing user")
	case c.BatchSize < 1 || c.BatchSize > maxBatchSize:
		return fmt.Errorf("clickhouse: batch_size %d: want 1 to %d", c.BatchSize, maxBatchSize)
	case c.FlushInterval <= 0:
		return fmt.Errorf("clickhouse: flush_interval %v: want more than 0", c.FlushInterval)
	case c.BacklogCap < int64(c.BatchSize):
		return fmt.Errorf("clickhouse: backlog_cap %d: want at least batch_size (%d)", c.BacklogCap, c.BatchSize)
	case c.DialTimeout <= 0 || c.ReadTimeout <= 0:
		return fmt.Errorf("clickhouse: dial_timeout and read_timeout must be more than 0")
	case c.Contributors != "" && c.Contributors != ContributorsPseudonym && c.Contributors != ContributorsRaw:
		return fmt.Errorf("clickhouse: contributors %q: want %q (the default) or %q", c.Contributors, ContributorsPseudonym, ContributorsRaw)
	case c.Compression != "" && c.Compression != CompressionLZ4 && c.Compression != CompressionNone:
		return fmt.Errorf("clickhouse: compression %q: want %q, %q or empty (automatic)", c.Compression, CompressionLZ4, CompressionNone)
	}
	return nil
}

// Environment variables read by ConfigFromEnv.
const (
	EnvAddr     = "AGORA_CLICKHOUSE_ADDR"     // comma-separated host:port list
	EnvDatabase = "AGORA_CLICKHOUSE_DATABASE" // database name
)

// ConfigFromEnv returns base with the environment's overrides applied:
// AGORA_CLICKHOUSE_ADDR replaces Addrs, AGORA_CLICKHOUSE_DATABASE replaces
// Database, and Password is read from the variable named by PasswordEnv.
func ConfigFromEnv(base Config, getenv func(string) string) Config {
	c := base
	if v := strings.TrimSpace(getenv(EnvAddr)); v != "" {
		c.Addrs = nil
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.Addrs = append(c.Addrs, a)
			}
		}
	}
	if v := strings.TrimSpace(getenv(EnvDatabase)); v != "" {
		c.Database = v
	}
	if c.PasswordEnv != "" {
		c.Password = getenv(c.PasswordEnv)
	}
	return c
}
