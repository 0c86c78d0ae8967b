package clickhouse_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
)

func TestConfigValidate(t *testing.T) {
	good := clickhouse.Config{Addrs: []string{"127.0.0.1:9000"}}.WithDefaults()
	cases := []struct {
		name    string
		edit    func(c *clickhouse.Config)
		wantErr string
	}{
		{"defaults", func(c *clickhouse.Config) {}, ""},
		{"disabled", func(c *clickhouse.Config) { c.Addrs = nil; c.Database = "bad name" }, ""},
		{"no port", func(c *clickhouse.Config) { c.Addrs = []string{"localhost"} }, "want host:port"},
		{"bad port", func(c *clickhouse.Config) { c.Addrs = []string{"h:99999"} }, "bad port"},
		{"no host", func(c *clickhouse.Config) { c.Addrs = []string{":9000"} }, "missing host"},
		{"database with quote", func(c *clickhouse.Config) { c.Database = "a'; DROP" }, "database"},
		{"cluster with dot", func(c *clickhouse.Config) { c.Cluster = "a.b" }, "cluster"},
		{"replicated without cluster", func(c *clickhouse.Config) { c.Replicated = true }, "need a cluster"},
		{"huge batch", func(c *clickhouse.Config) { c.BatchSize = 2_000_000 }, "batch_size"},
		{"cap below batch", func(c *clickhouse.Config) { c.BacklogCap = 10 }, "backlog_cap"},
		{"negative flush", func(c *clickhouse.Config) { c.FlushInterval = -time.Second }, "flush_interval"},
		{"lz4", func(c *clickhouse.Config) { c.Compression = "lz4" }, ""},
		{"no compression", func(c *clickhouse.Config) { c.Compression = "none" }, ""},
		{"unknown compression", func(c *clickhouse.Config) { c.Compression = "zstd" }, "compression"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error about %q", err, tc.wantErr)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	base := clickhouse.Config{Addrs: []string{"file:9000"}, Database: "fromfile", PasswordEnv: "CH_PASS"}
	env := map[string]string{
		"AGORA_CLICKHOUSE_ADDR":     " a:9000, b:9001 ,",
		"AGORA_CLICKHOUSE_DATABASE": "fromenv",
		"CH_PASS":                   "s3cret",
	}
	got := clickhouse.ConfigFromEnv(base, func(k string) string { return env[k] })
	if want := []string{"a:9000", "b:9001"}; !slices.Equal(got.Addrs, want) {
		t.Errorf("Addrs = %q, want %q", got.Addrs, want)
	}
	if got.Database != "fromenv" || got.Password != "s3cret" {
		t.Errorf("Database, Password = %q, %q; want fromenv, s3cret", got.Database, got.Password)
	}
	if got := clickhouse.ConfigFromEnv(base, func(string) string { return "" }); !slices.Equal(got.Addrs, base.Addrs) || got.Database != "fromfile" {
		t.Errorf("ConfigFromEnv with an empty environment = %+v, want the base", got)
	}
}

func TestConfigCompression(t *testing.T) {
	for _, tc := range []struct {
		addrs []string
		set   string
		want  string
	}{
		{[]string{"127.0.0.1:9000"}, "", "none"},
		{[]string{"localhost:9000", "[::1]:9000"}, "", "none"},
		{[]string{"127.0.0.1:9000", "ch2:9000"}, "", "lz4"},
		{[]string{"10.0.0.5:9000"}, "", "lz4"},
		{[]string{"127.0.0.1:9000"}, "lz4", "lz4"},
		{[]string{"ch:9000"}, "none", "none"},
	} {
		c := clickhouse.Config{Addrs: tc.addrs, Compression: tc.set}
		if got := clickhouse.CompressionOf(c); got != tc.want {
			t.Errorf("compression of %q with %q = %q, want %q", tc.addrs, tc.set, got, tc.want)
		}
	}
}
