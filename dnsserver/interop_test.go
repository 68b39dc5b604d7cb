package dnsserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"steward/internal/testproc"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// The interop tests run NSD and Knot, from Debian, as secondaries of
// steward on loopback: each takes the real root zone by AXFR with TSIG,
// then a changed version by IXFR after steward's NOTIFY, and must then
// answer a sample of queries exactly as steward does. They are skipped
// under -short, and when a binary is missing (a failure under CI, which
// installs them).

// secondary describes how to run one secondary server.
type secondary struct {
	name   string
	binary string
	config *template.Template
	args   func(dir string) []string
	// noGlueTC: the server leaves out in-domain glue that does not fit in
	// a UDP answer without setting TC, as servers did before RFC 9471.
	noGlueTC bool
}

// interopConfig is what the configuration templates are filled with.
type interopConfig struct {
	Dir     string
	Port    int
	Primary netip.AddrPort
	Key     TSIGKey
	KeyAlg  string // without the trailing dot
	// NSDServer is the common server: clause for NSD.
	NSDServer string
}

var nsdSecondary = secondary{
	name:   "NSD",
	binary: "nsd",
	config: template.Must(template.New("nsd.conf").Parse(`{{.NSDServer}}	hide-version: yes
	hide-identity: yes
	minimal-responses: yes
	xfrd-reload-timeout: 0
remote-control:
	control-enable: no
key:
	name: "{{.Key.Name}}"
	algorithm: {{.KeyAlg}}
	secret: "{{.Key.Secret}}"
zone:
	name: "."
	zonefile: "root.zone"
	request-xfr: {{.Primary.Addr}}@{{.Primary.Port}} {{.Key.Name}}
	allow-notify: {{.Primary.Addr}} {{.Key.Name}}
`)),
	args:     func(dir string) []string { return []string{"-d", "-c", filepath.Join(dir, "nsd.conf")} },
	noGlueTC: true, // NSD 4.6; 4.7 follows RFC 9471
}

var knotSecondary = secondary{
	name:   "Knot",
	binary: "knotd",
	config: template.Must(template.New("knot.conf").Parse(`
server:
    rundir: "{{.Dir}}"
    listen: 127.0.0.1@{{.Port}}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{{.Dir}}"
log:
  - target: "{{.Dir}}/knot.log"
    any: info
key:
  - id: {{.Key.Name}}
    algorithm: {{.KeyAlg}}
    secret: {{.Key.Secret}}
remote:
  - id: steward
    address: {{.Primary.Addr}}@{{.Primary.Port}}
    key: {{.Key.Name}}
acl:
  - id: steward-notify
    address: {{.Primary.Addr}}
    key: {{.Key.Name}}
    action: notify
zone:
  - domain: .
    storage: "{{.Dir}}"
    file: "root.zone"
    master: steward
    acl: steward-notify
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
    semantic-checks: off
`)),
	args: func(dir string) []string { return []string{"-c", filepath.Join(dir, "knot.conf")} },
}

func TestInteropNSD(t *testing.T)  { runInterop(t, nsdSecondary) }
func TestInteropKnot(t *testing.T) { runInterop(t, knotSecondary) }

