//go:build unix

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// limitFiles sets this process's soft and hard limits on open files to n
// (a number in a string; empty does nothing), as an operator's ulimit
// would: the agora run by a test then starts under that limit.
func limitFiles(n string) {
	if n == "" {
		return
	}
	v, err := strconv.ParseUint(n, 10, 64)
	if err == nil {
		err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: v, Max: v})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "AGORA_TEST_NOFILE:", err)
		os.Exit(3)
	}
}
