package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward"
	"steward/internal/testproc"
	"steward/zone"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestZoneServeUpdate signs a generated zone, serves it with updates
// allowed, and changes it with BIND's nsupdate (TSIG key from
// rndc-confgen): a DS replaced, a delegation added with glue, one removed.
// dig sees each change signed at once; the version with the ZONEMD
// follows, and the zone taken by AXFR passes dnssec-verify and
// ldns-verify-zone with its ZONEMD checked. Bad updates are refused and
// change nothing.
func TestZoneServeUpdate(t *testing.T) {
	nsupdate := testproc.Need(t, "nsupdate")
	dig := testproc.Need(t, "dig")
	keygen := testproc.Need(t, "rndc-confgen")
	verify := testproc.Need(t, "dnssec-verify")
	ldns := testproc.Need(t, "ldns-verify-zone")

	dir := t.TempDir()
	in, signed, keys := filepath.Join(dir, "in.zone"), filepath.Join(dir, "signed.zone"), filepath.Join(dir, "keys")
	mustRun(t, "zone", "generate", "--delegations", "300", "--seed", "3", "--out", in)
	mustRun(t, "zone", "sign", "--in", in, "--out", signed, "--keys", keys)
	keyFile := filepath.Join(dir, "update.conf") // nsupdate -k takes a name ending in .key for a dnssec-keygen pair
	if out, err := osexec.Command(keygen, "-a", "-A", "hmac-sha256", "-k", "update-key", "-c", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("rndc-confgen: %v\n%s", err, out)
	}
	z0, err := zone.LoadFile(signed, ".")
	if err != nil {
		t.Fatal(err)
	}
	// A delegation with a DS to replace, one without glue below it to
	// remove.
	var withDS, plain string
	for _, n := range z0.Names() {
		if cut, ok := z0.Delegation(n); !ok || cut != n {
			continue
		}
		below := z0.Next(n)
		hasGlue := below != "" && dns.IsSubDomain(n, below)
		switch {
		case withDS == "" && len(z0.RRset(n, dns.TypeDS)) > 0:
			withDS = n
		case plain == "" && !hasGlue && n != withDS:
			plain = n
		}
	}

	port := testproc.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	m := &Main{Stdout: &logs, Stderr: &logs, Clock: steward.SystemClock{}}
	go func() {
		done <- m.Run(ctx, []string{"zone", "serve", "--in", signed, "--dns", addr, "--keys", keys,
			"--tsig-file", keyFile, "--allow-update", "127.0.0.1/32", "--allow-transfer", "127.0.0.1/32", "--zonemd-after", "300ms", "--compact-after", "3"})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("zone serve: %v", err)
		}
	}()
	ask := func(name string, typ uint16) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, typ)
		q.SetEdns0(4096, true)
		var r *dns.Msg
		var err error
		for range 100 {
			if r, _, err = (&dns.Client{Net: "tcp"}).Exchange(q, addr); err == nil {
				return r
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("query %s: %v\n%s", name, err, logs.String())
		return nil
	}
	serial := func() uint32 { return ask(".", dns.TypeSOA).Answer[0].(*dns.SOA).Serial }
	if s := serial(); s != z0.Serial {
		t.Fatalf("serving serial %d, want %d", s, z0.Serial)
	}

	update := func(key bool, script string) (string, error) {
		args := []string{}
		if key {
			args = append(args, "-k", keyFile)
		}
		cmd := osexec.Command(nsupdate, args...)
		cmd.Stdin = strings.NewReader(fmt.Sprintf("server 127.0.0.1 %d\nzone .\n%ssend\n", port, script))
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	// Refused, and nothing changes: at the apex, a signer's record,
	// without the key, outside the zone's names (NOTZONE is the server's
	// answer for another zone's name; nsupdate checks it first).
	for _, bad := range []struct {
		key    bool
		script string
		want   string
	}{
		{true, "update add . 3600 IN TXT \"apex\"\n", "REFUSED"},
		{true, "update add " + withDS + " 3600 IN NSEC a. NS\n", "REFUSED"},
		{false, "update add newtld. 3600 IN NS ns.example.\n", "REFUSED"},
		// A DS left at a name that is no longer a delegation.
		{true, "update delete " + withDS + " NS\n", "REFUSED"},
		// A prerequisite that does not hold.
		{true, "prereq nxdomain " + withDS + "\nupdate add newtld. 3600 IN NS ns.example.\n", "YXDOMAIN"},
	} {
		out, err := update(bad.key, bad.script)
		if err == nil || !strings.Contains(out, bad.want) {
			t.Errorf("update %q: %v, want %s\n%s", bad.script, err, bad.want, out)
		}
	}
	if s := serial(); s != z0.Serial {
		t.Fatalf("a refused update changed the serial to %d", s)
	}

	newDS := "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	script := "update delete " + withDS + " DS\n" +
		"update add " + withDS + " 86400 IN DS " + newDS + "\n" +
		"update add zzzz-steward. 172800 IN NS ns1.zzzz-steward.\n" +
		"update add ns1.zzzz-steward. 172800 IN A 192.0.2.53\n" +
		"update delete " + plain + "\n"
	if out, err := update(true, script); err != nil {
		t.Fatalf("nsupdate: %v\n%s\n%s", err, out, logs.String())
	}
	r := ask(withDS, dns.TypeDS)
	if len(r.Answer) != 2 || !strings.Contains(r.Answer[0].String(), "12345") || r.Answer[1].(*dns.RRSIG).TypeCovered != dns.TypeDS {
		t.Errorf("the new DS, signed: %v", r.Answer)
	}
	if r := ask("www."+plain, dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("%s removed: rcode %s", plain, dns.RcodeToString[r.Rcode])
	}
	if r := ask("zzzz-steward.", dns.TypeNS); len(r.Ns) == 0 || r.Ns[0].Header().Rrtype != dns.TypeNS {
		t.Errorf("zzzz-steward.: no referral: %v", r)
	}

	// The ZONEMD follows, in the next version; then a flat copy of it is
	// served (the update changed more than --compact-after names).
	deadline := time.Now().Add(20 * time.Second)
	for serial() != z0.Serial+2 || !strings.Contains(logs.String(), "zone compacted") {
		if time.Now().After(deadline) {
			t.Fatalf("no version with a ZONEMD, or no flat copy, after the update:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	axfr := osexec.Command(dig, "-k", keyFile, "-p", fmt.Sprint(port), "@127.0.0.1", ".", "AXFR", "+nocmd", "+nostats", "+onesoa")
	b, err := axfr.Output()
	if err != nil {
		t.Fatalf("dig AXFR: %v", err)
	}
	var text strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, ";") && !strings.Contains(line, "\tTSIG\t") {
			text.WriteString(line + "\n")
		}
	}
	got := filepath.Join(dir, "got.zone")
	if err := os.WriteFile(got, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "ZONEMD") || !strings.Contains(text.String(), "zzzz-steward.") {
		t.Fatalf("the transferred zone lacks the ZONEMD or the change")
	}
	if b, err := osexec.Command(verify, "-o", ".", got).CombinedOutput(); err != nil {
		t.Errorf("dnssec-verify: %v\n%s", err, b)
	}
	if b, err := osexec.Command(ldns, "-ZZ", got).CombinedOutput(); err != nil {
		t.Errorf("ldns-verify-zone -ZZ: %v\n%s", err, b)
	}

	// Updates go on from the flat copy.
	if out, err := update(true, "update add zzzz-steward. 86400 IN DS "+newDS+"\n"); err != nil {
		t.Fatalf("nsupdate after the flat copy: %v\n%s", err, out)
	}
	if r := ask("zzzz-steward.", dns.TypeDS); len(r.Answer) != 2 {
		t.Errorf("zzzz-steward. DS after the flat copy: %v", r.Answer)
	}
}

// TestZoneServeUpdateUsage: flags that cannot work are refused before
// anything is served.
func TestZoneServeUpdateUsage(t *testing.T) {
	dir := t.TempDir()
	in, signed, keys := filepath.Join(dir, "in.zone"), filepath.Join(dir, "signed.zone"), filepath.Join(dir, "keys")
	mustRun(t, "zone", "generate", "--delegations", "20", "--out", in)
	mustRun(t, "zone", "sign", "--in", in, "--out", signed, "--keys", keys)
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--in", signed, "--dns", "127.0.0.1:0", "--keys", keys},
		{"--in", signed, "--dns", "127.0.0.1:0", "--allow-update", "not-a-prefix"},
		{"--in", signed, "--dns", "127.0.0.1:0", "--allow-transfer", "10.0.0.0/33"},
		{"--in", signed, "--dns", "127.0.0.1:0", "--allow-update", "127.0.0.1/32"},
		{"--in", signed, "--dns", "127.0.0.1:0", "--notify", "127.0.0.1:5300"},
		{"--in", signed, "--dns", "127.0.0.1:0", "--allow-transfer", "127.0.0.1/32", "--notify", "no-port"},
		{"--in", signed, "--dns", "127.0.0.1:0", "--allow-transfer", "127.0.0.1/32", "--notify", "127.0.0.1:5300@unknown-key"},
		{"--in", signed, "--dns", "127.0.0.1:0", "--allow-update", "127.0.0.1/32", "--keys", keys, "--tsig-file", filepath.Join(dir, "missing.conf")},
	} {
		out, err := run(t, append([]string{"zone", "serve"}, args...)...)
		if exitCode(err) != 2 {
			t.Errorf("zone serve %q: exit %d (%v), want 2\n%s", args, exitCode(err), err, out)
		}
	}
	out, err := run(t, "zone", "serve", "--in", signed, "--dns", "127.0.0.1:0", "--allow-update", "127.0.0.1/32", "--keys", empty)
	if err == nil || !strings.Contains(out+err.Error(), "no KSK and ZSK") {
		t.Errorf("keys from an empty directory: %v\n%s", err, out)
	}
}

// TestZoneServeNotify: with --notify, a secondary (NSD) follows the
// updates: it takes the zone by AXFR, then each change by IXFR after
// steward's NOTIFY, signed with the TSIG key.
func TestZoneServeNotify(t *testing.T) {
	nsd := testproc.Need(t, "nsd")
	nsupdate := testproc.Need(t, "nsupdate")
	keygen := testproc.Need(t, "rndc-confgen")
	dir := t.TempDir()
	in, signed, keys := filepath.Join(dir, "in.zone"), filepath.Join(dir, "signed.zone"), filepath.Join(dir, "keys")
	mustRun(t, "zone", "generate", "--delegations", "100", "--seed", "4", "--out", in)
	mustRun(t, "zone", "sign", "--in", in, "--out", signed, "--keys", keys)
	keyFile := filepath.Join(dir, "xfr.conf")
	if out, err := osexec.Command(keygen, "-a", "-A", "hmac-sha256", "-k", "xfr-key", "-c", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("rndc-confgen: %v\n%s", err, out)
	}
	tsig, err := readTSIGFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	port, secPort := testproc.FreePort(t), testproc.FreePort(t)
	addr, secAddr := fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", secPort)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	m := &Main{Stdout: &logs, Stderr: &logs, Clock: steward.SystemClock{}}
	go func() {
		done <- m.Run(ctx, []string{"zone", "serve", "--in", signed, "--dns", addr, "--keys", keys, "--tsig-file", keyFile,
			"--allow-update", "127.0.0.1/32", "--allow-transfer", "127.0.0.1/32", "--notify", secAddr})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("zone serve: %v", err)
		}
	}()

	nsdDir := t.TempDir()
	conf := testproc.NSDServer(nsdDir, secPort) + fmt.Sprintf(`	xfrd-reload-timeout: 0
remote-control:
	control-enable: no
key:
	name: "%[1]s"
	algorithm: hmac-sha256
	secret: "%[2]s"
zone:
	name: "."
	zonefile: "root.zone"
	request-xfr: 127.0.0.1@%[3]d %[1]s
	allow-notify: 127.0.0.1 %[1]s
`, tsig[0].Name, tsig[0].Secret, port)
	if err := os.WriteFile(filepath.Join(nsdDir, "nsd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	testproc.Start(t, nsd, []string{"-d", "-c", filepath.Join(nsdDir, "nsd.conf")}, nsdDir)

	serialAt := func(a string) uint32 {
		q := new(dns.Msg)
		q.SetQuestion(".", dns.TypeSOA)
		r, _, err := new(dns.Client).Exchange(q, a)
		if err != nil || len(r.Answer) == 0 {
			return 0
		}
		return r.Answer[0].(*dns.SOA).Serial
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(filepath.Join(nsdDir, "nsd.log"))
				t.Fatalf("%s:\nsteward:\n%s\nnsd:\n%s", what, testproc.Tail(logs.String(), 3000), testproc.Tail(string(b), 3000))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("steward serving", func() bool { return serialAt(addr) != 0 })
	first := serialAt(addr)
	waitFor("NSD took the zone", func() bool { return serialAt(secAddr) == first })

	cmd := osexec.Command(nsupdate, "-k", keyFile)
	cmd.Stdin = strings.NewReader(fmt.Sprintf("server 127.0.0.1 %d\nzone .\nupdate add zzzz-notify. 172800 IN NS ns.example.net.\nsend\n", port))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsupdate: %v\n%s", err, out)
	}
	waitFor("NSD took the change", func() bool { return serialAt(secAddr) > first })
	q := new(dns.Msg)
	q.SetQuestion("zzzz-notify.", dns.TypeNS)
	r, _, err := new(dns.Client).Exchange(q, secAddr)
	if err != nil || len(r.Ns) == 0 || r.Ns[0].(*dns.NS).Ns != "ns.example.net." {
		t.Errorf("NSD's referral for the new delegation: %v %v", err, r)
	}
	if !strings.Contains(logs.String(), "type=IXFR style=IXFR") {
		t.Errorf("NSD did not take the change by IXFR:\n%s", logs.String())
	}
}
