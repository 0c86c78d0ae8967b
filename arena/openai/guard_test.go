package openai_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/rlhf"
)

// canary is a listener on loopback that counts the connections it gets.
// No test may let a refused endpoint reach it.
type canary struct {
	ln    net.Listener
	conns atomic.Int64
	port  string
}

func newCanary(t testing.TB) *canary {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &canary{ln: ln, port: fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return c
}

// fakeDNS is a DNS server on loopback UDP answering A and AAAA queries from
// a table. For names in rebind, the first A answer is the table's and every
// later one is the rebind address.
type fakeDNS struct {
	addr string
	a    map[string][]netip.Addr // by lower-case name without the trailing dot
	mu   sync.Mutex              // guards seen
	seen map[string]int          // A queries answered per name
	// rebind maps a name to the address it answers after the first time.
	rebind map[string]netip.Addr
}

func newFakeDNS(t testing.TB, table map[string][]netip.Addr, rebind map[string]netip.Addr) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDNS{addr: pc.LocalAddr().String(), a: table, rebind: rebind, seen: map[string]int{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := d.answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return d
}

// resolver returns a pure-Go resolver that asks only d.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", d.addr)
	}}
}

func (d *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	// Read the question's name.
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1 : i+3])
	question := q[12 : i+5]
	name := strings.ToLower(strings.Join(labels, "."))

	addrs, known := d.a[name]
	if qtype == 1 {
		if r, ok := d.rebind[name]; ok {
			d.mu.Lock()
			d.seen[name]++
			if d.seen[name] > 1 {
				addrs = []netip.Addr{r}
			}
			d.mu.Unlock()
		}
	}
	var answers [][]byte
	for _, a := range addrs {
		var typ uint16 = 28
		if a.Is4() {
			typ = 1
		}
		if typ != qtype {
			continue
		}
		rr := []byte{0xc0, 0x0c, byte(typ >> 8), byte(typ), 0, 1, 0, 0, 0, 0, 0, byte(a.BitLen() / 8)}
		answers = append(answers, append(rr, a.AsSlice()...))
	}
	resp := make([]byte, 12, 512)
	copy(resp, q[:2])
	flags := uint16(0x8180) // response, recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	binary.BigEndian.PutUint16(resp[2:], flags)
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], uint16(len(answers)))
	resp = append(resp, question...)
	for _, a := range answers {
		resp = append(resp, a...)
	}
	return resp
}

