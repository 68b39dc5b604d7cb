package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"steward/zonegen"
)

func (m *Main) zoneCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("zone: give generate, sign or serve")
	}
	switch args[0] {
	case "generate":
		return m.zoneGenerate(args[1:])
	case "sign":
		return m.zoneSign(args[1:])
	case "serve":
		return m.zoneServe(ctx, args[1:])
	default:
		return usagef("zone: unknown subcommand %q: give generate, sign or serve", args[0])
	}
}

// zoneGenerate writes a synthetic root-style zone (see package zonegen).
func (m *Main) zoneGenerate(args []string) error {
	fs := m.flags("zone generate", "--delegations N [--seed S] [--serial N] [--out FILE] [--json]")
	n := fs.Int("delegations", 0, "the number of delegations (TLDs)")
	seed := fs.Uint64("seed", 1, "selects the pseudo-random sequence; the same N and seed give the same zone")
	serial := fs.Uint("serial", 0, "the SOA serial (default 2024010100)")
	out := fs.String("out", "-", "the zone file to write; - for standard output")
	asJSON := fs.Bool("json", false, "print the counts as JSON (on standard error when the zone goes to standard output)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("zone generate takes no arguments")
	}
	if *n < 1 || *n > zonegen.MaxDelegations {
		return usagef("zone generate: --delegations must be between 1 and %d", zonegen.MaxDelegations)
	}
	if *serial > 1<<32-1 {
		return usagef("zone generate: --serial must fit in 32 bits")
	}
	var w io.Writer = m.Stdout
	report := m.Stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	} else {
		report = m.Stderr
	}
	st, err := zonegen.Generate(w, zonegen.Options{Delegations: *n, Seed: *seed, Serial: uint32(*serial)})
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(report).Encode(st)
	}
	fmt.Fprintf(report, "%d delegations (%d IDN, %d in bailiwick with glue, %d with DS), %d records: %d NS, %d DS, %d glue\n",
		st.Delegations, st.IDN, st.InBailiwick, st.WithDS, st.Records, st.NS, st.DS, st.Glue)
	return nil
}
