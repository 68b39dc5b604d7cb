package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"steward/checks"
	"steward/internal/testproc"
)

func TestCheckDelegationUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check"}, {"check", "zone"}, {"check", "delegation"},
		{"check", "delegation", "example.test."},
		{"check", "delegation", "example.test.", "--ns", "bad name=192.0.2.1"},
		{"check", "delegation", "example.test.", "--ns", "ns1.example.test=300.1.1.1"},
		{"check", "delegation", "example.test.", "--ns", "ns1.example.test=192.0.2.1", "--ds", "1 13 2 XYZ"},
		{"check", "delegation", "example.test.", "--ns", "ns1.example.test=192.0.2.1", "--ns", "ns1.example.test=192.0.2.2"},
		{"check", "delegation", "example.test.", "--ns", "ns1.example.test=192.0.2.1", "--port", "70000"},
	} {
		out, err := run(t, args...)
		if exitCode(err) != 2 {
			t.Errorf("steward %q: exit %d (%v), want 2\n%s", args, exitCode(err), err, out)
		}
	}
}

// TestCheckDelegationNoServer checks a delegation whose name servers are
// loopback addresses where nothing listens: the text report names the
// failing cases with their evidence, --json gives the report, and the
// exit status is 1.
func TestCheckDelegationNoServer(t *testing.T) {
	port := testproc.FreePort(t)
	args := []string{"check", "delegation", "example.test", "--ns", "ns1.example.test=127.0.0.1", "--ns", "ns2.example.test=127.0.0.1",
		"--port", fmt.Sprint(port), "--allow-loopback", "--timeout", "500ms",
		"--ds", "12345 13 2 " + strings.Repeat("ab", 32)}
	out, err := run(t, args...)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d (%v), want 1\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"Checks of example.test.", "ERROR   CONNECTIVITY01", "DEL_NS_SAME_IP", "| ns1.example.test. (127.0.0.1) over udp: example.test. IN SOA"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, append(args, "--json")...)
	if exitCode(err) != 1 {
		t.Fatalf("--json: exit %d (%v)", exitCode(err), err)
	}
	var rep checks.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	levels := rep.CaseLevels()
	for _, c := range []string{"CONNECTIVITY01", "CONNECTIVITY02", "DELEGATION02", "BASIC02"} {
		if levels[c] != checks.ERROR {
			t.Errorf("%s: %s, want ERROR", c, levels[c])
		}
	}
}
