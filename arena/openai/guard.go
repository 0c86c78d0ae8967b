package openai

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/agora-rlhf/agora/rlhf"
)

// ErrRefused is in the chain of every error the Guard returns for an
// address or URL it will not let a model endpoint use.
var ErrRefused = errors.New("refused by the egress guard")

// Guard is the egress policy for model endpoints: it keeps endpoint URLs,
// which labs choose, away from the server's own network. It refuses
// loopback, private, link-local (cloud metadata), carrier-grade NAT,
// unique-local, multicast and reserved addresses, IPv6 forms that embed
// such an IPv4 address, and non-standard numeric hosts (http://2130706433/,
// http://0x7f000001/, http://0177.0.0.1/), unless the operator allow-lists
// them.
//
// The policy is applied twice: by CheckURL when an endpoint is registered,
// and by the dialer from DialContext on the address each connection is
// actually made to, after DNS resolution — so a name that resolves to a
// public address at registration and to 127.0.0.1 later (DNS rebinding)
// is still refused. A Guard is safe for concurrent use.
type Guard struct {
	nets      []netip.Prefix          // allow-listed ranges, any port
	addrPorts map[netip.AddrPort]bool // allow-listed IP:port pairs
	hostPorts map[string]bool         // allow-listed name:port pairs (lower case, no trailing dot)
	resolver  *net.Resolver
}

// GuardConfig configures a Guard.
type GuardConfig struct {
	// Allow lists what model endpoints may reach besides public
	// addresses: CIDR ranges ("10.1.0.0/16", "fd00:1::/64"), single IP
	// addresses, and host:port pairs ("127.0.0.1:8080", "gpu-box:8000").
	// A host:port pair with a name trusts that name, at that port,
	// whatever it resolves to.
	Allow []string
	// Resolver resolves names, at registration and at connection time;
	// nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// NewGuard returns a Guard for cfg.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	g := &Guard{
		addrPorts: map[netip.AddrPort]bool{},
		hostPorts: map[string]bool{},
		resolver:  cfg.Resolver,
	}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	if err := g.allow(cfg.Allow); err != nil {
		return nil, err
	}
	return g, nil
}

// Allowing returns a copy of g that also allows entries (same forms as
// GuardConfig.Allow). Use it to let the models of the configuration file
// reach the built-in demo endpoint ({self}) without letting labs' models
// reach it.
func (g *Guard) Allowing(entries ...string) (*Guard, error) {
	c := &Guard{
		nets:      append([]netip.Prefix(nil), g.nets...),
		addrPorts: make(map[netip.AddrPort]bool, len(g.addrPorts)),
		hostPorts: make(map[string]bool, len(g.hostPorts)),
		resolver:  g.resolver,
	}
	for k := range g.addrPorts {
		c.addrPorts[k] = true
	}
	for k := range g.hostPorts {
		c.hostPorts[k] = true
	}
	if err := c.allow(entries); err != nil {
		return nil, err
	}
	return c, nil
}

