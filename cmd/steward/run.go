package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"steward"
)

// Main is the steward program; tests drive it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Clock          steward.Clock
	// Ready, if set, receives the HTTP address once serve is listening.
	Ready chan<- string
	// PasswordParams override the argon2id costs (tests make them cheap).
	PasswordParams steward.PasswordParams
}

// NewMain returns a Main on the process's standard streams.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Clock: steward.SystemClock{}, PasswordParams: steward.DefaultPasswordParams}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		return 2
	default:
		return 1
	}
}

const usage = `usage: steward COMMAND [flags] [args]

Commands:
  serve             run an instance: web UI, JSON API, log (a demo instance if none exists)
  init              create a new instance from a charter preset or file
  charter check     validate charter files, naming the line and field of every error
  charter presets   list the preset charters
  charter show      print a preset charter
  import rootzone   load a root zone file's delegations into the registry
  check delegation  run the technical checks of a delegation against its name servers
  import rir-stats  load RIR delegated(-extended) statistics files into the number registry
  import iana-registry  load IANA's XML number registries (ipv4-address-space, as-numbers, ...)
  export rir-stats  write a registry's statistics file; export iana-registry writes IANA XML or CSV
  numbers show      the blocks that hold an address, prefix or AS number
  numbers allocate  delegate a block (checked against its parent, siblings and the policy in force)
  numbers return    return or recover a block to its registry's pool
  policy evaluate   what the global number policies grant each RIR, and why
  log key           print the log's verifier key
  params            import, export (IANA XML, CSV) and list protocol parameter registries
  audit             verify an instance from its public log
  zone              generate a large synthetic zone; sign a zone file
  simulate          replay an instance's change requests under another charter
  version           print the version

Run 'steward COMMAND -h' for a command's flags.
`

// Run runs the command named by args.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return m.serve(ctx, rest)
	case "init":
		return m.initCmd(ctx, rest)
	case "charter":
		return m.charterCmd(ctx, rest)
	case "log":
		return m.logCmd(ctx, rest)
	case "audit":
		return m.audit(ctx, rest)
	case "simulate":
		return m.simulate(ctx, rest)
	case "import":
		return m.importCmd(ctx, rest)
	case "check":
		return m.checkCmd(ctx, rest)
	case "export":
		return m.exportCmd(ctx, rest)
	case "numbers":
		return m.numbersCmd(ctx, rest)
	case "policy":
		return m.policyCmd(ctx, rest)
	case "params":
		return m.paramsCmd(ctx, rest)
	case "zone":
		return m.zoneCmd(ctx, rest)
	case "version":
		fmt.Fprintln(m.Stdout, "steward", version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	default:
		fmt.Fprint(m.Stderr, usage)
		return usagef("unknown command %q", cmd)
	}
}

// flags returns a FlagSet that reports errors as usage errors.
func (m *Main) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "usage: steward %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, interleaved with positional arguments, and turns flag
// errors into usage errors.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (m *Main) logger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(m.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(m.Stderr, opts)), nil
	default:
		return nil, usagef("--log-format: want text or json, not %q", format)
	}
}

func version() string { return "0.1.0-dev" }
