package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward"
	"steward/dnssec"
	"steward/internal/testproc"
	"steward/zone"
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

// TestZoneSign signs a generated zone with fresh keys, checks it in
// process and with kzonecheck, writes the keys in BIND's format and serves
// the signed zone: the SOA comes back with its signature.
func TestZoneSign(t *testing.T) {
	dir := t.TempDir()
	in, out, keys := filepath.Join(dir, "in.zone"), filepath.Join(dir, "out.zone"), filepath.Join(dir, "keys")
	mustRun(t, "zone", "generate", "--delegations", "200", "--seed", "9", "--out", in)
	report := mustRun(t, "zone", "sign", "--in", in, "--out", out, "--keys", keys, "--verify")
	if !strings.Contains(report, "signed .:") || !strings.Contains(report, "IN\tDS\t") {
		t.Errorf("report: %s", report)
	}
	z, err := zone.LoadFile(out, ".")
	if err != nil {
		t.Fatal(err)
	}
	if err := dnssec.Verify(z, time.Now()); err != nil {
		t.Fatal(err)
	}
	if len(z.RRset(".", dns.TypeZONEMD)) != 1 {
		t.Error("no ZONEMD")
	}
	kzonecheck := testproc.Need(t, "kzonecheck")
	if b, err := osexec.Command(kzonecheck, "-o", ".", "-d", "on", out).CombinedOutput(); err != nil {
		t.Fatalf("kzonecheck: %v\n%s", err, b)
	}
	names, _ := filepath.Glob(filepath.Join(keys, "K.+013+*"))
	if len(names) != 4 {
		t.Errorf("key files %v, want a .key and a .private for each of 2 keys", names)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".key") {
			rr, err := dns.NewRR(string(b))
			if err != nil {
				t.Fatal(err)
			}
			k := rr.(*dns.DNSKEY)
			if len(z.RRset(".", dns.TypeDNSKEY)) != 2 || !slices.ContainsFunc(z.RRset(".", dns.TypeDNSKEY), func(x dns.RR) bool { return x.(*dns.DNSKEY).KeyTag() == k.KeyTag() }) {
				t.Errorf("%s: key %d is not in the zone", n, k.KeyTag())
			}
			priv, err := os.Open(strings.TrimSuffix(n, ".key") + ".private")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.ReadPrivateKey(priv, n); err != nil {
				t.Errorf("%s: %v", n, err)
			}
			priv.Close()
		}
	}

	// Served.
	port := testproc.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	m := &Main{Stdout: &logs, Stderr: &logs, Clock: steward.SystemClock{}}
	go func() {
		done <- m.Run(ctx, []string{"zone", "serve", "--in", out, "--dns", fmt.Sprintf("127.0.0.1:%d", port)})
	}()
	q := new(dns.Msg)
	q.SetQuestion(".", dns.TypeSOA)
	q.SetEdns0(1232, true)
	var r *dns.Msg
	for range 100 {
		if r, _, err = new(dns.Client).Exchange(q, fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err != nil {
		t.Fatalf("query: %v\n%s", err, logs.String())
	}
	if err := <-done; err != nil {
		t.Errorf("zone serve: %v", err)
	}
	if !r.Authoritative || len(r.Answer) != 2 || r.Answer[0].(*dns.SOA).Serial != z.Serial {
		t.Errorf("answer: %v", r)
	}
}

// TestZoneSignBadInput: a malformed zone file is an error naming its line,
// and nothing is written.
func TestZoneSignBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ text, want string }{
		"bad address": {". 86400 IN SOA a. b. 1 2 3 4 5\nx. 3600 IN NS ns.x.\nns.x. 3600 IN A 300.1.2.3\n", "line: 3"},
		"no SOA":      {"x. 3600 IN NS ns.x.\n", "no SOA"},
		"two SOA":     {". 86400 IN SOA a. b. 1 2 3 4 5\n. 86400 IN SOA a. b. 2 2 3 4 5\n", "SOA"},
		"DS at apex":  {". 86400 IN SOA a. b. 1 2 3 4 5\n. 3600 IN DS 1 13 2 " + strings.Repeat("ab", 32) + "\n", "DS at the apex"},
		"include":     {". 86400 IN SOA a. b. 1 2 3 4 5\n$INCLUDE /etc/passwd\n", "line: 2"},
	} {
		in, out := filepath.Join(dir, "in.zone"), filepath.Join(dir, "out.zone")
		if err := os.WriteFile(in, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := run(t, "zone", "sign", "--in", in, "--out", out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output written", name)
		}
	}
}
