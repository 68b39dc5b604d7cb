package web_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward"
)

// rdapRoot is a small root zone: a few TLDs, one IDN, one with DS records
// and a manager, name servers shared between TLDs.
func rdapRoot() steward.RootZoneImport {
	imp := steward.RootZoneImport{Apex: steward.Apex{MName: "a.root.example.", RName: "hostmaster.example.",
		Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400, SOATTL: 86400, NS: []string{"a.root.example."},
		NSTTL: 518400, DelegationTTL: 172800, DSTTL: 86400, Glue: []steward.Glue{{Name: "a.root.example.", Addrs: []string{"192.0.2.53"}}}}}
	for _, n := range []string{"example", "test", "invalid", "lab", "net", "org", "xn--p1ai"} {
		imp.TLDs = append(imp.TLDs, steward.TLD{Name: n, NS: []string{"ns1." + n + ".", "ns2.nic.example."},
			Glue: []steward.Glue{{Name: "ns1." + n + ".", Addrs: []string{"192.0.2.1", "2001:db8::1"}}, {Name: "ns2.nic.example.", Addrs: []string{"192.0.2.2"}}}})
	}
	imp.TLDs[5].Manager = "Public Interest Registry (PIR)"
	imp.TLDs[5].DS = []steward.DS{{KeyTag: 26974, Algorithm: 8, DigestType: 2, Digest: "4FEDE294C53F438A158C41D39489CD78A86BEB0D8A0AEAFF14745C0D16E1DE32"}}
	return imp
}

// rdapGet fetches an RDAP path and decodes its JSON body, checking the
// status and the headers every RDAP response carries.
func rdapGet(t *testing.T, f *fixture, path string, want int) map[string]any {
	t.Helper()
	resp := f.anon().get(path)
	body := readBody(t, resp)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/rdap+json" && !strings.HasPrefix(path, "/rdap/bootstrap/") {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET %s: no CORS header", path)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
	if want >= 400 {
		if code, _ := m["errorCode"].(float64); int(code) != want {
			t.Errorf("GET %s: errorCode %v, want %d", path, m["errorCode"], want)
		}
		if d, _ := m["description"].([]any); len(d) == 0 {
			t.Errorf("GET %s: error without a description", path)
		}
	}
	return m
}