func (g *Guard) allow(entries []string) error {
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			if p.Addr().Zone() != "" {
				return fmt.Errorf("allow-list entry %q: zones are not supported", e)
			}
			g.nets = append(g.nets, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil && a.Zone() == "" {
			g.nets = append(g.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		host, port, err := net.SplitHostPort(e)
		if err != nil {
			return fmt.Errorf("allow-list entry %q is not a CIDR range, an IP address or host:port", e)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("allow-list entry %q: port must be 1 to 65535", e)
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if a.Zone() != "" {
				return fmt.Errorf("allow-list entry %q: zones are not supported", e)
			}
			g.addrPorts[netip.AddrPortFrom(a.Unmap(), uint16(n))] = true
			continue
		}
		name := canonicalName(host)
		if err := checkName(name); err != nil {
			return fmt.Errorf("allow-list entry %q: %w", e, err)
		}
		g.hostPorts[net.JoinHostPort(name, port)] = true
	}
	return nil
}

// CheckURL reports, as an error safe to show the lab, why the endpoint base
// URL raw may not be used: it is not http(s), carries credentials, names a
// host in a non-standard numeric form, or its host is or resolves to a
// refused address. Every address a name resolves to must be allowed. The
// cause, with the address and range, is in the error's chain for the log.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	refuse := func(msg string, cause error) error {
		if !errors.Is(cause, ErrRefused) {
			cause = fmt.Errorf("%w: %w", ErrRefused, cause)
		}
		return &rlhf.Error{Code: rlhf.EInvalid, Message: msg, Err: cause}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return refuse("the endpoint URL is not a valid URL", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("the endpoint URL must start with http:// or https://", fmt.Errorf("scheme %q", u.Scheme))
	}
	if u.User != nil {
		return refuse("the endpoint URL must not carry a user name or password; give the API key separately",
			errors.New("userinfo in URL"))
	}
	host := u.Hostname()
	if host == "" || u.Opaque != "" {
		return refuse("the endpoint URL has no host", errors.New("empty host"))
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return refuse("the endpoint URL's port must be 1 to 65535", fmt.Errorf("port %q", port))
	}
	hostPort := net.JoinHostPort(host, port)

	if a, err := netip.ParseAddr(host); err == nil {
		if err := g.checkAddrPort(hostPort, netip.AddrPortFrom(a, mustPort(port))); err != nil {
			return refuse("the endpoint's address is not allowed: it must be a public address, or be allow-listed by the operator", err)
		}
		return nil
	}
	name := canonicalName(host)
	if err := checkName(name); err != nil {
		return refuse("the endpoint's host name is not allowed: "+err.Error(), err)
	}
	if g.hostPorts[net.JoinHostPort(name, port)] {
		return nil
	}
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return refuse("the endpoint's host name could not be resolved", err)
	}
	if len(addrs) == 0 {
		return refuse("the endpoint's host name could not be resolved", errors.New("no addresses"))
	}
	for _, a := range addrs {
		if err := g.checkAddrPort(hostPort, netip.AddrPortFrom(a, mustPort(port))); err != nil {
			// One message for every refused name: a lab must not be able to
			// map the server's internal DNS through this answer.
			return refuse("the endpoint's host is not allowed: it must resolve only to public addresses, or be allow-listed by the operator", err)
		}
	}
	return nil
}

func mustPort(s string) uint16 {
	n, _ := strconv.Atoi(s)
	return uint16(n)
}

// DialContext returns a dial function for an http.Transport that connects
// through d, but only to addresses g allows: the check runs in
// net.Dialer.ControlContext on each resolved address, just before the
// connection is made. d is copied, not changed; its Resolver is g's when
// it has none. The transport must not use a proxy: through a proxy the
// guard would see the proxy's address, not the endpoint's.
func (g *Guard) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dd := *d
	dd.Control = nil
	dd.ControlContext = g.control
	if dd.Resolver == nil {
		dd.Resolver = g.resolver
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		switch network {
		case "tcp", "tcp4", "tcp6":
		default:
			return nil, fmt.Errorf("dial %s %s: %w: network %q", network, addr, ErrRefused, network)
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		if _, err := netip.ParseAddr(host); err != nil {
			if err := checkName(canonicalName(host)); err != nil {
				return nil, fmt.Errorf("dial %s: %w: %w", addr, ErrRefused, err)
			}
		}
		return dd.DialContext(context.WithValue(ctx, dialTargetKey{}, addr), network, addr)
	}
}

// dialTargetKey carries the host:port a connection was asked for (before
// resolution) to the control function, for name allow-list entries.
type dialTargetKey struct{}

func (g *Guard) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse the address %q", ErrRefused, address)
	}
	target, _ := ctx.Value(dialTargetKey{}).(string)
	return g.checkAddrPort(target, ap)
}

