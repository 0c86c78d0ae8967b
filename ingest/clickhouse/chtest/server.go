// Package chtest starts private clickhouse-server processes for tests: each
// on free loopback ports, with its data in a temporary directory, stopped
// when the test ends. A missing server binary skips the test with a loud
// message, except in CI (CI=true), where it fails.
//
// It also has a fault-injecting TCP proxy to put between a client and a
// server.
package chtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
)

// Server is one private clickhouse-server.
type Server struct {
	Addr     string // host:port of the native protocol
	HTTPAddr string // host:port of the HTTP interface
	Dir      string // data, logs and configuration

	t       testing.TB
	bin     string
	config  string
	mu      sync.Mutex // guards cmd and exited
	cmd     *exec.Cmd
	exited  chan struct{}
	dbCount atomic.Int64
	env     []string // added to the server's environment
}

// Binary returns the clickhouse-server binary to use: $AGORA_CLICKHOUSE_SERVER,
// clickhouse-server from PATH or /usr/sbin/clickhouse-server.
func Binary() (string, error) {
	if b := os.Getenv("AGORA_CLICKHOUSE_SERVER"); b != "" {
		return b, nil
	}
	if b, err := exec.LookPath("clickhouse-server"); err == nil {
		return b, nil
	}
	for _, b := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if _, err := os.Stat(b); err == nil {
			return b, nil
		}
	}
	return "", fmt.Errorf("clickhouse-server not found in $AGORA_CLICKHOUSE_SERVER, PATH or /usr/sbin")
}

var warnOnce sync.Once

// need returns the server binary, or ends the test: a skip locally, a
// failure in CI.
func need(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err == nil {
		return bin
	}
	msg := "CLICKHOUSE TESTS NOT RUN: " + err.Error() +
		" (install it with: apt-get install -y clickhouse-server clickhouse-client)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true requires it")
	}
	warnOnce.Do(func() { fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***\n") })
	t.Skip(msg)
	return ""
}

// Start starts a server, waits until it answers and stops it when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return startServers(t, "", 1, nil)[0]
}

// MallocTHP makes the server's jemalloc back its memory with transparent
// huge pages. Debian's clickhouse-server links the system jemalloc, which
// reads MALLOC_CONF; on a virtual machine where page faults are dear this
// takes about 40 % off the server's processor time per inserted row (see
// docs/notes/clickhouse.md).
const MallocTHP = "MALLOC_CONF=thp:always"

// StartEnv is Start with env (KEY=value) added to the server's
// environment, for benchmarks that compare server tunings.
func StartEnv(t testing.TB, env ...string) *Server {
	t.Helper()
	return startServers(t, "", 1, env)[0]
}

// StartCluster starts n servers as the n shards (one replica each) of a
// cluster named name, declared in every server's remote_servers.
func StartCluster(t testing.TB, name string, n int) []*Server {
	t.Helper()
	return startServers(t, name, n, nil)
}

func startServers(t testing.TB, cluster string, n int, env []string) []*Server {
	t.Helper()
	bin := need(t)
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freePort(t)
	}
	var remote string
	if cluster != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "<remote_servers><%s>", cluster)
		for _, p := range ports {
			fmt.Fprintf(&b, "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", p)
		}
		fmt.Fprintf(&b, "</%s></remote_servers>", cluster)
		remote = b.String()
	}
	servers := make([]*Server, n)
	for i := range servers {
		dir, httpPort := t.TempDir(), freePort(t)
		s := &Server{
			Addr:     fmt.Sprintf("127.0.0.1:%d", ports[i]),
			HTTPAddr: fmt.Sprintf("127.0.0.1:%d", httpPort),
			Dir:      dir,
			t:        t,
			bin:      bin,
			config:   filepath.Join(dir, "config.xml"),
			env:      env,
		}
		writeConfig(t, dir, ports[i], httpPort, remote)
		servers[i] = s
		t.Cleanup(s.Kill)
	}
	for _, s := range servers {
		s.start()
	}
	for _, s := range servers {
		s.waitReady()
	}
	return servers
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeConfig(t testing.TB, dir string, tcpPort, httpPort int, remote string) {
	t.Helper()
	config := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>%[1]s/log/server.log</log>
        <errorlog>%[1]s/log/error.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>%[2]d</tcp_port>
    <http_port>%[3]d</http_port>
    <path>%[1]s/data/</path>
    <tmp_path>%[1]s/tmp/</tmp_path>
    <user_files_path>%[1]s/user_files/</user_files_path>
    <format_schema_path>%[1]s/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <max_concurrent_queries>100</max_concurrent_queries>
    %[4]s
</yandex>
`, dir, tcpPort, httpPort, remote)
	users := `<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`
	for name, text := range map[string]string{"config.xml": config, "users.xml": users} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatalf("write clickhouse %s: %v", name, err)
		}
	}
}

func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "--config-file="+s.config)
	cmd.Dir = s.Dir
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	out, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatalf("clickhouse log: %v", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// The server dies with the test process even if cleanup never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		s.t.Fatalf("start %s: %v", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		out.Close()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
}

// waitReady waits until the server answers a ping.
func (s *Server) waitReady() {
	s.t.Helper()
	c, err := clickhouse.Open(clickhouse.Config{Addrs: []string{s.Addr}, DialTimeout: time.Second, ReadTimeout: 5 * time.Second}, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-exited:
			s.t.Fatalf("clickhouse-server at %s exited while starting:\n%s", s.Addr, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("clickhouse-server at %s not ready after 60s: %v\n%s", s.Addr, err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) logTail() string {
	var b bytes.Buffer
	for _, f := range []string{"stdout.log", "log/error.log"} {
		data, _ := os.ReadFile(filepath.Join(s.Dir, f))
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "--- %s ---\n%s\n", f, data)
	}
	return b.String()
}

// Kill kills the server with SIGKILL and waits until it is gone. It does
// nothing if the server is not running.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// Restart starts a stopped or killed server again on the same port and
// data, and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
	s.waitReady()
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// NewConfig returns a configuration for a fresh database on s, named after
// the test, with short intervals and timeouts fit for tests.
func (s *Server) NewConfig(t testing.TB) clickhouse.Config {
	name := strings.ToLower(nonIdent.ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	db := fmt.Sprintf("t_%s_%d", name, s.dbCount.Add(1))
	return clickhouse.Config{
		Addrs:         []string{s.Addr},
		Database:      db,
		BatchSize:     1000,
		FlushInterval: 20 * time.Millisecond,
		BacklogCap:    1_000_000,
		DialTimeout:   2 * time.Second,
		ReadTimeout:   20 * time.Second,
	}.WithDefaults()
}