func TestRDAPLookups(t *testing.T) {
	f := newFixture(t)
	f.do(t, steward.ImportRootZone(steward.ActorImport, rdapRoot()))

	d := rdapGet(t, f, "/rdap/domain/org", 200)
	if d["objectClassName"] != "domain" || d["ldhName"] != "org" {
		t.Errorf("domain org: %v", d)
	}
	if c, _ := d["rdapConformance"].([]any); len(c) == 0 || c[0] != "rdap_level_0" {
		t.Errorf("rdapConformance %v", d["rdapConformance"])
	}
	sec, _ := d["secureDNS"].(map[string]any)
	if sec["delegationSigned"] != true || len(sec["dsData"].([]any)) != 1 {
		t.Errorf("secureDNS %v", sec)
	}
	ns, _ := d["nameservers"].([]any)
	if len(ns) != 2 || ns[0].(map[string]any)["ldhName"] != "ns1.org" {
		t.Fatalf("nameservers %v", ns)
	}
	if ips := ns[0].(map[string]any)["ipAddresses"].(map[string]any); ips["v4"].([]any)[0] != "192.0.2.1" || ips["v6"].([]any)[0] != "2001:db8::1" {
		t.Errorf("glue %v", ips)
	}
	ents, _ := d["entities"].([]any)
	if len(ents) != 1 || ents[0].(map[string]any)["handle"] != "ORG-PUBLIC-INTEREST-REGISTRY-PIR" || ents[0].(map[string]any)["roles"].([]any)[0] != "registrant" {
		t.Errorf("entities %v", ents)
	}
	events, _ := d["events"].([]any)
	reg := events[0].(map[string]any)
	if reg["eventAction"] != "registration" || !strings.Contains(reg["links"].([]any)[0].(map[string]any)["href"].(string), "/api/v1/log/entries/") {
		t.Errorf("events %v", events)
	}
	if self := d["links"].([]any)[0].(map[string]any); self["rel"] != "self" || self["href"] != "http://steward.test/rdap/domain/org" {
		t.Errorf("self link %v", self)
	}

	// U-labels, upper case and a trailing dot name the same TLD.
	for _, q := range []string{"/rdap/domain/%D1%80%D1%84", "/rdap/domain/XN--P1AI.", "/rdap/domain/xn--p1ai"} {
		if d := rdapGet(t, f, q, 200); d["ldhName"] != "xn--p1ai" || d["unicodeName"] != "рф" {
			t.Errorf("%s: %v %v", q, d["ldhName"], d["unicodeName"])
		}
	}
	rdapGet(t, f, "/rdap/domain/nosuch", 404)
	rdapGet(t, f, "/rdap/domain/example.org", 404)
	rdapGet(t, f, "/rdap/domain/bad_-name-", 400)
	rdapGet(t, f, "/rdap/domain/a..b", 400)

	n := rdapGet(t, f, "/rdap/nameserver/ns2.nic.example.", 200)
	if n["objectClassName"] != "nameserver" || n["ldhName"] != "ns2.nic.example" {
		t.Errorf("nameserver %v", n)
	}
	rdapGet(t, f, "/rdap/nameserver/ns9.nic.example", 404)
	rdapGet(t, f, "/rdap/nameserver/-x-.example", 400)

	// Participants are people: their names are redacted unless the
	// charter publishes them (RFC 9537).
	e := rdapGet(t, f, "/rdap/entity/alice", 200)
	vc := e["vcardArray"].([]any)[1].([]any)
	if fn := vc[1].([]any); fn[0] != "fn" || fn[3] != "" {
		t.Errorf("alice's name is not redacted: %v", fn)
	}
	red, _ := e["redacted"].([]any)
	if len(red) != 1 || red[0].(map[string]any)["method"] != "emptyValue" {
		t.Errorf("redacted %v", red)
	}
	org := rdapGet(t, f, "/rdap/entity/ORG-PUBLIC-INTEREST-REGISTRY-PIR", 200)
	if fn := org["vcardArray"].([]any)[1].([]any)[1].([]any); fn[3] != "Public Interest Registry (PIR)" {
		t.Errorf("organisation's name %v", fn)
	}
	rdapGet(t, f, "/rdap/entity/nobody", 404)
	rdapGet(t, f, "/rdap/entity/a%20b", 400)

	rdapGet(t, f, "/rdap/autnum/64496", 404)
	rdapGet(t, f, "/rdap/autnum/4294967296", 400)
	rdapGet(t, f, "/rdap/autnum/x1", 400)
	rdapGet(t, f, "/rdap/ip/192.0.2.1", 404)
	rdapGet(t, f, "/rdap/ip/192.0.2.0/33", 400)
	rdapGet(t, f, "/rdap/ip/300.1.1.1", 400)
	rdapGet(t, f, "/rdap/ip/fe80::1%25eth0", 400)
	rdapGet(t, f, "/rdap/nosuch/thing", 400)

	h := rdapGet(t, f, "/rdap/help", 200)
	if len(h["notices"].([]any)) < 2 {
		t.Errorf("help %v", h)
	}
}

