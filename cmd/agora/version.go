package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/agora-rlhf/agora/arena/metrics"
)

const versionUsage = `version

Prints the version of this binary: its module version, the VCS revision
and commit time it was built from (and whether the work tree had
changes), and the Go version. 'agora --version' does the same.`

func runVersion(_ context.Context, args []string, e env) error {
	fs := newFlagSet("version", versionUsage, e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("version takes no arguments; got %q", fs.Arg(0))}
	}
	b := readBuildInfo()
	fmt.Fprintf(e.stdout, "agora %s\n", b.Version)
	fmt.Fprintf(e.stdout, "  revision  %s\n", or(b.Revision, "unknown"))
	fmt.Fprintf(e.stdout, "  time      %s\n", or(b.Time, "unknown"))
	fmt.Fprintf(e.stdout, "  modified  %t\n", b.Modified)
	fmt.Fprintf(e.stdout, "  go        %s %s/%s\n", b.GoVersion, runtime.GOOS, runtime.GOARCH)
	return nil
}

// readBuildInfo describes this binary from what the Go toolchain recorded
// in it: "go build" in a git work tree records the revision, its time and
// whether the tree was modified; "go install module@version" records the
// version.
func readBuildInfo() metrics.BuildInfo {
	b := metrics.BuildInfo{Version: "(devel)", GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}
