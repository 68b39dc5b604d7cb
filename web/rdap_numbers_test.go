package web_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	openrdap "github.com/openrdap/rdap"

	"steward"
	"steward/internal/testdata"
	"steward/rirstats"
)

// numbersFixture is the web fixture with the real root zone's delegations
// (a small copy) and AFRINIC's real delegated-extended statistics file.
func numbersFixture(t *testing.T) *fixture {
	t.Helper()
	return numbersFixtureTB(t, newFixture(t))
}

func numbersFixtureTB(t testing.TB, f *fixture) *fixture {
	t.Helper()
	f.do(t, steward.ImportRootZone(steward.ActorImport, rdapRoot()))
	path := testdata.Shared("rir-stats", "delegated-afrinic-extended-20240105")
	file, err := os.Open(path)
	if err != nil {
		testdata.Missing(t, err)
	}
	defer file.Close()
	sf, err := rirstats.Parse(filepath.Base(path), file)
	if err != nil {
		t.Fatal(err)
	}
	f.do(t, steward.ImportStats(steward.ActorImport, sf))
	// IANA's allocation of 2001:4200::/23 to AFRINIC, above the AFRINIC
	// records in it.
	iana := steward.Block{Family: steward.FamilyIPv6, First: "2001:4200::", Last: "2001:43ff:ffff:ffff:ffff:ffff:ffff:ffff",
		Registry: steward.RegistryIANA, Holder: "afrinic", Status: steward.StatusAllocated, Date: "20050301",
		IANA: &steward.IANAEntry{Registry: "ipv6-unicast-address-assignments", Prefix: "2001:4200::/23", Designation: "AFRINIC", RDAP: []string{"https://rdap.afrinic.net/rdap/"}}}
	f.do(t, steward.SyncBlocks(steward.ActorImport, "iana:test", func(b *steward.Block) bool { return b.Registry == steward.RegistryIANA },
		[]string{steward.FamilyIPv6}, []steward.Block{iana}))
	return f
}

func TestRDAPNumbers(t *testing.T) {
	f := numbersFixture(t)
	n := rdapGet(t, f, "/rdap/ip/2001:4200::1", 200)
	if n["objectClassName"] != "ip network" || n["startAddress"] != "2001:4200::" || n["ipVersion"] != "v6" || n["country"] != "ZA" {
		t.Errorf("ip 2001:4200::1: %v", n)
	}
	if ents := n["entities"].([]any); len(ents) != 1 || ents[0].(map[string]any)["handle"] != "F36B9F4B" {
		t.Errorf("holder: %v", n["entities"])
	}
	if p := rdapGet(t, f, "/rdap/ip/2001:4200::/32", 200); p["handle"] != n["handle"] {
		t.Errorf("the /32 is %v, the address's network %v", p["handle"], n["handle"])
	}
	a := rdapGet(t, f, "/rdap/autnum/1228", 200)
	if a["objectClassName"] != "autnum" || a["startAutnum"] != float64(1228) || a["handle"] != "AS1228-AS1228-AFRINIC" {
		t.Errorf("autnum 1228: %v", a)
	}
	rdapGet(t, f, "/rdap/autnum/AS1228", 200)
	rdapGet(t, f, "/rdap/entity/F36B9F4B", 200)
	rdapGet(t, f, "/rdap/autnum/1", 404)
	rdapGet(t, f, "/rdap/ip/10.0.0.1", 404)

	if n["parentHandle"] != "2001:4200::-2001:43ff:ffff:ffff:ffff:ffff:ffff:ffff-IANA" {
		t.Errorf("parentHandle %v", n["parentHandle"])
	}
	// The bootstrap file names IANA's /23 with AFRINIC's RDAP service,
	// and the other AFRINIC records, which have no parent here, with this
	// server.
	v6 := rdapGet(t, f, "/rdap/bootstrap/ipv6.json", 200)
	var afrinic []any
	for _, s := range v6["services"].([]any) {
		if s.([]any)[1].([]any)[0] == "https://rdap.afrinic.net/rdap/" {
			afrinic = s.([]any)[0].([]any)
		}
	}
	if len(afrinic) != 1 || afrinic[0] != "2001:4200::/23" {
		t.Errorf("ipv6.json: AFRINIC's entries %v", afrinic)
	}
}