func TestRDAPSearch(t *testing.T) {
	f := newFixture(t)
	f.do(t, steward.ImportRootZone(steward.ActorImport, rdapRoot()))
	names := func(m map[string]any, member, field string) []string {
		var out []string
		for _, x := range m[member].([]any) {
			out = append(out, x.(map[string]any)[field].(string))
		}
		return out
	}
	for q, want := range map[string]string{
		"/rdap/domains?name=ex*":               "example",
		"/rdap/domains?name=org":               "org",
		"/rdap/domains?name=%D1%80%D1%84":      "xn--p1ai",
		"/rdap/domains?name=x*":                "xn--p1ai",
		"/rdap/domains?name=zz*":               "",
		"/rdap/nameservers?name=ns2.*":         "ns2.nic.example",
		"/rdap/nameservers?name=ns1.org":       "ns1.org",
		"/rdap/nameservers?ip=192.0.2.2":       "ns2.nic.example",
		"/rdap/entities?handle=AL*":            "alice",
		"/rdap/entities?handle=bob":            "bob",
		"/rdap/entities?fn=public*":            "ORG-PUBLIC-INTEREST-REGISTRY-PIR",
		"/rdap/entities?fn=test*":              "", // participants' names are redacted, so not searchable
		"/rdap/entities?fn=Public%20Interest*": "ORG-PUBLIC-INTEREST-REGISTRY-PIR",
	} {
		member, field := "domainSearchResults", "ldhName"
		switch {
		case strings.HasPrefix(q, "/rdap/nameservers"):
			member = "nameserverSearchResults"
		case strings.HasPrefix(q, "/rdap/entities"):
			member, field = "entitySearchResults", "handle"
		}
		got := strings.Join(names(rdapGet(t, f, q, 200), member, field), " ")
		if got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	for q, code := range map[string]int{
		"/rdap/domains?name=*":        422,
		"/rdap/domains?name=e*x":      422,
		"/rdap/domains?name=*.org":    422,
		"/rdap/domains?name=a%20b*":   400,
		"/rdap/domains":               400,
		"/rdap/domains?name=a&name=b": 400,
		"/rdap/entities?fn=*":         422,
		"/rdap/entities?email=x":      400,
		"/rdap/nameservers?ip=1.2.3":  400,
		"/rdap/domains?nsIp=x":        400,
		"/rdap/domains?nsLdhName=*":   422,
	} {
		rdapGet(t, f, q, code)
	}
}

// The snapshot follows the ledger: a change shows at once, with the entry
// that made it.
func TestRDAPFollowsLedger(t *testing.T) {
	f := newFixture(t)
	imp := rdapRoot()
	f.do(t, steward.ImportRootZone(steward.ActorImport, imp))
	before := rdapGet(t, f, "/rdap/domain/lab", 200)
	f.clock.Advance(time.Hour)
	imp.TLDs[3].NS = []string{"ns3.nic.example."}
	imp.TLDs[3].Glue = nil
	f.do(t, steward.ImportRootZone(steward.ActorImport, imp))
	seq := f.lastEntry(t).Seq
	after := rdapGet(t, f, "/rdap/domain/lab", 200)
	ev := after["events"].([]any)
	changed := ev[1].(map[string]any)
	if changed["eventAction"] != "last changed" || !strings.HasSuffix(changed["links"].([]any)[0].(map[string]any)["href"].(string), "/entries/"+itoa(seq)) {
		t.Errorf("last changed %v, want entry %d", changed, seq)
	}
	if ev[0].(map[string]any)["eventDate"] != before["events"].([]any)[0].(map[string]any)["eventDate"] {
		t.Error("the registration moved")
	}
	if ns := after["nameservers"].([]any); len(ns) != 1 {
		t.Errorf("nameservers %v", ns)
	}
	rdapGet(t, f, "/rdap/nameserver/ns3.nic.example", 200)
	rdapGet(t, f, "/rdap/nameserver/ns1.lab", 404)

	// A TLD's contacts are its administrative and technical entities,
	// redacted as the charter says; they follow grants and revocations.
	g := steward.Grant{Participant: aliceHandle, Role: steward.RoleResourceContact, Scope: "tld:lab"}
	f.do(t, steward.GrantRole(opHandle, g))
	var contact map[string]any
	for _, e := range rdapGet(t, f, "/rdap/domain/lab", 200)["entities"].([]any) {
		if m := e.(map[string]any); m["handle"] == aliceHandle {
			contact = m
		}
	}
	if contact == nil || fmt.Sprint(contact["roles"]) != "[administrative technical]" {
		t.Fatalf("the contact is not among the domain's entities: %v", contact)
	}
	if _, redacted := rdapGet(t, f, "/rdap/domain/lab", 200)["redacted"]; !redacted {
		t.Error("the contact's name is not redacted")
	}
	f.do(t, steward.RevokeRole(opHandle, g))
	if es, ok := rdapGet(t, f, "/rdap/domain/lab", 200)["entities"]; ok {
		t.Errorf("a revoked contact is still shown: %v", es)
	}
}

func TestRDAPBootstrap(t *testing.T) {
	f := newFixture(t)
	f.do(t, steward.ImportRootZone(steward.ActorImport, rdapRoot()))
	b := rdapGet(t, f, "/rdap/bootstrap/dns.json", 200)
	svcs := b["services"].([]any)
	if b["version"] != "1.0" || len(svcs) != 1 {
		t.Fatalf("dns.json %v", b)
	}
	entries := svcs[0].([]any)[0].([]any)
	if len(entries) != 7 || svcs[0].([]any)[1].([]any)[0] != "http://steward.test/rdap/" {
		t.Errorf("dns.json services %v", svcs)
	}
	for _, n := range []string{"ipv4.json", "ipv6.json", "asn.json"} {
		rdapGet(t, f, "/rdap/bootstrap/"+n, 200)
	}
	rdapGet(t, f, "/rdap/bootstrap/nope.json", 404)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Entries that change nothing RDAP shows keep the snapshot, and with it
// the responses already rendered.
func TestRDAPSnapshotKeptForUnrelatedEntries(t *testing.T) {
	f := newFixture(t)
	f.do(t, steward.ImportRootZone(steward.ActorImport, rdapRoot()))
	notice := func() string {
		h := rdapGet(t, f, "/rdap/help", 200)
		return h["notices"].([]any)[0].(map[string]any)["description"].([]any)[1].(string)
	}
	before := notice()
	f.issueToken(t, aliceHandle, steward.ScopeRead) // a token is not RDAP data
	if after := notice(); after != before {
		t.Errorf("an unrelated entry rebuilt the snapshot:\n%s\n%s", before, after)
	}
	imp := rdapRoot()
	imp.TLDs[0].NS = []string{"ns9.nic.example."}
	imp.TLDs[0].Glue = nil
	f.do(t, steward.ImportRootZone(steward.ActorImport, imp))
	if after := notice(); after == before {
		t.Error("a TLD change left the snapshot as it was")
	}
}
