package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"steward/internal/testproc"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/miekg/dns"

	"steward"
	"steward/dnssec"
)

// TestUnboundValidates runs the chain of trust end to end with a real
// validator: a signed child zone "test." served by NSD, a root zone served
// by `steward serve --dns` that delegates test. with a DS for the child's
// KSK, and a validating Unbound given steward's trust anchor (fetched from
// /zone/root-anchors.ds) and stubs pointing "." at steward and "test." at
// NSD (stubs only say where to send queries: the DS for test. still comes
// from steward's root). Unbound must report www.test. secure (AD); after
// the registry's DS for test. is changed to one that matches no key of the
// child, it must report the answer bogus (SERVFAIL), and give the data
// without AD when asked with CD. Skipped under -short and when unbound or
// nsd is missing (a failure under CI, which installs them).
func TestUnboundValidates(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test under -short")
	}
	unboundBin, nsdBin := testproc.Need(t, "unbound"), testproc.Need(t, "nsd")
	start := time.Now()

	// 1. The child zone test., signed, served by NSD.
	ksk, err := dnssec.GenerateKey("test.", dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := dnssec.GenerateKey("test.", dns.ECDSAP256SHA256, false)
	if err != nil {
		t.Fatal(err)
	}
	var child []dns.RR
	for _, s := range []string{
		"test. 3600 IN SOA ns1.test. hostmaster.test. 1 3600 900 604800 300",
		"test. 3600 IN NS ns1.test.",
		"ns1.test. 3600 IN A 127.0.0.1",
		"www.test. 3600 IN A 192.0.2.80",
	} {
		child = append(child, unboundRR(t, s))
	}
	signed, err := dnssec.Sign("test.", child, dnssec.SigningKeys{KSKs: []*dnssec.Key{ksk}, ZSKs: []*dnssec.Key{zsk}},
		dnssec.DefaultPolicy, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	nsdDir := t.TempDir()
	var zf strings.Builder
	for _, rr := range signed.Records() {
		zf.WriteString(rr.String() + "\n")
	}
	unboundWrite(t, filepath.Join(nsdDir, "test.zone"), zf.String())
	nsdPort := testproc.FreePort(t)
	unboundWrite(t, filepath.Join(nsdDir, "nsd.conf"), unboundExec(t, unboundNSDConf, map[string]any{"Server": testproc.NSDServer(nsdDir, nsdPort)}))
	testproc.Start(t, nsdBin, []string{"-d", "-c", filepath.Join(nsdDir, "nsd.conf")}, nsdDir)
	nsdAddr := fmt.Sprintf("127.0.0.1:%d", nsdPort)
	if _, err := unboundPoll(nsdAddr, "test.", dns.TypeSOA, 10*time.Second, func(r *dns.Msg) bool {
		return r.Rcode == dns.RcodeSuccess && r.Authoritative
	}); err != nil {
		unboundLogs(t, nsdDir, "nsd.log", "stderr.log")
		t.Fatalf("NSD did not serve test.: %v", err)
	}

	// 2. Steward's root zone delegates test. to ns1.test. with the child's DS.
	good := ksk.DNSKEY.ToDS(dns.SHA256)
	bad := *good
	bad.Digest = strings.Map(func(r rune) rune { // every hex digit changed
		if r == 'f' || r == 'F' {
			return '0'
		}
		if r == '9' {
			return 'a'
		}
		return r + 1
	}, good.Digest)
	rootFile := func(ds *dns.DS) string {
		return strings.Join([]string{
			". 86400 IN SOA ns.root-servers.invalid. hostmaster.root-servers.invalid. 2024010100 1800 900 604800 86400",
			". 518400 IN NS ns.root-servers.invalid.",
			"ns.root-servers.invalid. 518400 IN A 127.0.0.1",
			"test. 172800 IN NS ns1.test.",
			"ns1.test. 172800 IN A 127.0.0.1",
			fmt.Sprintf("test. 86400 IN DS %d %d %d %s", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest),
			"example. 172800 IN NS ns1.example.",
			"ns1.example. 172800 IN A 127.0.0.2",
		}, "\n") + "\n"
	}
	dir := freshDemo(t)
	work := t.TempDir()
	rootPath := filepath.Join(work, "root.zone")
	unboundWrite(t, rootPath, rootFile(good))
	mustRun(t, "import", "rootzone", "--data", dir, rootPath)

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out strings.Builder
	m := &Main{Stdout: &syncWriter{w: &out}, Stderr: io.Discard, Clock: steward.SystemClock{}, Ready: ready,
		PasswordParams: steward.PasswordParams{Memory: 64, Time: 1, Threads: 1}}
	go func() {
		done <- m.Run(ctx, []string{"serve", "--data", dir, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var httpAddr string
	select {
	case httpAddr = <-ready:
	case err := <-done:
		done <- err
		t.Fatalf("serve ended: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	var stewardAddr string
	for _, line := range strings.Split(out.String(), "\n") {
		if a, ok := strings.CutPrefix(line, "Steward is serving the root zone over DNS at "); ok {
			stewardAddr = a
		}
	}
	if stewardAddr == "" {
		t.Fatalf("no DNS address in:\n%s", out.String())
	}
	hasDS := func(ds *dns.DS) func(r *dns.Msg) bool {
		return func(r *dns.Msg) bool {
			for _, rr := range r.Answer {
				if d, ok := rr.(*dns.DS); ok && strings.EqualFold(d.Digest, ds.Digest) {
					return true
				}
			}
			return false
		}
	}
	if _, err := unboundPoll(stewardAddr, "test.", dns.TypeDS, 10*time.Second, hasDS(good)); err != nil {
		t.Fatalf("steward does not serve the DS of test.: %v", err)
	}
	resp, err := http.Get("http://" + httpAddr + "/zone/root-anchors.ds")
	if err != nil {
		t.Fatal(err)
	}
	anchor, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /zone/root-anchors.ds: %s\n%s", resp.Status, anchor)
	}

	// 3. Unbound validates www.test. from steward's trust anchor.
	ubDir := t.TempDir()
	unboundWrite(t, filepath.Join(ubDir, "root-anchors.ds"), string(anchor))
	_, stewardPort, _ := net.SplitHostPort(stewardAddr)
	ubPort := testproc.FreePort(t)
	unboundWrite(t, filepath.Join(ubDir, "unbound.conf"), unboundExec(t, unboundConf, map[string]any{
		"Dir": ubDir, "Port": ubPort, "StewardPort": stewardPort, "NSDPort": nsdPort}))
	ubAddr := fmt.Sprintf("127.0.0.1:%d", ubPort)
	startUnbound := func() (stop func()) {
		stop = testproc.Start(t, unboundBin, []string{"-d", "-c", filepath.Join(ubDir, "unbound.conf")}, ubDir)
		// Wait until it answers at all (from its local data, not the network).
		if _, err := unboundPoll(ubAddr, "localhost.", dns.TypeA, 10*time.Second, func(*dns.Msg) bool { return true }); err != nil {
			unboundLogs(t, ubDir, "unbound.log", "stderr.log")
			t.Fatalf("unbound did not start: %v", err)
		}
		return stop
	}
	failed := func(format string, args ...any) {
		t.Helper()
		unboundLogs(t, ubDir, "unbound.log", "stderr.log")
		unboundLogs(t, nsdDir, "nsd.log")
		t.Fatalf(format, args...)
	}
	stop := startUnbound()
	r, err := unboundQuery(ubAddr, "www.test.", dns.TypeA, false)
	if err != nil {
		failed("query unbound: %v", err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData || !unboundHasA(r, "192.0.2.80") {
		failed("www.test. A through unbound with the right DS: want NOERROR, 192.0.2.80 and AD, got:\n%v", r)
	}
	secureAt := time.Now()

	// 4. The registry's DS for test. no longer matches the child's KSK.
	mustRun(t, "import", "rootzone", "--data", dir, writeAndReturn(t, rootPath, rootFile(&bad)))
	if _, err := unboundPoll(stewardAddr, "test.", dns.TypeDS, 10*time.Second, hasDS(&bad)); err != nil {
		t.Fatalf("steward did not publish the changed DS of test.: %v", err)
	}
	published := time.Now()
	stop() // a fresh cache
	stop = startUnbound()
	defer stop()
	r, err = unboundQuery(ubAddr, "www.test.", dns.TypeA, false)
	if err != nil {
		failed("query unbound: %v", err)
	}
	if r.Rcode != dns.RcodeServerFailure || r.AuthenticatedData || len(r.Answer) != 0 {
		failed("www.test. A through unbound with a wrong DS: want SERVFAIL (bogus), got:\n%v", r)
	}
	r, err = unboundQuery(ubAddr, "www.test.", dns.TypeA, true)
	if err != nil {
		failed("query unbound: %v", err)
	}
	if r.Rcode != dns.RcodeSuccess || r.AuthenticatedData || !unboundHasA(r, "192.0.2.80") {
		failed("www.test. A through unbound with CD and a wrong DS: want NOERROR, 192.0.2.80 and no AD, got:\n%v", r)
	}
	if b, err := os.ReadFile(filepath.Join(ubDir, "unbound.log")); err == nil && !strings.Contains(string(b), "validation failure <www.test. A IN>") {
		t.Logf("unbound's log does not name the validation failure:\n%s", testproc.Tail(string(b), 2000))
	}
	t.Logf("secure after %.1fs; changed DS published in %.1fs; bogus after %.1fs in all",
		secureAt.Sub(start).Seconds(), published.Sub(secureAt).Seconds(), time.Since(start).Seconds())
}

var unboundNSDConf = template.Must(template.New("nsd.conf").Parse(`{{.Server}}remote-control:
	control-enable: no
zone:
	name: "test."
	zonefile: "test.zone"
`))

// unboundConf: "test." and "invalid." are among Unbound's default local
// zones (RFC 6761), answered NXDOMAIN without asking anyone, hence
// nodefault.
var unboundConf = template.Must(template.New("unbound.conf").Parse(`
server:
	interface: 127.0.0.1
	port: {{.Port}}
	do-ip6: no
	do-not-query-localhost: no
	username: ""
	chroot: ""
	directory: "{{.Dir}}"
	pidfile: "{{.Dir}}/unbound.pid"
	use-syslog: no
	logfile: "{{.Dir}}/unbound.log"
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	so-reuseport: no
	module-config: "validator iterator"
	trust-anchor-file: "{{.Dir}}/root-anchors.ds"
	harden-dnssec-stripped: yes
	qname-minimisation: no
	target-fetch-policy: "0 0 0 0 0"
	local-zone: "test." nodefault
	local-zone: "invalid." nodefault
remote-control:
	control-enable: no
stub-zone:
	name: "."
	stub-addr: 127.0.0.1@{{.StewardPort}}
	stub-prime: no
stub-zone:
	name: "test."
	stub-addr: 127.0.0.1@{{.NSDPort}}
	stub-prime: no
`))

func unboundRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func unboundWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeAndReturn(t *testing.T, path, content string) string {
	t.Helper()
	unboundWrite(t, path, content)
	return path
}

func unboundExec(t *testing.T, tmpl *template.Template, data any) string {
	t.Helper()
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func unboundQuery(addr, name string, qtype uint16, cd bool) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, true)
	q.AuthenticatedData = true
	q.CheckingDisabled = cd
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(q, addr)
	return r, err
}

// unboundPoll asks addr until an answer satisfies ok or the time is up.
func unboundPoll(addr, name string, qtype uint16, timeout time.Duration, ok func(*dns.Msg) bool) (*dns.Msg, error) {
	deadline := time.Now().Add(timeout)
	c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, true)
	var last error
	for time.Now().Before(deadline) {
		r, _, err := c.Exchange(q, addr)
		if err == nil && ok(r) {
			return r, nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("last answer:\n%v", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("no satisfying answer from %s for %s %s in %v: %v", addr, name, dns.TypeToString[qtype], timeout, last)
}

func unboundHasA(r *dns.Msg, addr string) bool {
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.String() == addr {
			return true
		}
	}
	return false
}

func unboundLogs(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil && len(b) > 0 {
			t.Logf("%s:\n%s", filepath.Join(filepath.Base(dir), f), testproc.Tail(string(b), 4000))
		}
	}
}
