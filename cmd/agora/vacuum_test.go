package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestVacuumCommand(t *testing.T) {
	dir := seedStore(t)
	export := func() string {
		t.Helper()
		out, _, err := runAgora(t, "export", "--data", dir, "--format", "arena-jsonl", "--output", "-", "--contributors", "omit")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := export()
	out, _, err := runAgora(t, "vacuum", "--data", dir, "--page-size", "8192")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "16384-byte pages") || !strings.Contains(out, "→ 8192-byte pages") {
		t.Errorf("vacuum said %q, want the page sizes before and after", out)
	}
	if got := export(); got != want || strings.Count(got, "\n") != 5 {
		t.Errorf("export after the vacuum:\n%s\nbefore:\n%s", got, want)
	}

	// A store in use is refused.
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Counts(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, err = runAgora(t, "vacuum", "--data", dir)
	s.Close()
	if err == nil || !strings.Contains(err.Error(), "stop agora serve first") || exitCode(err) != 1 {
		t.Errorf("vacuum of a store in use: %v, want an error naming the running server", err)
	}

	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"vacuum", "--data", filepath.Join(t.TempDir(), "none")}, "no store to vacuum", 1},
		{[]string{"vacuum", "--data", dir, "extra"}, "takes no arguments", 2},
		{[]string{"vacuum", "--data", dir, "--page-size", "1000"}, "power of two", 1},
	} {
		_, _, err := runAgora(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != tc.code {
			t.Errorf("agora %s: %v (exit %d), want %q (exit %d)", strings.Join(tc.args, " "), err, exitCode(err), tc.want, tc.code)
		}
	}
}
