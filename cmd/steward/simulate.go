package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"steward/audit"
	"steward/charter"
	"steward/simulate"
)

// simulate replays the change requests of an instance's ledger under
// another charter and compares.
func (m *Main) simulate(ctx context.Context, args []string) error {
	fs := m.flags("simulate", "--charter FILE|PRESET [flags] URL|DIR")
	file := fs.String("charter", "", "the charter to simulate: a charter file, or the name of a preset ("+strings.Join(charter.PresetNames(), ", ")+")")
	key := fs.String("key", "", "pin the log's verifier key (note vkey format)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *file == "" {
		return usagef("simulate takes --charter and one source: the URL of a running instance or a data directory")
	}
	var text []byte
	name := *file
	if _, err := os.Stat(*file); err == nil {
		if text, err = os.ReadFile(*file); err != nil {
			return err
		}
	} else if text, err = charter.Preset(*file); err != nil {
		return usagef("--charter: %s is neither a file nor a preset (%s)", *file, strings.Join(charter.PresetNames(), ", "))
	}
	c, err := charter.Parse(name, text)
	if err != nil {
		return fmt.Errorf("the charter is not valid:\n%w", err)
	}
	src, closeSrc, err := openLogSource(ctx, pos[0])
	if err != nil {
		return err
	}
	defer closeSrc()
	sim := simulate.New(c)
	// The ledger is verified as an audit does, and observed as it replays.
	if _, err := audit.Audit(ctx, src, audit.Options{Key: *key, Observe: sim.Observe}); err != nil {
		return err
	}
	rep, err := sim.Report(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(m.Stdout, "%d change requests of %s, recorded and under %q:\n\n", rep.Totals.Requests, orDash(rep.Instance), rep.Charter)
	tw := tabwriter.NewWriter(m.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tKIND\tTLD\tRECORDED BODIES\tOUTCOME\tDAYS\tSIMULATED BODIES\tOUTCOME\tDAYS")
	for _, q := range rep.Requests {
		fmt.Fprintf(tw, "%d\t%s\t.%s\t%s\t%s\t%.1f\t%s\t%s\t%.1f\n", q.ID, q.Kind, q.TLD,
			bodies(q.Recorded), q.Recorded.Outcome, q.Recorded.Days, bodies(q.Simulated), q.Simulated.Outcome, q.Simulated.Days)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	t := rep.Totals
	fmt.Fprintf(m.Stdout, "\nSame outcome: %d; different: %d; undetermined (a body the charter names did not vote on the record): %d.\n", t.Same, t.Different, t.Undetermined)
	fmt.Fprintf(m.Stdout, "Mean time from submission to the end: %.1f days recorded, %.1f days simulated.\n", t.RecordedDays, t.SimDays)
	if len(t.Bodies) > 0 {
		var parts []string
		for _, b := range c.Bodies {
			if n := t.Bodies[b.ID]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", b.ID, n))
			}
		}
		fmt.Fprintf(m.Stdout, "Requests each body would decide: %s.\n", strings.Join(parts, ", "))
	}
	return nil
}

func bodies(p simulate.Path) string {
	if len(p.Bodies) == 0 {
		return "—"
	}
	s := strings.Join(p.Bodies, "→")
	if len(p.Advice) > 0 {
		s += " (advice: " + strings.Join(p.Advice, ",") + ")"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "the instance"
	}
	return s
}
