package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"steward"
	"steward/rootzone"
)

func (m *Main) importCmd(ctx context.Context, args []string) error {
	if len(args) > 0 && (args[0] == "rir-stats" || args[0] == "iana-registry") {
		return m.importNumbers(ctx, args[0], args[1:])
	}
	if len(args) == 0 || args[0] != "rootzone" {
		return usagef("import: give rootzone, rir-stats or iana-registry")
	}
	fs := m.flags("import rootzone", "[--data DIR] [--json] FILE")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("import rootzone takes one zone file")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	imp, stats, err := rootzone.Parse(pos[0], f)
	if err != nil {
		var pe *rootzone.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("%w (nothing imported)", err)
		}
		return err
	}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, checkpointInterval: -1})
	if err != nil {
		return err
	}
	defer in.Close()
	v, err := in.store.Do(ctx, steward.ImportRootZone(steward.ActorImport, *imp))
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing imported)", pos[0], err)
	}
	c := v.(*steward.ImportCounts)
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"file": pos[0], "read": stats, "registry": c})
	}
	fmt.Fprintf(m.Stdout, "%s: %d records read (%d DNSSEC records skipped: steward signs the zone itself), %d TLDs, %d DS, %d glue names\n",
		pos[0], stats.Records, stats.Skipped, stats.TLDs, stats.DS, stats.Glue)
	fmt.Fprintf(m.Stdout, "registry: %d TLDs added, %d changed, %d removed, %d unchanged; apex %s\n",
		c.Added, c.Changed, c.Removed, c.Unchanged, map[bool]string{true: "set", false: "unchanged"}[c.ApexSet])
	return nil
}