// openrdap, an RDAP client written elsewhere, queries the server and
// decodes every kind of object without error.
func TestRDAPOpenRDAPClient(t *testing.T) {
	f := numbersFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	base, _ := url.Parse(srv.URL + "/rdap/")
	client := &openrdap.Client{HTTP: srv.Client()}
	for _, req := range []*openrdap.Request{
		{Type: openrdap.DomainRequest, Query: "org"},
		{Type: openrdap.DomainRequest, Query: "рф"},
		{Type: openrdap.NameserverRequest, Query: "ns2.nic.example"},
		{Type: openrdap.EntityRequest, Query: "alice"},
		{Type: openrdap.EntityRequest, Query: "F36B9F4B"},
		{Type: openrdap.IPRequest, Query: "2001:4200::1"},
		{Type: openrdap.IPRequest, Query: "41.0.0.0/11"},
		{Type: openrdap.AutnumRequest, Query: "1228"},
		{Type: openrdap.HelpRequest},
		{Type: openrdap.DomainSearchRequest, Query: "x*"},
		{Type: openrdap.NameserverSearchRequest, Query: "ns*"},
		{Type: openrdap.EntitySearchByHandleRequest, Query: "F36*"},
	} {
		req.Server = base
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", req.Type, req.Query, err)
			continue
		}
		var notes []string
		switch o := resp.Object.(type) {
		case *openrdap.Domain:
			notes = decodeNotes(o.DecodeData)
			if o.LDHName == "" || len(o.Nameservers) == 0 || len(o.Events) == 0 {
				t.Errorf("domain %s: %+v", req.Query, o)
			}
		case *openrdap.Nameserver:
			notes = decodeNotes(o.DecodeData)
			if o.IPAddresses == nil || len(o.IPAddresses.V4) == 0 {
				t.Errorf("nameserver: %+v", o)
			}
		case *openrdap.Entity:
			notes = decodeNotes(o.DecodeData)
			if o.VCard == nil || o.Handle != req.Query {
				t.Errorf("entity %s: %+v", req.Query, o)
			}
		case *openrdap.IPNetwork:
			notes = decodeNotes(o.DecodeData)
			if o.StartAddress == "" || o.IPVersion == "" || len(o.Entities) == 0 {
				t.Errorf("ip %s: %+v", req.Query, o)
			}
		case *openrdap.Autnum:
			notes = decodeNotes(o.DecodeData)
			if o.StartAutnum == nil || *o.StartAutnum != 1228 {
				t.Errorf("autnum: %+v", o)
			}
		case *openrdap.Help:
			notes = decodeNotes(o.DecodeData)
		case *openrdap.DomainSearchResults:
			if len(o.Domains) != 1 {
				t.Errorf("domain search: %+v", o)
			}
		case *openrdap.NameserverSearchResults:
			if len(o.Nameservers) == 0 {
				t.Errorf("nameserver search: %+v", o)
			}
		case *openrdap.EntitySearchResults:
			if len(o.Entities) == 0 || !strings.HasPrefix(o.Entities[0].Handle, "F36") {
				t.Errorf("entity search: %d results", len(o.Entities))
			}
		default:
			t.Errorf("%s %s: decoded as %T", req.Type, req.Query, o)
		}
		if len(notes) > 0 {
			t.Errorf("%s %s: openrdap notes %v", req.Type, req.Query, notes)
		}
	}
	// An error body decodes as an RDAP error.
	_, err := client.Do(&openrdap.Request{Type: openrdap.AutnumRequest, Query: "1", Server: base})
	if ce, ok := err.(*openrdap.ClientError); !ok || ce.Type != openrdap.ObjectDoesNotExist {
		t.Errorf("missing autnum: %v", err)
	}
}

func decodeNotes(d *openrdap.DecodeData) []string {
	var out []string
	for _, name := range d.Fields() {
		for _, n := range d.Notes(name) {
			if n == "float64 to uint conversion" {
				continue // openrdap notes every JSON number it reads into an integer
			}
			out = append(out, name+": "+n)
		}
	}
	for _, name := range d.UnknownFields() {
		if name != "redacted" && name != "cidr0_cidrs" { // RFC 9537 and the cidr0 extension are newer than the client
			out = append(out, name+": unknown field")
		}
	}
	return out
}

