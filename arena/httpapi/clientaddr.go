package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Proxies are the reverse proxies (load balancers, CDNs) whose word about
// a request's client is believed. A request from anywhere else is counted
// against its socket's address, whatever headers it carries.
type Proxies []netip.Prefix

// ParseProxies reads CIDRs ("10.0.0.0/8") or single addresses.
func ParseProxies(list []string) (Proxies, error) {
	var ps Proxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			ps = append(ps, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, &net.ParseError{Type: "CIDR or IP address", Text: s}
		}
		ps = append(ps, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return ps, nil
}

// trusts reports whether a is one of the proxies.
func (ps Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr returns the address of the socket r came on.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// clientAddr returns the address r comes from. From a trusted proxy that
// is CF-Connecting-IP when set, else the right-most address of
// X-Forwarded-For that is not itself a trusted proxy (the left part of
// that header is whatever the client wrote). From anyone else it is the
// socket's address: a spoofed header changes nothing.
func (ps Proxies) clientAddr(r *http.Request) netip.Addr {
	peer := peerAddr(r)
	if !peer.IsValid() || !ps.trusts(peer) {
		return peer
	}
	if cf := strings.TrimSpace(r.Header.Get("CF-Connecting-IP")); cf != "" {
		if a, err := netip.ParseAddr(cf); err == nil {
			return a.Unmap()
		}
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a hop we cannot read: believe no further
		}
		client = a.Unmap()
		if !ps.trusts(client) {
			break
		}
	}
	return client
}

// scheme returns the scheme the client used: https over TLS, or what a
// trusted proxy says in X-Forwarded-Proto.
func (ps Proxies) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); (p == "https" || p == "http") && ps.trusts(peerAddr(r)) {
		return p
	}
	return "http"
}

// addrKey is the unit that address limits count: an IPv4 address, or an
// IPv6 /64 (one customer's network, which hands out addresses freely).
func addrKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// normalOrigin returns origin as scheme://host:port in lower case with the
// default port written out, and whether it is an http(s) origin at all.
func normalOrigin(origin string) (string, bool) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme != "http" && scheme != "https":
		return "", false
	case port == "" && scheme == "http":
		port = "80"
	case port == "":
		port = "443"
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port), true
}
