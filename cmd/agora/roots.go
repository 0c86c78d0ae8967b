package main

// The fallback roots are Mozilla's root certificates, built in. Go uses
// them only where the system has none, as in the FROM scratch container
// image (configs/deploy/Dockerfile): model endpoints over HTTPS then still
// verify.
import _ "golang.org/x/crypto/x509roots/fallback"