// Responses have the shape of real registries' responses (../shared/data/
// rdap): every member that all the real responses of a class carry is
// there, and every member both have holds the same JSON type, down to the
// members of nested objects and arrays.
func TestRDAPShapeMatchesRealResponses(t *testing.T) {
	f := numbersFixture(t)
	dir := testdata.Shared("rdap")
	samples := map[string][]string{} // objectClassName → files
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			if c, ok := m["objectClassName"].(string); ok {
				samples[c] = append(samples[c], path)
			}
		}
		return nil
	})
	if err != nil || len(samples) == 0 {
		testdata.Missing(t, err)
	}
	ours := map[string]string{
		"domain": "/rdap/domain/org", "entity": "/rdap/entity/F36B9F4B", "ip network": "/rdap/ip/2001:4200::1",
		"autnum": "/rdap/autnum/1228", "nameserver": "/rdap/nameserver/ns1.org",
	}
	// Members every real sample has that this registry does not keep.
	// port43: steward runs no WHOIS. arin_originas0_originautnums: an
	// ARIN extension (origin AS numbers), which needs routing data.
	absent := map[string]bool{"port43": true, "arin_originas0_originautnums": true}
	for class, files := range samples {
		path, ok := ours[class]
		if !ok {
			t.Errorf("real responses of class %q, which steward does not answer", class)
			continue
		}
		got := rdapGet(t, f, path, 200)
		var common []string
		for i, file := range files {
			b, _ := os.ReadFile(file)
			var real map[string]any
			if err := json.Unmarshal(b, &real); err != nil {
				t.Fatal(err)
			}
			keys := slices.Collect(func(yield func(string) bool) {
				for k := range real {
					if !yield(k) {
						return
					}
				}
			})
			if i == 0 {
				common = keys
			} else {
				common = slices.DeleteFunc(common, func(k string) bool { return !slices.Contains(keys, k) })
			}
			for _, p := range sameShape(class, real, got) {
				t.Errorf("%s vs %s: %s", path, filepath.Base(file), p)
			}
		}
		sort.Strings(common)
		for _, k := range common {
			if _, ok := got[k]; !ok && !absent[k] {
				t.Errorf("%s: no %q member, which every real %s response has", path, k, class)
			}
		}
		t.Logf("%s: %d real responses; members all have: %v", class, len(files), common)
	}
}

// sameShape lists where a and b, two JSON values, differ in type.
func sameShape(path string, a, b any) []string {
	kind := func(v any) string {
		switch v.(type) {
		case map[string]any:
			return "object"
		case []any:
			return "array"
		case string:
			return "string"
		case float64:
			return "number"
		case bool:
			return "boolean"
		}
		return "null"
	}
	if a == nil {
		return nil // a null in a real response says nothing of the type
	}
	if kind(a) != kind(b) {
		if path == "entity.vcardArray.1.3" || strings.HasSuffix(path, ".3") {
			return nil // a jCard value's type depends on its property
		}
		return []string{path + ": real " + kind(a) + ", ours " + kind(b)}
	}
	var out []string
	switch a := a.(type) {
	case map[string]any:
		bm := b.(map[string]any)
		for k, av := range a {
			if bv, ok := bm[k]; ok {
				out = append(out, sameShape(path+"."+k, av, bv)...)
			}
		}
	case []any:
		bs := b.([]any)
		if len(a) > 0 && len(bs) > 0 && path != "vcardArray" && !strings.HasSuffix(path, "vcardArray") {
			out = append(out, sameShape(path+"[]", a[0], bs[0])...)
		}
	}
	return out
}

// The bootstrap files have the structure of IANA's real asn.json
// (../shared/data/rdap/20c-rdap-testdata/iana-bootstrap): the same members
// with the same JSON types, each service a pair of string arrays, entries
// written as IANA writes them.
func TestRDAPBootstrapMatchesIANA(t *testing.T) {
	b, err := os.ReadFile(testdata.Shared("rdap", "20c-rdap-testdata", "iana-bootstrap", "asn.json"))
	if err != nil {
		testdata.Missing(t, err)
	}
	var real map[string]any
	if err := json.Unmarshal(b, &real); err != nil {
		t.Fatal(err)
	}
	f := numbersFixture(t)
	for _, name := range []string{"asn.json", "ipv4.json", "ipv6.json", "dns.json"} {
		ours := rdapGet(t, f, "/rdap/bootstrap/"+name, 200)
		for k := range real {
			if _, ok := ours[k]; !ok {
				t.Errorf("%s: no %q member", name, k)
			}
		}
		for k := range ours {
			if _, ok := real[k]; !ok {
				t.Errorf("%s: member %q, which IANA's file does not have", name, k)
			}
		}
		for _, p := range sameShape(name, real, ours) {
			t.Errorf("%s: %s", name, p)
		}
		if _, err := time.Parse(time.RFC3339, ours["publication"].(string)); err != nil {
			t.Errorf("%s: publication %v", name, ours["publication"])
		}
		for _, s := range ours["services"].([]any) {
			pair := s.([]any)
			if len(pair) != 2 || len(pair[0].([]any)) == 0 || len(pair[1].([]any)) == 0 {
				t.Fatalf("%s: service %v", name, s)
			}
			for _, e := range pair[0].([]any) {
				e := e.(string)
				var ok bool
				switch name {
				case "asn.json":
					_, _, ok = strings.Cut(e, "-")
				case "ipv4.json", "ipv6.json":
					_, err := netip.ParsePrefix(e)
					ok = err == nil
				default:
					ok = e == strings.ToLower(e) && !strings.HasSuffix(e, ".")
				}
				if !ok {
					t.Errorf("%s: entry %q", name, e)
				}
			}
			if u := pair[1].([]any)[0].(string); !strings.HasSuffix(u, "/") {
				t.Errorf("%s: service URL %q does not end in /", name, u)
			}
		}
	}
}