func runInterop(t *testing.T, sec secondary) {
	if testing.Short() {
		t.Skip("interop test under -short")
	}
	bin := testproc.Need(t, sec.binary)
	t.Parallel()
	start := time.Now()

	v1 := rootZone(t)
	// The change: org. gets a new NS set, a TLD is added with in-domain
	// glue (and its place in the NSEC chain), and com. loses its DS.
	// Signatures are left as they were: a secondary does not check them.
	v2 := edit(t, v1, v1.Serial+1, map[string][]string{
		"org. NS":                {"org. 172800 IN NS a0.org.afilias-nst.info.", "org. 172800 IN NS ns1.steward-test."},
		"steward-test. NS":       {"steward-test. 172800 IN NS ns1.steward-test.", "steward-test. 172800 IN NS ns2.steward-test."},
		"steward-test. NSEC":     {"steward-test. 86400 IN NSEC stockholm. NS RRSIG NSEC"},
		"stcgroup. NSEC":         {"stcgroup. 86400 IN NSEC steward-test. NS DS RRSIG NSEC"},
		"ns1.steward-test. A":    {"ns1.steward-test. 172800 IN A 192.0.2.1"},
		"ns1.steward-test. AAAA": {"ns1.steward-test. 172800 IN AAAA 2001:db8::1"},
		"ns2.steward-test. A":    {"ns2.steward-test. 172800 IN A 192.0.2.2"},
		"com. DS":                nil,
		"com. NSEC":              {"com. 86400 IN NSEC comcast. NS RRSIG NSEC"},
	})

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	key := TSIGKey{Name: "steward-xfr.", Algorithm: dns.HmacSHA256, Secret: base64.StdEncoding.EncodeToString(secret)}
	port := testproc.FreePort(t)
	secAddr := fmt.Sprintf("127.0.0.1:%d", port)

	var logs logBuffer
	s, addr := startServer(t, Config{
		Logger:        logs.logger(),
		TSIG:          []TSIGKey{key},
		NotifyTimeout: time.Second,
		NotifyRetries: 10,
		Transfer: map[string]TransferPolicy{".": {
			Allow:  []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			Keys:   []string{key.Name},
			Notify: []Secondary{{Addr: secAddr, Key: key.Name}},
		}},
	}, v1)

	dir := t.TempDir()
	cfg := interopConfig{Dir: dir, Port: port, Primary: netip.MustParseAddrPort(addr), Key: key,
		KeyAlg: strings.TrimSuffix(key.Algorithm, "."), NSDServer: testproc.NSDServer(dir, port)}
	var conf strings.Builder
	if err := sec.config.Execute(&conf, cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sec.config.Name()), []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	testproc.Start(t, bin, sec.args(dir), dir)
	dumpLogs := func() {
		for _, f := range []string{"nsd.log", "knot.log", "stderr.log"} {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil && len(b) > 0 {
				t.Logf("%s %s:\n%s", sec.name, f, testproc.Tail(string(b), 3000))
			}
		}
		t.Logf("steward log:\n%s", testproc.Tail(logs.String(), 3000))
	}

	// AXFR at start-up.
	if err := waitSerial(secAddr, v1.Serial, 30*time.Second); err != nil {
		dumpLogs()
		t.Fatalf("%s did not load the zone by AXFR: %v", sec.name, err)
	}
	axfrAt := time.Now()
	if !strings.Contains(logs.String(), "type=AXFR style=AXFR") {
		t.Errorf("no AXFR in steward's log")
	}

	// IXFR after NOTIFY.
	s.SetZone(v2)
	if err := waitSerial(secAddr, v2.Serial, 20*time.Second); err != nil {
		dumpLogs()
		t.Fatalf("%s did not take the new version: %v", sec.name, err)
	}
	if !strings.Contains(logs.String(), "type=IXFR style=IXFR from=2023051100 serial=2023051101") {
		dumpLogs()
		t.Errorf("%s did not take the change by IXFR", sec.name)
	}
	t.Logf("%s: AXFR loaded %.1fs after start, IXFR %.1fs after SetZone", sec.name,
		axfrAt.Sub(start).Seconds(), time.Since(axfrAt).Seconds())

	compareAnswers(t, sec, v2, addr, secAddr)

	// A patched version (zone.Patch, as Signer.Patch and DNS UPDATE make
	// them), whose IXFR difference is taken from its changed names: a
	// TLD removed with its glue and the NSEC before it mended, org.'s DS
	// replaced.
	var gone string
	for _, n := range v2.Names() {
		if cut, ok := v2.Delegation(n); ok && cut == n && n != "org." && n != "net." {
			if next := v2.Next(n); next != "" && dns.IsSubDomain(n, next) {
				gone = n
				break
			}
		}
	}
	v3 := patchKeepingChain(t, v2, gone)
	s.SetZone(v3)
	if err := waitSerial(secAddr, v3.Serial, 20*time.Second); err != nil {
		dumpLogs()
		t.Fatalf("%s did not take the patched version: %v", sec.name, err)
	}
	if !strings.Contains(logs.String(), "patched=true") || !strings.Contains(logs.String(), "type=IXFR style=IXFR from=2023051101 serial=2023051102") {
		dumpLogs()
		t.Errorf("%s did not take the patched version by IXFR", sec.name)
	}
	compareAnswers(t, sec, v3, addr, secAddr)
	t.Logf("%s interop took %.1fs", sec.name, time.Since(start).Seconds())
}

