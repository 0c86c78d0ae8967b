// Command agora is the one binary of Agora: it serves the arena, rates
// battles, exports training data and imports existing data sets.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// env is what a subcommand gets from the outside world. Tests build one by
// hand; main builds it from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand of agora.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

// commands lists every subcommand. Each lives in a file of its own name.
var commands = map[string]command{
	"serve":       {"run the arena server", runServe},
	"leaderboard": {"rate models from a file of battles or the live store", runLeaderboard},
	"gen-battles": {"write synthetic battles from known ratings (benchmarks)", runGenBattles},
	"export":      {"write reward-model training data from the store", runExport},
	"import":      {"read an existing preference data set into the store", runImport},
	"simulate":    {"compare matchmaking policies on simulated votes", runSimulate},
	"redteam":     {"attack a simulated arena with defences off and on", runRedteam},
	"vacuum":      {"rewrite the store with 16 KiB pages and no free pages (server stopped)", runVacuum},
	"loadtest":    {"drive a server with simulated contributors and report latencies", runLoadtest},
	"backup":      {"write a consistent copy of the store while the server runs", runBackup},
	"restore":     {"check a backup and copy it into a fresh data directory", runRestore},
	"version":     {"print the version, VCS revision and Go version of this binary", runVersion},
	"verify":      {"check a server's verifiable log, a receipt or a vote against signed checkpoints", runVerify},
	"witness":     {"follow another server's log, check and cosign its checkpoints", runWitness},
	"release":     {"build a reproducible dataset release with its manifest and shares, appended to the log", runRelease},
}

// usageError is returned for bad command lines; main exits 2 for it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if err := run(ctx, os.Args[1:], e); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "agora:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 0 for help, 2 for usage and configuration errors, 1 otherwise.
func exitCode(err error) int {
	var u usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// run runs the subcommand named by args[0].
func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return flag.ErrHelp
	}
	if args[0] == "--version" || args[0] == "-version" {
		return runVersion(ctx, nil, e)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		printUsage(e.stderr)
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	return cmd.run(ctx, args[1:], e)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Agora: an RLHF preference-collection and evaluation server.")
	fmt.Fprintln(w, "\nUsage: agora COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-12s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'agora COMMAND --help' for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to e.stderr.
func newFlagSet(name, usage string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: agora %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
