package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestZoneGenerate writes a synthetic zone to a file and to standard
// output, the same bytes both ways, and imports it into an instance.
func TestZoneGenerate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gen.zone")
	out := mustRun(t, "zone", "generate", "--delegations", "300", "--seed", "5", "--out", file)
	if !strings.Contains(out, "300 delegations") {
		t.Errorf("report: %s", out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	stdout := mustRun(t, "zone", "generate", "--delegations", "300", "--seed", "5")
	if !strings.HasPrefix(stdout, string(b)) {
		t.Error("the zone on standard output differs from the file")
	}
	dir := freshDemo(t)
	out = mustRun(t, "import", "rootzone", "--data", dir, file)
	if !strings.Contains(out, "300 TLDs") {
		t.Errorf("import: %s", out)
	}
}

func TestZoneUsage(t *testing.T) {
	for _, args := range [][]string{
		{"zone"}, {"zone", "frobnicate"}, {"zone", "generate"},
		{"zone", "generate", "--delegations", "0"},
		{"zone", "generate", "--delegations", "10", "extra"},
		{"zone", "generate", "--delegations", "10", "--serial", "5000000000"},
	} {
		out, err := run(t, args...)
		if exitCode(err) != 2 {
			t.Errorf("steward %q: exit %d (%v), want 2\n%s", args, exitCode(err), err, out)
		}
	}
}
