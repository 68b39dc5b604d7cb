package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"steward/internal/testdata"
)

// TestNumbersCLI imports the real statistics and IANA files, re-imports
// them (nothing changes), exports them, allocates, returns and evaluates
// the policies.
func TestNumbersCLI(t *testing.T) {
	dir := freshDemo(t)
	afrinic := testdata.Shared("rir-stats", "delegated-afrinic-extended-20240105")
	ipv4 := testdata.Shared("iana-registries", "ipv4-address-space.xml")
	as := filepath.Join("..", "..", "ianaxml", "testdata", "as-numbers.xml")
	for _, p := range []string{afrinic, ipv4} {
		if _, err := os.Stat(p); err != nil {
			testdata.Missing(t, err)
		}
	}
	out := mustRun(t, "import", "iana-registry", "--data", dir, ipv4, as)
	if !strings.Contains(out, "263 records read") || !strings.Contains(out, "263 added") {
		t.Fatalf("import iana-registry:\n%s", out)
	}
	out = mustRun(t, "import", "rir-stats", "--data", dir, afrinic)
	if !strings.Contains(out, "15814 added") {
		t.Fatalf("import rir-stats:\n%s", out)
	}
	out = mustRun(t, "import", "rir-stats", "--json", "--data", dir, afrinic)
	var res struct{ Registry map[string]int }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Registry["unchanged"] != 15814 || res.Registry["added"] != 0 {
		t.Fatalf("re-import: %v %s", err, out)
	}
	// A malformed file: the line is named and nothing is imported.
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("2|apnic|1|1|19850701|20140630|+1000\napnic|*|ipv4|*|1|summary\napnic|JP|ipv4|1.0.0.0|256|2002080|allocated\n"), 0o644)
	out, err := run(t, "import", "rir-stats", "--data", dir, afrinic, bad)
	if err == nil || !strings.Contains(err.Error(), "bad:3: date") || !strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("bad file: %v\n%s", err, out)
	}
	// Export gives the file's content back.
	exp := filepath.Join(t.TempDir(), "afrinic")
	mustRun(t, "export", "rir-stats", "--data", dir, "-o", exp, "afrinic")
	got, _ := os.ReadFile(exp)
	want, _ := os.ReadFile(afrinic)
	if g, w := statsContent(got), statsContent(want); !slices.Equal(g, w) {
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("exported content differs at line %d:\n got %q\nwant %q", i, g[i], w[i])
			}
		}
		t.Fatalf("exported %d content lines, the file has %d", len(g), len(w))
	}
	xml := mustRun(t, "export", "iana-registry", "--data", dir, "ipv4-address-space")
	orig, _ := os.ReadFile(ipv4)
	if xml != string(orig) {
		t.Fatalf("exported ipv4-address-space differs from the imported file")
	}
	csv := mustRun(t, "export", "iana-registry", "--format", "csv", "--data", dir, "as-numbers")
	if !strings.HasPrefix(csv, "Number,Description,WHOIS,RDAP,Reference,Registration Date\r\n") || !strings.Contains(csv, "1-1876,Assigned by ARIN") {
		t.Fatalf("as-numbers CSV:\n%s", csv)
	}
	// Lookups: an AFRINIC address under IANA's 41/8.
	out = mustRun(t, "numbers", "show", "--data", dir, "41.0.0.1")
	if !strings.Contains(out, "41.0.0.0/8") || !strings.Contains(out, "afrinic") {
		t.Fatalf("numbers show:\n%s", out)
	}
	// Allocation from AFRINIC's available space, checked.
	var avail string
	for _, l := range strings.Split(string(want), "\n") {
		if strings.Contains(l, "|ipv4|") && strings.HasSuffix(l, "|available|") && strings.Contains(l, "|256||") {
			avail = strings.Split(l, "|")[3]
			break
		}
	}
	if avail == "" {
		t.Fatal("no available /24 in the AFRINIC file")
	}
	out = mustRun(t, "numbers", "allocate", "--data", dir, "--registry", "afrinic", "--holder", "ORG-TEST", "--country", "KE", avail+"/24")
	if !strings.Contains(out, "afrinic allocated "+avail+"/24 to ORG-TEST") {
		t.Fatalf("allocate:\n%s", out)
	}
	if _, err := run(t, "numbers", "allocate", "--data", dir, "--registry", "afrinic", "--holder", "ORG-2", avail+"/25"); err == nil || !strings.Contains(err.Error(), "delegated already") {
		t.Fatalf("allocating inside an allocation: %v", err)
	}
	if _, err := run(t, "numbers", "allocate", "--data", dir, "--registry", "arin", "--holder", "AS-X", "AS4294967296"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("AS out of range: %v", err)
	}
	mustRun(t, "numbers", "return", "--data", dir, "--registry", "afrinic", "--reason", "test", avail+"/24")
	out = mustRun(t, "policy", "evaluate", "--data", dir, "--at", "2024-01-05")
	for _, want := range []string{"afrinic", "ipv4-recovered", "asn", "ipv6", "IPv4 period: 2023-09-01 to 2024-02-29"} {
		if !strings.Contains(out, want) {
			t.Fatalf("policy evaluate lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "policy", "evaluate", "--json", "--data", dir)
	var rep struct {
		Grants []struct{ Registry, Policy string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Grants) != 15 {
		t.Fatalf("policy evaluate --json: %v, %d grants", err, len(rep.Grants))
	}
	out = mustRun(t, "audit", "--state", filepath.Join(t.TempDir(), "s.json"), dir)
	if !strings.Contains(out, "audit passed") {
		t.Fatalf("audit: %s", out)
	}
}

// statsContent returns a statistics file's content: its lines without
// comments and trailing blanks, an empty trailing opaque id dropped, sorted.
func statsContent(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, " \t\r")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.Count(l, "|") == 7 {
			l = strings.TrimSuffix(l, "|")
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}