// newGuard returns a guard resolving through d and allowing allow.
func newGuard(t testing.TB, d *fakeDNS, allow ...string) *openai.Guard {
	t.Helper()
	g, err := openai.NewGuard(openai.GuardConfig{Allow: allow, Resolver: d.resolver()})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// call streams one short answer from baseURL through a guarded client.
func call(g *openai.Guard, baseURL string) error {
	c := openai.New(rlhf.EndpointModel{
		BaseURL: baseURL, ModelID: "good", MaxTokens: 16,
		ConnectTimeout: rlhf.Duration(time.Second), IdleTimeout: rlhf.Duration(5 * time.Second), MaxAnswerBytes: 1 << 10,
	}, "", g)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Stream(ctx, []rlhf.Message{{Role: "user", Content: "hello"}}, func(string) {})
	return err
}

// TestGuardRefusesSSRFTable is the acceptance table: every range and trick
// is refused at registration (CheckURL) and at connection time (a real
// client call), and the canary on loopback receives nothing.
func TestGuardRefusesSSRFTable(t *testing.T) {
	cn := newCanary(t)
	p := cn.port
	dns := newFakeDNS(t, map[string][]netip.Addr{
		"loopback.agora.test":    {netip.MustParseAddr("127.0.0.1")},
		"loopback6.agora.test":   {netip.MustParseAddr("::1")},
		"metadata.agora.test":    {netip.MustParseAddr("169.254.169.254")},
		"private.agora.test":     {netip.MustParseAddr("10.1.2.3")},
		"mixed.agora.test":       {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")},
		"mapped.agora.test":      {netip.MustParseAddr("::ffff:127.0.0.1")},
		"ula.agora.test":         {netip.MustParseAddr("fd00:ec2::254")},
		"127.0.0.1.agora.test":   {netip.MustParseAddr("127.0.0.1")},
		"cgnat.agora.test":       {netip.MustParseAddr("100.100.100.200")},
		"rfc1918-172.agora.test": {netip.MustParseAddr("172.31.255.1")},
	}, nil)
	g := newGuard(t, dns)

	urls := []string{
		// Loopback, every spelling.
		"http://127.0.0.1:" + p + "/v1",
		"http://127.1.2.3:" + p + "/v1",
		"http://127.1:" + p + "/v1",
		"http://2130706433:" + p + "/v1",
		"http://0x7f000001:" + p + "/v1",
		"http://0x7F.0x0.0x0.0x1:" + p + "/v1",
		"http://0177.0.0.1:" + p + "/v1",
		"http://0177.0000.0000.0001:" + p + "/v1",
		"http://017700000001:" + p + "/v1",
		"http://127.0.0.1.:" + p + "/v1",
		"http://127.000.000.001:" + p + "/v1",
		"http://[::1]:" + p + "/v1",
		"http://[0:0:0:0:0:0:0:1]:" + p + "/v1",
		"http://[::ffff:127.0.0.1]:" + p + "/v1",
		"http://[::ffff:7f00:1]:" + p + "/v1",
		"http://[0:0:0:0:0:ffff:127.0.0.1]:" + p + "/v1",
		"http://[::127.0.0.1]:" + p + "/v1",
		"http://[::ffff:0:127.0.0.1]:" + p + "/v1",
		"http://[64:ff9b::127.0.0.1]:" + p + "/v1",
		"http://[2002:7f00:1::]:" + p + "/v1",
		"http://localhost:" + p + "/v1",
		"http://LOCALHOST.:" + p + "/v1",
		"http://api.localhost:" + p + "/v1",
		"http://loopback.agora.test:" + p + "/v1",
		"http://loopback6.agora.test:" + p + "/v1",
		"http://127.0.0.1.agora.test:" + p + "/v1",
		"http://mixed.agora.test:" + p + "/v1",
		"http://mapped.agora.test:" + p + "/v1",
		"http://evil.example@127.0.0.1:" + p + "/v1",
		// Unspecified ("this network"): connects to the local host on Linux.
		"http://0.0.0.0:" + p + "/v1",
		"http://0:" + p + "/v1",
		"http://[::]:" + p + "/v1",
		// Private.
		"http://10.0.0.1/v1",
		"http://10.255.255.255:8000/v1",
		"http://172.16.0.1/v1",
		"http://172.31.255.254/v1",
		"http://192.168.1.1/v1",
		"http://0xc0a80101/v1",
		"http://3232235777/v1",
		"http://private.agora.test/v1",
		"http://rfc1918-172.agora.test/v1",
		"http://[::ffff:10.0.0.1]/v1",
		"http://[::ffff:192.168.0.1]/v1",
		// Link-local and cloud metadata.
		"http://169.254.169.254/latest/meta-data/",
		"http://169.254.0.1/v1",
		"http://2852039166/v1",
		"http://0xa9fea9fe/v1",
		"http://0251.0376.0251.0376/v1",
		"http://[::ffff:169.254.169.254]/v1",
		"http://[::ffff:a9fe:a9fe]/v1",
		"http://metadata.agora.test/v1",
		"http://[fe80::1]/v1",
		"http://[fe80::1%25eth0]/v1",
		"http://[febf:ffff::1]/v1",
		"http://[fd00:ec2::254]/v1",
		"http://ula.agora.test/v1",
		// Carrier-grade NAT (Alibaba Cloud's metadata is 100.100.100.200).
		"http://100.64.0.1/v1",
		"http://100.127.255.254/v1",
		"http://100.100.100.200/v1",
		"http://cgnat.agora.test/v1",
		// Unique-local, site-local, multicast, reserved, broadcast.
		"http://[fc00::1]/v1",
		"http://[fdff:ffff::1]/v1",
		"http://[fec0::1]/v1",
		"http://[ff02::1]/v1",
		"http://224.0.0.1/v1",
		"http://239.255.255.250/v1",
		"http://240.0.0.1/v1",
		"http://255.255.255.255/v1",
		"http://198.18.0.1/v1",
		"http://192.0.0.8/v1",
		"http://[2001:db8::1]/v1",
		"http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/v1",
	}
	// These are not URLs a client could dial at all, or names that do not
	// resolve: refused at registration; a call fails before any dial.
	malformed := []string{
		"file:///etc/passwd",
		"gopher://127.0.0.1:" + p + "/_",
		"ftp://example.org/",
		"http:127.0.0.1",
		"http:///v1",
		"http://nosuchname.agora.test/v1",
		"http://①②⑦.0.0.1/v1",
		"http://1.2.3.4:0/v1",
		"http://1.2.3.4:99999/v1",
		"http://%31%32%37.0.0.1:" + p + "/v1",
	}
	for _, u := range append(urls, malformed...) {
		err := g.CheckURL(context.Background(), u)
		if err == nil {
			t.Errorf("CheckURL(%q) = nil, want a refusal", u)
			continue
		}
		if !errors.Is(err, openai.ErrRefused) || rlhf.ErrorCode(err) != rlhf.EInvalid {
			t.Errorf("CheckURL(%q) = %v (code %q), want an %q error wrapping ErrRefused", u, err, rlhf.ErrorCode(err), rlhf.EInvalid)
		}
	}
	// Now call every URL through a guarded client anyway, as if the check
	// at registration had been skipped: the dialer must refuse them all.
	for _, u := range urls {
		err := call(g, u)
		if !errors.Is(err, openai.ErrRefused) {
			t.Errorf("call(%q) = %v, want ErrRefused in its chain", u, err)
		}
	}
	for _, u := range malformed {
		err := call(g, u)
		if err == nil {
			t.Errorf("call(%q) succeeded, want an error", u)
		}
	}
	if n := cn.conns.Load(); n != 0 {
		t.Errorf("the canary on loopback got %d connections, want 0", n)
	}
}

// TestGuardDNSRebinding: a name that resolves to a public address at
// registration and to loopback at connection time is refused when the
// connection is made. Without the guard, the same resolver does reach the
// canary, so the test can fail.
func TestGuardDNSRebinding(t *testing.T) {
	cn := newCanary(t)
	dns := newFakeDNS(t,
		map[string][]netip.Addr{"rebind.agora.test": {netip.MustParseAddr("93.184.216.34")}},
		map[string]netip.Addr{"rebind.agora.test": netip.MustParseAddr("127.0.0.1")})
	g := newGuard(t, dns)
	u := "http://rebind.agora.test:" + cn.port + "/v1"
	if err := g.CheckURL(context.Background(), u); err != nil {
		t.Fatalf("CheckURL(%q) at registration = %v, want nil (the name is public then)", u, err)
	}
	err := call(g, u)
	if !errors.Is(err, openai.ErrRefused) {
		t.Fatalf("call(%q) after rebinding = %v, want ErrRefused in its chain", u, err)
	}
	if n := cn.conns.Load(); n != 0 {
		t.Fatalf("the canary got %d connections through the guard, want 0", n)
	}

	// The control: an unguarded dialer with the same resolver gets there.
	d := net.Dialer{Resolver: dns.resolver(), Timeout: time.Second}
	conn, err := d.DialContext(context.Background(), "tcp", "rebind.agora.test:"+cn.port)
	if err != nil {
		t.Fatalf("unguarded dial: %v", err)
	}
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for cn.conns.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := cn.conns.Load(); n != 1 {
		t.Fatalf("the canary got %d connections from the unguarded dial, want 1", n)
	}
}

// TestGuardRefusesRedirects: an allow-listed endpoint answering 302 to the
// metadata address, or to the canary, gets nowhere — neither through the
// client (which refuses redirects) nor through a plain http.Client that
// follows them (whose dialer refuses the target).
func TestGuardRefusesRedirects(t *testing.T) {
	cn := newCanary(t)
	for _, target := range []string{
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://127.0.0.1:" + cn.port + "/v1/chat/completions",
		"http://[::ffff:127.0.0.1]:" + cn.port + "/v1/chat/completions",
	} {
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target, http.StatusFound)
		}))
		g, err := openai.NewGuard(openai.GuardConfig{Allow: []string{redirector.Listener.Addr().String()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.CheckURL(context.Background(), redirector.URL+"/v1"); err != nil {
			t.Fatalf("CheckURL(allow-listed %s) = %v, want nil", redirector.URL, err)
		}
		if err := call(g, redirector.URL+"/v1"); err == nil {
			t.Errorf("call through a redirect to %s succeeded, want an error", target)
		}

		follow := &http.Client{Transport: &http.Transport{DialContext: g.DialContext(&net.Dialer{Timeout: time.Second})}}
		resp, err := follow.Get(redirector.URL + "/v1/models")
		if err == nil {
			resp.Body.Close()
			t.Errorf("a following client reached %s (status %d), want a refusal", target, resp.StatusCode)
		} else if !errors.Is(err, openai.ErrRefused) {
			t.Errorf("following a redirect to %s: %v, want ErrRefused in its chain", target, err)
		}
		redirector.Close()
	}
	if n := cn.conns.Load(); n != 0 {
		t.Errorf("the canary got %d connections, want 0", n)
	}
}

// TestGuardAllowList: allow-listed endpoints work end to end, and only
// those: the demo endpoint by host:port, a name by name:port, a range by
// CIDR; the port of an IP:port entry is exact.
func TestGuardAllowList(t *testing.T) {
	demoSrv := httptest.NewServer(&demo.Server{})
	defer demoSrv.Close()
	demoAddr := demoSrv.Listener.Addr().String()
	_, demoPort, _ := net.SplitHostPort(demoAddr)
	cn := newCanary(t)
	dns := newFakeDNS(t, map[string][]netip.Addr{
		"gpu-box.agora.test": {netip.MustParseAddr("127.0.0.1")},
		"public.agora.test":  {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("2606:2800:220:1:248:1893:25c8:1946")},
	}, nil)

	tests := []struct {
		name  string
		allow []string
		url   string
		ok    bool
	}{
		{"demo allow-listed", []string{demoAddr}, demoSrv.URL + "/demo/v1", true},
		{"demo not allow-listed", nil, demoSrv.URL + "/demo/v1", false},
		{"other port of an allow-listed IP", []string{demoAddr}, "http://127.0.0.1:" + cn.port + "/v1", false},
		{"name:port allow-listed", []string{"gpu-box.agora.test:" + demoPort}, "http://gpu-box.agora.test:" + demoPort + "/demo/v1", true},
		{"name:port, other name to the same address", []string{"gpu-box.agora.test:" + demoPort}, "http://127.0.0.1:" + demoPort + "/demo/v1", false},
		{"CIDR", []string{"127.0.0.0/8"}, demoSrv.URL + "/demo/v1", true},
		{"CIDR, IPv4-mapped form", []string{"127.0.0.0/8"}, "http://[::ffff:127.0.0.1]:" + demoPort + "/demo/v1", true},
		{"CIDR does not allow numeric tricks", []string{"127.0.0.0/8"}, "http://2130706433:" + demoPort + "/demo/v1", false},
		{"unrelated CIDR", []string{"10.0.0.0/8"}, demoSrv.URL + "/demo/v1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuard(t, dns, tt.allow...)
			checkErr := g.CheckURL(context.Background(), tt.url)
			callErr := call(g, tt.url)
			if tt.ok && (checkErr != nil || callErr != nil) {
				t.Errorf("CheckURL = %v, call = %v; want both nil", checkErr, callErr)
			}
			if !tt.ok && (checkErr == nil || callErr == nil) {
				t.Errorf("CheckURL = %v, call = %v; want both to refuse", checkErr, callErr)
			}
		})
	}
	if n := cn.conns.Load(); n != 0 {
		t.Errorf("the canary got %d connections, want 0", n)
	}

	// Public addresses pass the check (nothing is dialled: no internet here).
	g := newGuard(t, dns)
	for _, u := range []string{
		"https://93.184.216.34/v1", "http://8.8.8.8:8000/v1", "https://[2606:4700::1111]/v1",
		"http://[::ffff:8.8.8.8]/v1", "https://public.agora.test/v1", "https://Public.Agora.Test./v1",
	} {
		if err := g.CheckURL(context.Background(), u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", u, err)
		}
	}
}

