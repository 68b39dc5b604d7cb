package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steward/internal/testdata"
)

func TestParamsImportExport(t *testing.T) {
	dir := freshDemo(t)
	xmlFile := testdata.Shared("iana-registries", "multicast-addresses.xml")
	if _, err := os.Stat(xmlFile); err != nil {
		testdata.Missing(t, err)
	}
	out := mustRun(t, "params", "import", "--data", dir, xmlFile)
	if !strings.Contains(out, "multicast-addresses-1: Local Network Control Block") {
		t.Fatalf("import:\n%s", out)
	}
	size := ledgerSize(t, dir)
	// Importing again conflicts and changes nothing.
	if _, err := run(t, "params", "import", "--data", dir, xmlFile); err == nil || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("second import: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(`<registry id="x"><title>X</title><record><value>1`), 0o644)
	if _, err := run(t, "params", "import", "--data", dir, bad); err == nil || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("malformed file: %v", err)
	}
	if ledgerSize(t, dir) != size {
		t.Error("a refused import changed the ledger")
	}
	if out := mustRun(t, "params", "list", "--data", dir); !strings.Contains(out, "multicast-addresses-2\t") {
		t.Errorf("list:\n%s", out)
	}
	x := mustRun(t, "params", "export", "--data", dir, "multicast-addresses-1")
	if !strings.Contains(x, `<registry xmlns="http://www.iana.org/assignments" id="multicast-addresses-1">`) || !strings.Contains(x, "<value>224.0.0.1</value>") {
		t.Errorf("XML export:\n%.600s", x)
	}
	c := mustRun(t, "params", "export", "--data", dir, "--format", "csv", "multicast-addresses-1")
	if !strings.HasPrefix(c, "Value,Description,Reference,Registration Procedure,Date\r\n224.0.0.0,Base Address (Reserved),[RFC1112][Jon_Postel],Expert Review,") {
		t.Errorf("CSV export:\n%.400s", c)
	}
	if _, err := run(t, "params", "export", "--data", dir, "no-such"); err == nil {
		t.Error("exported a missing registry")
	}
	if o := mustRun(t, "audit", "--state", filepath.Join(t.TempDir(), "a.json"), dir); !strings.Contains(o, "audit passed") {
		t.Errorf("audit:\n%s", o)
	}
}
