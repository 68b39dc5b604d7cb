package main

import (
	"io"
	"net/http"
	"path/filepath"
	"steward/internal/testdata"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward/dnssec"
	"steward/zone"
)

const tsigSecret = "c3Rld2FyZCB0cmFuc2ZlciBrZXkgZm9yIHRlc3Rz"

// TestServeDNS imports the real root zone, serves it with --dns, and checks
// the signed answers over DNS and the published files over HTTP.
func TestServeDNS(t *testing.T) {
	dir := freshDemo(t)
	rootZone := testdata.RootZoneFile
	mustRun(t, "import", "rootzone", "--data", dir, rootZone)

	srv := serveInProcess(t, "--data", dir, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--tsig", "xfr-key:"+tsigSecret)
	addr, dnsAddr := srv.HTTP, srv.DNS
	if dnsAddr == "" {
		t.Fatalf("no DNS address in:\n%s", srv.Output())
	}

	q := new(dns.Msg)
	q.SetQuestion("org.", dns.TypeDS)
	q.SetEdns0(1232, true)
	r, _, err := new(dns.Client).Exchange(q, dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) < 2 {
		t.Fatalf("org. DS: %v", r)
	}
	q.SetQuestion("www.org.", dns.TypeA)
	r, _, err = new(dns.Client).Exchange(q, dnsAddr)
	if err != nil || r.Authoritative || len(r.Ns) == 0 || r.Ns[0].Header().Rrtype != dns.TypeNS {
		t.Fatalf("referral for www.org.: %v %v", r, err)
	}

	// Zone transfers need the TSIG key.
	axfr := new(dns.Msg)
	axfr.SetAxfr(".")
	if env, err := new(dns.Transfer).In(axfr, dnsAddr); err == nil {
		for e := range env {
			if e.Error == nil {
				t.Error("an AXFR without TSIG was answered")
			}
		}
	}
	axfr.SetTsig("xfr-key.", dns.HmacSHA256, 300, time.Now().Unix())
	tr := &dns.Transfer{TsigSecret: map[string]string{"xfr-key.": tsigSecret}}
	env, err := tr.In(axfr, dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for e := range env {
		if e.Error != nil {
			t.Fatalf("signed AXFR: %v", e.Error)
		}
		records += len(e.RR)
	}
	if records < 20000 {
		t.Errorf("signed AXFR gave %d records", records)
	}

	resp, err := http.Get("http://" + addr + "/zone/root.zone")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Steward-Serial") == "" || resp.Header.Get("Steward-Ledger-Entry") == "" {
		t.Fatalf("GET /zone/root.zone: %s %v", resp.Status, resp.Header)
	}
	var rrs []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(string(body)), ".", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	z, err := zone.New(".", rrs)
	if err != nil {
		t.Fatal(err)
	}
	if err := dnssec.Verify(z, time.Now()); err != nil {
		t.Errorf("the published zone does not verify: %v", err)
	}
	if err := dnssec.VerifyZONEMD(z); err != nil {
		t.Errorf("ZONEMD: %v", err)
	}
	for _, f := range []string{"root-anchors.xml", "root-anchors.ds", "root.hints"} {
		resp, err := http.Get("http://" + addr + "/zone/" + f)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET /zone/%s: %v %v", f, resp.Status, err)
		}
		resp.Body.Close()
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	// The publication is in the ledger and replays.
	if o := mustRun(t, "audit", "--state", filepath.Join(t.TempDir(), "a.json"), dir); !strings.Contains(o, "audit passed") {
		t.Error(o)
	}
}