// compareAnswers sends the same queries to steward and to the secondary
// and compares rcode, flags and sections as sets of records.
func compareAnswers(t *testing.T, sec secondary, z *zone.Zone, steward, other string) {
	var asks []ask
	add := func(name string, qtype uint16) {
		asks = append(asks, ask{name: name, qtype: qtype, edns: 1232}, ask{name: name, qtype: qtype, do: true})
	}
	for _, qt := range []uint16{dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY, dns.TypeA, dns.TypeAAAA, dns.TypeDS, dns.TypeNSEC, dns.TypeMX} {
		add(".", qt)
	}
	// Referrals and DS for a spread of TLDs: every 150th in canonical
	// order, plus some chosen ones (the changed org., the new TLD, com.
	// without its DS, an unsigned TLD, an IDN).
	tlds := []string{"org.", "steward-test.", "com.", "net.", "zw.", "uk.", "xn--p1ai.", "abbvie."}
	for i, n := range z.Names() {
		if i%150 == 1 && len(z.RRset(n, dns.TypeNS)) > 0 && dns.CountLabel(n) == 1 && !slices.Contains(tlds, n) {
			tlds = append(tlds, n)
		}
	}
	for _, tld := range tlds {
		add("www.example."+tld, dns.TypeA)
		add(tld, dns.TypeDS)
		// Without EDNS: 512 bytes, where some referrals do not fit.
		asks = append(asks, ask{name: "www." + tld, qtype: dns.TypeA})
	}
	add("a.root-servers.net.", dns.TypeAAAA)
	for _, n := range []string{"nonexistent-tld.", "www.nonexistent-tld.", "zzzz.", "aaa-.", "xn--zzzz."} {
		add(n, dns.TypeA)
	}
	add("*.", dns.TypeA)

	var differ []string
	for _, a := range asks {
		want := exchange(t, steward, a)
		got := exchange(t, other, a)
		q := fmt.Sprintf("%s %s do=%v", a.name, dns.TypeToString[a.qtype], a.do)
		d, note := compareMsgs(want, got, sec, z)
		if d != "" {
			differ = append(differ, q+": "+d)
		}
		if note != "" {
			t.Logf("%s: %s: %s", sec.name, q, note)
		}
	}
	t.Logf("%s: compared %d queries", sec.name, len(asks))
	for _, d := range differ {
		t.Errorf("%s answers differently from steward: %s", sec.name, d)
	}
}