// checkAddrPort decides for a connection to ap asked for as target (the
// host:port before resolution, or "").
func (g *Guard) checkAddrPort(target string, ap netip.AddrPort) error {
	a := ap.Addr()
	if a.Zone() != "" {
		return fmt.Errorf("%w: %s has an IPv6 zone", ErrRefused, ap)
	}
	if ap.Port() == 0 {
		return fmt.Errorf("%w: %s has port 0", ErrRefused, ap)
	}
	if host, port, err := net.SplitHostPort(target); err == nil {
		if _, err := netip.ParseAddr(host); err != nil && g.hostPorts[net.JoinHostPort(canonicalName(host), port)] {
			return nil
		}
	}
	u := a.Unmap()
	if g.addrPorts[netip.AddrPortFrom(u, ap.Port())] {
		return nil
	}
	for _, p := range g.nets {
		if p.Contains(u) {
			return nil
		}
	}
	if r := refusedRange(a); r != "" {
		return fmt.Errorf("%w: %s is %s", ErrRefused, ap, r)
	}
	return nil
}

// refusedRange names the special-purpose range a is in, or returns "" for
// a public unicast address.
func refusedRange(a netip.Addr) string {
	if !a.IsValid() {
		return "not a valid address"
	}
	if a.Is4In6() {
		if r := refusedRange(a.Unmap()); r != "" {
			return "an IPv4-mapped IPv6 address of " + r
		}
		return ""
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(a) {
			if r.embedded != nil {
				if r4 := refusedRange(r.embedded(a)); r4 != "" {
					return r.name + " embedding " + r4
				}
				continue
			}
			return r.name + " (" + r.prefix.String() + ")"
		}
	}
	return ""
}

// refusedRanges are the special-purpose ranges (IANA registries) that a
// model endpoint has no business in. A range with embedded set is refused
// only when the IPv4 address it embeds is.
var refusedRanges = []struct {
	prefix   netip.Prefix
	name     string
	embedded func(netip.Addr) netip.Addr
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\"", nil},
	{netip.MustParsePrefix("10.0.0.0/8"), "private", nil},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT", nil},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback", nil},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)", nil},
	{netip.MustParsePrefix("172.16.0.0/12"), "private", nil},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments", nil},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation", nil},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast", nil},
	{netip.MustParsePrefix("192.168.0.0/16"), "private", nil},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking", nil},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation", nil},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation", nil},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast", nil},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved or broadcast", nil},

	{netip.MustParsePrefix("::/96"), "unspecified, loopback or IPv4-compatible", nil}, // ::, ::1, ::a.b.c.d
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated", nil},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64", func(a netip.Addr) netip.Addr { return low32(a) }},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64", nil},
	{netip.MustParsePrefix("100::/64"), "discard-only", nil},
	{netip.MustParsePrefix("2001::/32"), "Teredo", nil},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation", nil},
	{netip.MustParsePrefix("2002::/16"), "6to4", func(a netip.Addr) netip.Addr {
		b := a.As16()
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
	}},
	{netip.MustParsePrefix("fc00::/7"), "unique-local", nil},
	{netip.MustParsePrefix("fe80::/10"), "link-local", nil},
	{netip.MustParsePrefix("fec0::/10"), "site-local", nil},
	{netip.MustParsePrefix("ff00::/8"), "multicast", nil},
}

func low32(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
}

// canonicalName lower-cases a host name and drops one trailing dot.
func canonicalName(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// checkName refuses host names that are numbers in disguise (forms that
// inet_aton accepts, such as 2130706433, 0x7f000001, 0177.0.0.1 or 127.1,
// which some resolvers turn into addresses), "localhost" names, and
// anything that is not a plain ASCII DNS name.
func checkName(name string) error {
	if name == "" {
		return errors.New("it is empty")
	}
	if a, ok := looseIPv4(name); ok {
		return fmt.Errorf("it is the address %s written in a non-standard form; write addresses as a.b.c.d", a)
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return errors.New("it names this machine")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("it is not a valid DNS name")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errors.New("it must be an ASCII DNS name (use punycode for other scripts)")
			}
		}
	}
	return nil
}

// looseIPv4 parses s the way inet_aton does: one to four parts separated
// by dots, each decimal, octal (leading 0) or hexadecimal (leading 0x),
// the last part filling the remaining bytes.
func looseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base := 10
		switch {
		case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
		case p == "0x" || p == "0X":
			p = "0"
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(32-8*(len(vals)-1)) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}
