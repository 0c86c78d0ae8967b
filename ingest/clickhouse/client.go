// Package clickhouse is Agora's ClickHouse layer: configuration, the schema
// and its migrations, idempotent batch inserts of battles, turns and votes,
// and the analytics queries that run inside ClickHouse. It is the only
// package that imports clickhouse-go.
//
// Everything here is written in the subset of SQL that Debian's ClickHouse
// 18.16 and current releases both accept; docs/clickhouse.md lists where the
// two differ.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Client talks to the ClickHouse servers of one Config over the native
// protocol. It is safe for concurrent use.
type Client struct {
	conn   driver.Conn
	cfg    Config
	layout layout
	log    *slog.Logger
	// noVoteFlags inserts votes without migration 3's columns, as the
	// Agora of an older schema did (upgrade tests).
	noVoteFlags bool

	mu sync.Mutex // guards the fields below
	// insertSettings are the settings sent with every insert; known once a
	// connection has told us the server's version.
	insertSettings ch.Settings
	versionKnown   bool
	serverVersion  string
}

// Open returns a client for cfg. It does not connect: the first call that
// needs the server does, so Agora starts while ClickHouse is down.
func Open(cfg Config, log *slog.Logger) (*Client, error) {
	cfg = cfg.WithDefaults()
	if !cfg.Enabled() {
		return nil, errors.New("clickhouse: no addresses configured")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := ch.Open(&ch.Options{
		Protocol: ch.Native,
		Addr:     cfg.Addrs,
		Auth: ch.Auth{
			Database: "default", // the database may not exist before Migrate
			Username: cfg.User,
			Password: cfg.Password,
		},
		Compression:      compressionOf(cfg),
		DialTimeout:      cfg.DialTimeout,
		ReadTimeout:      cfg.ReadTimeout,
		ConnMaxLifetime:  10 * time.Minute,
		MaxOpenConns:     8,
		MaxIdleConns:     4,
		ConnOpenStrategy: ch.ConnOpenInOrder,
		ClientInfo: ch.ClientInfo{
			Products: []struct{ Name, Version string }{{Name: "agora", Version: "1"}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return &Client{conn: conn, cfg: cfg, layout: layoutOf(cfg), log: log}, nil
}

// Close closes the client's connections.
func (c *Client) Close() error { return c.conn.Close() }

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() Config { return c.cfg }

// Ping checks that a server answers.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout+c.cfg.ReadTimeout)
	defer cancel()
	if err := c.conn.Ping(ctx); err != nil {
		return fmt.Errorf("clickhouse ping: %w", err)
	}
	return nil
}

// ServerVersion returns the version the server reported, such as "18.16.1".
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	if _, err := c.settings(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.serverVersion, nil
}

// settings returns the settings for inserts, asking the server for its
// version the first time. Servers since 21.11 know async_insert, and 26.2
// turned it on by default; Agora wants synchronous inserts, and 18.16
// rejects settings it does not know, so the setting is sent only to servers
// that have it.
func (c *Client) settings(ctx context.Context) (ch.Settings, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.versionKnown {
		return c.insertSettings, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, err := c.conn.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("clickhouse server version: %w", err)
	}
	c.serverVersion = fmt.Sprintf("%d.%d.%d", v.Version.Major, v.Version.Minor, v.Version.Patch)
	if v.Version.Major > 21 || v.Version.Major == 21 && v.Version.Minor >= 11 {
		c.insertSettings = ch.Settings{"async_insert": 0}
	}
	c.versionKnown = true
	return c.insertSettings, nil
}

// withDeadline bounds one call by the read timeout.
func (c *Client) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.ReadTimeout)
}

func (c *Client) exec(ctx context.Context, q string, args ...any) error {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.conn.Exec(ctx, q, args...)
}

// query runs q. The caller closes the rows; the deadline ends with them.
func (c *Client) query(ctx context.Context, q string, args ...any) (driver.Rows, error) {
	ctx, cancel := c.withDeadline(ctx)
	rows, err := c.conn.Query(ctx, q, args...)
	if err != nil {
		cancel()
		return nil, err
	}
	return cancelRows{rows, cancel}, nil
}

// cancelRows releases a query's deadline when its rows are closed.
type cancelRows struct {
	driver.Rows
	cancel context.CancelFunc
}

func (r cancelRows) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

func (c *Client) queryRow(ctx context.Context, q string, args ...any) scanner {
	ctx, cancel := c.withDeadline(ctx)
	return cancelRow{c.conn.QueryRow(ctx, q, args...), cancel}
}

type scanner interface{ Scan(dest ...any) error }

type cancelRow struct {
	row    driver.Row
	cancel context.CancelFunc
}

func (r cancelRow) Scan(dest ...any) error {
	defer r.cancel()
	return r.row.Scan(dest...)
}

// columnSet is the rows of one insert, column by column: names[i] holds
// values[i], a typed slice ([]string, []uint64, []time.Time, ...). Appending
// whole columns is much faster than appending rows.
type columnSet struct {
	names  []string
	values []any
}

func (cs *columnSet) add(name string, v any) {
	cs.names = append(cs.names, name)
	cs.values = append(cs.values, v)
}

// blockBytes is about how much string data one block of an insert carries.
// Building a block copies its strings into one buffer; bounded blocks keep
// that buffer small and reused, and the server writes one block while the
// next is built.
const blockBytes = 2 << 20

// insert sends cols to table as one batch insert with an explicit column
// list, the only insert form that works on every server. Each call builds a
// fresh batch: clickhouse-go marks a batch sent whatever the outcome. Large
// inserts go as several blocks, each written by the server as its own part:
// an insert is not atomic then, which the callers' idempotent rows allow.
func (c *Client) insert(ctx context.Context, table string, cols *columnSet, queryID string) error {
	settings, err := c.settings(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	opts := []ch.QueryOption{ch.WithSettings(settings)}
	if queryID != "" {
		opts = append(opts, ch.WithQueryID(queryID))
	}
	ctx = ch.Context(ctx, opts...)
	b, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(cols.names, ", ")+")")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer b.Close()
	rows, per := cols.blocks()
	for lo := 0; lo < rows; lo += per {
		hi := min(lo+per, rows)
		for i, v := range cols.values {
			if lo > 0 || hi < rows {
				v = reflect.ValueOf(v).Slice(lo, hi).Interface()
			}
			if err := b.Column(i).Append(v); err != nil {
				b.Abort()
				return fmt.Errorf("insert into %s: column %s: %w", table, cols.names[i], err)
			}
		}
		if hi < rows {
			if err := b.Flush(); err != nil {
				return fmt.Errorf("insert into %s: %w", table, err)
			}
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

// blocks returns the number of rows and how many go in one block.
func (cs *columnSet) blocks() (rows, per int) {
	if len(cs.values) == 0 {
		return 0, 1
	}
	rows = reflect.ValueOf(cs.values[0]).Len()
	size := 0
	for _, v := range cs.values {
		if ss, ok := v.([]string); ok {
			for _, s := range ss {
				size += len(s)
			}
		}
	}
	if size <= blockBytes || rows == 0 {
		return rows, max(rows, 1)
	}
	return rows, max(rows*blockBytes/size, 1)
}

// inList binds vals as the parenthesized list of an IN clause; a plain
// slice would bind as an array.
func inList(vals []string) ch.GroupSet {
	set := ch.GroupSet{Value: make([]any, len(vals))}
	for i, v := range vals {
		set.Value[i] = v
	}
	return set
}

// compressionOf returns the clickhouse-go compression of cfg.
func compressionOf(cfg Config) *ch.Compression {
	if cfg.compression() == CompressionNone {
		return &ch.Compression{Method: ch.CompressionNone}
	}
	return &ch.Compression{Method: ch.CompressionLZ4}
}