// compareMsgs describes how an answer differs from steward's, or returns
// "". Rcode, flags, the OPT record and the answer and authority sections
// must be the same. In the additional section, which RFC 1034 §4.3.2
// leaves to the server, the secondary may leave out records steward
// includes (Knot, for one, fills less of a 1232-byte answer; servers pick
// different sibling glue to fill 512 bytes), which note reports; but it
// must have all the in-domain glue of a referral (RFC 9471) and nothing
// but addresses of the name servers in the answer. NSD 4.6 predates RFC
// 9471 and does not set TC when in-domain glue does not fit; the glue of
// a truncated referral is not compared.
func compareMsgs(want, got *dns.Msg, sec secondary, z *zone.Zone) (diff, note string) {
	var d []string
	referral := !want.Authoritative && len(want.Ns) > 0 && want.Ns[0].Header().Rrtype == dns.TypeNS
	switch {
	case flags(want) == flags(got):
	case sec.noGlueTC && referral && want.Truncated && !got.Truncated:
		note = "no TC though in-domain glue was left out (before RFC 9471); "
	default:
		d = append(d, fmt.Sprintf("flags %q, steward %q", flags(got), flags(want)))
	}
	wo, gotOPT := want.IsEdns0(), got.IsEdns0()
	if (wo == nil) != (gotOPT == nil) || wo != nil && wo.Do() != gotOPT.Do() {
		d = append(d, "OPT differs")
	}
	for _, s := range []struct {
		name      string
		want, got []dns.RR
	}{{"answer", want.Answer, got.Answer}, {"authority", want.Ns, got.Ns}} {
		if diff := setDiffStrings(rrStrings(s.want), rrStrings(s.got)); diff != "" {
			d = append(d, s.name+": "+diff)
		}
	}
	if want.Truncated {
		// Which glue fits in a truncated referral depends on the order
		// the server adds it in.
		return strings.Join(d, "; "), note + "additional not compared in a truncated answer"
	}
	// Additional: the in-domain glue of a referral is required.
	var cut string
	if referral {
		cut = want.Ns[0].Header().Name
	}
	have := map[string]bool{}
	for _, rr := range got.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			have[strings.ToLower(rr.String())] = true
		}
	}
	var left []string
	for _, rr := range want.Extra {
		s := strings.ToLower(rr.String())
		if rr.Header().Rrtype == dns.TypeOPT || have[s] {
			delete(have, s)
			continue
		}
		if cut != "" && dns.IsSubDomain(cut, rr.Header().Name) {
			d = append(d, "additional: in-domain glue missing: "+s)
		}
		left = append(left, s)
	}
	// What the secondary has beyond steward's must still be addresses of
	// the name servers in the answer.
	glue := glueFor(z, append(append([]dns.RR(nil), want.Answer...), want.Ns...))
	for s := range have {
		if !slices.Contains(glue, s) {
			d = append(d, "additional: neither in steward's answer nor glue: "+s)
		}
	}
	if len(left) > 0 {
		note += fmt.Sprintf("%d of steward's %d additional records left out", len(left), len(want.Extra)-1)
	}
	return strings.Join(d, "; "), note
}

// waitSerial polls addr until it answers the root SOA with serial.
func waitSerial(addr string, serial uint32, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
	var last string
	for ctx.Err() == nil {
		m := new(dns.Msg)
		m.SetQuestion(".", dns.TypeSOA)
		r, _, err := c.ExchangeContext(ctx, m, addr)
		switch {
		case err != nil:
			last = err.Error()
		case len(r.Answer) == 1:
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial {
				return nil
			} else if ok {
				last = fmt.Sprintf("serial %d", soa.Serial)
			}
		default:
			last = dns.RcodeToString[r.Rcode]
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("after %v: %s", timeout, last)
}

// patchKeepingChain returns a patched version of z with the next serial:
// gone removed with the names below it, the NSEC record before it pointing
// past it, and org.'s DS RRset replaced; other records (signatures
// included) as they were.
func patchKeepingChain(t *testing.T, z *zone.Zone, gone string) *zone.Zone {
	t.Helper()
	recs := map[string][]dns.RR{}
	edit := func(name string, f func(dns.RR)) {
		if _, ok := recs[name]; !ok {
			var out []dns.RR
			for _, typ := range z.Types(name) {
				out = append(out, z.RRset(name, typ)...)
			}
			recs[name] = out
		}
		for _, rr := range recs[name] {
			f(rr)
		}
	}
	edit(z.Origin, func(rr dns.RR) {
		if soa, ok := rr.(*dns.SOA); ok {
			soa.Serial++
		}
	})
	edit("org.", func(rr dns.RR) {
		if ds, ok := rr.(*dns.DS); ok {
			ds.KeyTag++
		}
	})
	next := z.RRset(gone, dns.TypeNSEC)[0].(*dns.NSEC).NextDomain
	pred := z.Previous(gone)
	if cut, ok := z.Delegation(pred); ok {
		pred = cut
	}
	edit(pred, func(rr dns.RR) {
		if nsec, ok := rr.(*dns.NSEC); ok {
			nsec.NextDomain = next
		}
	})
	var changes []zone.Change
	for name, rrs := range recs {
		changes = append(changes, zone.Change{Name: name, Records: rrs})
	}
	changes = append(changes, zone.Change{Name: gone})
	for d := z.Next(gone); d != "" && dns.IsSubDomain(gone, d); d = z.Next(d) {
		changes = append(changes, zone.Change{Name: d})
	}
	p, err := z.Patch(changes)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
