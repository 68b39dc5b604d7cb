package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"steward"
	"steward/checks"
)

func (m *Main) checkCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "delegation" {
		return usagef("check: give delegation")
	}
	return m.checkDelegation(ctx, args[1:])
}

// listFlag collects the values of a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func (m *Main) checkDelegation(ctx context.Context, args []string) error {
	fs := m.flags("check delegation", "ZONE --ns NAME[=ADDR[,ADDR]...]... [--ds \"KEYTAG ALG DIGESTTYPE DIGEST\"]... [--port N] [--allow-loopback] [--allow-private] [--timeout D] [--verbose] [--json]")
	var nsFlags, dsFlags listFlag
	fs.Var(&nsFlags, "ns", "a name server and its addresses, NAME=ADDR[,ADDR]; repeat for each (addresses are looked up when none are given)")
	fs.Var(&dsFlags, "ds", "a DS record of the delegation, as KEYTAG ALGORITHM DIGESTTYPE DIGEST; repeat for each")
	port := fs.Uint("port", 53, "the port to query the name servers on")
	allowLoopback := fs.Bool("allow-loopback", false, "accept and query loopback addresses (lab instances)")
	allowPrivate := fs.Bool("allow-private", false, "accept and query private-use and unique-local addresses (lab instances)")
	timeout := fs.Duration("timeout", 3*time.Second, "the time one query may take; the whole run takes at most four times that")
	verbose := fs.Bool("verbose", false, "print the evidence of every result, not only of failures")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("check delegation: give one zone")
	}
	if len(nsFlags) == 0 {
		return usagef("check delegation: give the name servers with --ns NAME=ADDR")
	}
	if *port == 0 || *port > 65535 {
		return usagef("check delegation: --port must be 1 to 65535")
	}
	d := checks.Delegation{Zone: pos[0]}
	for _, s := range nsFlags {
		ns, err := checks.ParseNameServer(s)
		if err != nil {
			return usagef("check delegation: --ns: %s", steward.ErrorMessage(err))
		}
		d.NS = append(d.NS, ns)
	}
	for _, s := range dsFlags {
		ds, err := checks.ParseDS(pos[0], s)
		if err != nil {
			return usagef("check delegation: --ds: %s", steward.ErrorMessage(err))
		}
		d.DS = append(d.DS, ds)
	}
	if _, err := d.Normalize(); err != nil {
		return usagef("check delegation: %s", steward.ErrorMessage(err))
	}
	rep := checks.Run(ctx, d, checks.Options{
		Port: uint16(*port), Timeout: *timeout, AllowLoopback: *allowLoopback, AllowPrivate: *allowPrivate,
		Now: m.Clock.Now(),
	})
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(m.Stdout, *verbose); err != nil {
		return err
	}
	if rep.Worst() == checks.ERROR {
		return errors.New("the delegation fails checks at level ERROR")
	}
	return nil
}
