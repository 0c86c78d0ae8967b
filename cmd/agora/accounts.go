package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/openid"
	"github.com/agora-rlhf/agora/arena/passkey"
	"github.com/agora-rlhf/agora/configs"
)

// passkeyConfig returns the relying party of the configuration, deriving
// what it leaves out from the address the server listens on (listen, the
// listener's actual host:port): a host name is the RP ID with an https
// origin; an IP address or none means localhost, since browsers refuse
// IP addresses as RP IDs.
func passkeyConfig(p configs.Passkeys, listen string) passkey.Config {
	host, port, _ := net.SplitHostPort(listen)
	rpID, origins := p.RPID, p.Origins
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		host = "localhost"
	}
	if rpID == "" {
		rpID = host
	}
	if len(origins) == 0 {
		switch {
		case rpID == "localhost":
			origins = []string{"http://localhost:" + port}
		case port == "443" || port == "80":
			origins = []string{"https://" + rpID}
		default:
			origins = []string{"https://" + rpID + ":" + port}
		}
	}
	return passkey.Config{RPID: rpID, Name: p.Name, Origins: origins}
}

// openIDConfig returns the OpenID Connect client of the configuration,
// with its secret from the file or environment variable it names.
// origin is the first passkey origin, for the default redirect URL.
func openIDConfig(o configs.OIDC, origin string, getenv func(string) string) (openid.Config, error) {
	secret := ""
	switch {
	case o.ClientSecretFile != "":
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return openid.Config{}, usageError{fmt.Sprintf("contributors.oidc.client_secret_file: %v", err)}
		}
		secret = strings.TrimSpace(string(b))
	case o.ClientSecretEnv != "":
		secret = getenv(o.ClientSecretEnv)
	}
	redirect := o.RedirectURL
	if redirect == "" {
		redirect = strings.TrimSuffix(origin, "/") + "/api/v1/account/oidc/callback"
	}
	return openid.Config{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: secret, RedirectURL: redirect, Scopes: o.Scopes}, nil
}

// signInMethods returns the passkey ceremonies and the OpenID provider
// that the configuration turns on (nil interfaces when off). listen is
// the configured host with the listener's actual port.
func signInMethods(c configs.Contributors, listen string, getenv func(string) string) (httpapi.PasskeyCeremonies, httpapi.OpenID, error) {
	pc := passkeyConfig(c.Passkeys, listen)
	var keys httpapi.PasskeyCeremonies
	if c.Passkeys.Enabled {
		k, err := passkey.New(pc)
		if err != nil {
			return nil, nil, usageError{"configuration: contributors.passkeys: " + err.Error()}
		}
		keys = k
	}
	if !c.OIDC.Enabled() {
		return keys, nil, nil
	}
	oc, err := openIDConfig(c.OIDC, pc.Origins[0], getenv)
	if err != nil {
		return nil, nil, err
	}
	p, err := openid.New(oc)
	if err != nil {
		return nil, nil, usageError{"configuration: contributors.oidc: " + err.Error()}
	}
	return keys, p, nil
}

// listenAddr is the configured host with the port the listener got (the
// configuration may say :0).
func listenAddr(configured string, got net.Addr) string {
	host, _, _ := net.SplitHostPort(configured)
	_, port, _ := net.SplitHostPort(got.String())
	return net.JoinHostPort(host, port)
}