func TestGuardAllowingCopies(t *testing.T) {
	base, err := openai.NewGuard(openai.GuardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	self, err := base.Allowing("127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := self.CheckURL(ctx, "http://127.0.0.1:8080/demo/v1"); err != nil {
		t.Errorf("Allowing(self).CheckURL = %v, want nil", err)
	}
	if err := base.CheckURL(ctx, "http://127.0.0.1:8080/demo/v1"); err == nil {
		t.Error("base guard allows 127.0.0.1:8080 after Allowing, want it unchanged")
	}
}

func TestNewGuardBadEntries(t *testing.T) {
	for _, e := range []string{"10.0.0.0/33", "gpu-box", "gpu-box:0", "gpu-box:http", "0x7f000001:80", "fe80::1%eth0/64", "[fe80::1%eth0]:80", "localhost:80"} {
		if _, err := openai.NewGuard(openai.GuardConfig{Allow: []string{e}}); err == nil {
			t.Errorf("NewGuard(Allow: %q) = nil error, want one", e)
		}
	}
	for _, e := range []string{"10.0.0.0/8", "fd00::/8", "10.1.2.3", "::1", "127.0.0.1:8080", "[::1]:8080", "gpu-box.internal:8000"} {
		if _, err := openai.NewGuard(openai.GuardConfig{Allow: []string{e}}); err != nil {
			t.Errorf("NewGuard(Allow: %q) = %v, want nil", e, err)
		}
	}
}

// FuzzCheckURL: CheckURL never panics, and with a resolver that knows no
// names, whatever it accepts has a public IP address literal for a host.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/v1", "http://2130706433/", "http://[::ffff:7f00:1]/", "https://8.8.8.8/v1",
		"http://0x7f.1/", "http://a@b/", "http://[fe80::1%25lo]/", "http://example.org:8000/v1",
	} {
		f.Add(s)
	}
	g := newGuard(f, newFakeDNS(f, nil, nil))
	f.Fuzz(func(t *testing.T, raw string) {
		if err := g.CheckURL(context.Background(), raw); err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("CheckURL(%q) = nil, but url.Parse fails: %v", raw, err)
		}
		a, err := netip.ParseAddr(u.Hostname())
		if err != nil {
			t.Fatalf("CheckURL(%q) = nil for the name %q, which no resolver knows", raw, u.Hostname())
		}
		if a.Unmap().IsLoopback() || a.Unmap().IsPrivate() || a.IsLinkLocalUnicast() || a.Unmap().IsUnspecified() || a.IsMulticast() {
			t.Fatalf("CheckURL(%q) = nil for the special address %s", raw, a)
		}
	})
}

// BenchmarkGuardedDial is the cost the guard adds to opening a connection
// (compare BenchmarkPlainDial): the check of the resolved address.
func BenchmarkGuardedDial(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	g, err := openai.NewGuard(openai.GuardConfig{Allow: []string{ln.Addr().String()}})
	if err != nil {
		b.Fatal(err)
	}
	dial := g.DialContext(&net.Dialer{})
	b.Run("guarded", func(b *testing.B) {
		for b.Loop() {
			c, err := dial(context.Background(), "tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("plain", func(b *testing.B) {
		var d net.Dialer
		for b.Loop() {
			c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
}

func BenchmarkCheckURLLiteral(b *testing.B) {
	g, _ := openai.NewGuard(openai.GuardConfig{Allow: []string{"10.1.0.0/16", "gpu-box:8000"}})
	b.ReportAllocs()
	for b.Loop() {
		if g.CheckURL(context.Background(), "https://[2606:4700::1111]:8443/v1") != nil {
			b.Fatal("refused a public address")
		}
	}
}
