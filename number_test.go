package steward_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"steward"
)

func nb(fam, rng, reg, holder, status, date string) steward.Block {
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		last = first
	}
	return steward.Block{Family: fam, First: first, Last: last, Registry: reg, Holder: holder, Status: status, Date: date}
}

func prefixBlock(t *testing.T, fam, prefix, reg, holder, status, date string) steward.Block {
	t.Helper()
	s, err := steward.ParseSpan(fam, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return steward.Block{Family: fam, First: steward.FormatNumber(fam, s.First), Last: steward.FormatNumber(fam, s.Last), Registry: reg, Holder: holder, Status: status, Date: date}
}

// numbersFixture records a small hierarchy: IANA's 2.0.0.0/8 to RIPE NCC,
// RIPE NCC's pool in it, IANA's 2001:0600::/23 to RIPE NCC, an AS block.
func numbersFixture(t *testing.T) *memTx {
	m := newMemTx()
	blocks := []steward.Block{
		prefixBlock(t, "ipv4", "2.0.0.0/8", "iana", "ripencc", "allocated", "20090901"),
		prefixBlock(t, "ipv4", "2.0.0.0/12", "ripencc", "ORG-A", "allocated", "20100712"),
		prefixBlock(t, "ipv4", "2.16.0.0/12", "ripencc", "", "available", ""),
		prefixBlock(t, "ipv4", "185.0.0.0/19", "iana", "", "available", ""),
		prefixBlock(t, "ipv6", "2001:600::/23", "iana", "ripencc", "allocated", "19990801"),
		prefixBlock(t, "ipv6", "2001:600::/32", "ripencc", "ORG-A", "allocated", "20250101"),
		nb("asn", "1-1876", "iana", "arin", "allocated", "19900101"),
		nb("asn", "7-7", "arin", "ORG-C", "assigned", "19930901"),
	}
	m.must(t, steward.SyncBlocks(steward.ActorImport, "test", func(*steward.Block) bool { return true }, steward.Families, blocks))
	return m
}

func TestAllocate(t *testing.T) {
	m := numbersFixture(t)
	// An LIR assigns from its allocation.
	m.must(t, steward.AllocateBlock(steward.ActorImport, prefixBlock(t, "ipv4", "2.1.0.0/24", "ORG-A", "ORG-B", "assigned", "")))
	// RIPE NCC allocates from its available pool: the rest stays available.
	v := m.must(t, steward.AllocateBlock(steward.ActorImport, prefixBlock(t, "ipv4", "2.16.0.0/16", "ripencc", "ORG-D", "allocated", "")))
	p := v.(*steward.AllocatedPayload)
	if p.From == nil || len(p.Remainder) != 1 || p.Remainder[0].First != "2.17.0.0" || p.Remainder[0].Last != "2.31.255.255" {
		t.Fatalf("allocation from the pool: %+v", p)
	}
	if p.Block.Date != "20260102" {
		t.Errorf("date %q; want the transaction's day", p.Block.Date)
	}
	for _, tt := range []struct {
		name string
		b    steward.Block
		want string
	}{
		{"outside its parent", prefixBlock(t, "ipv4", "3.0.0.0/24", "ORG-A", "ORG-B", "assigned", ""), "outside every block ORG-A holds"},
		{"overlapping a sibling", prefixBlock(t, "ipv4", "2.1.0.0/23", "ORG-A", "ORG-E", "assigned", ""), "overlaps 2.1.0.0/24"},
		{"inside a sibling", prefixBlock(t, "ipv4", "2.1.0.128/25", "ORG-A", "ORG-E", "assigned", ""), "has delegated already"},
		{"misaligned", nb("ipv4", "2.1.1.1-2.1.1.4", "ORG-A", "ORG-E", "assigned", ""), "not an aligned CIDR prefix"},
		{"too long for an RIR", prefixBlock(t, "ipv4", "2.20.0.0/25", "ripencc", "ORG-E", "allocated", ""), "longer than a /24"},
		{"ipv6 too long for an RIR", prefixBlock(t, "ipv6", "2001:700::/56", "ripencc", "ORG-E", "assigned", ""), "longer than a /48"},
		{"special AS number", nb("asn", "64500-64500", "arin", "ORG-E", "assigned", ""), "documentation"},
		{"AS number out of range", nb("asn", "4294967296-4294967296", "arin", "ORG-E", "assigned", ""), "out of range"},
		{"no holder", prefixBlock(t, "ipv4", "2.1.2.0/24", "ORG-A", "", "assigned", ""), "name the holder"},
		{"ipv6 grant size", prefixBlock(t, "ipv6", "2a00::/24", "iana", "ripencc", "allocated", ""), "grants ripencc one /12"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := len(m.entries)
			_, err := m.do(t, steward.AllocateBlock(steward.ActorImport, tt.b))
			if err == nil || steward.ErrorCode(err) != steward.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("AllocateBlock = %v; want EINVALID with %q", err, tt.want)
			}
			if len(m.entries) != n {
				t.Fatal("a refused allocation emitted events")
			}
		})
	}
	// IANA allocates RIPE NCC the /12 the IPv6 policy grants (it has less
	// than half a /12 available).
	m.must(t, steward.AllocateBlock(steward.ActorImport, prefixBlock(t, "ipv6", "2a00::/12", "iana", "ripencc", "allocated", "")))
	// An operator-less participant may not allocate.
	_, err := m.do(t, steward.AllocateBlock("mallory", prefixBlock(t, "ipv4", "2.1.3.0/24", "ORG-A", "ORG-B", "assigned", "")))
	wantCode(t, err, steward.EFORBIDDEN)
}

func TestReturn(t *testing.T) {
	m := numbersFixture(t)
	m.must(t, steward.AllocateBlock(steward.ActorImport, prefixBlock(t, "ipv4", "2.1.0.0/24", "ORG-A", "ORG-B", "assigned", "")))
	alloc := prefixBlock(t, "ipv4", "2.0.0.0/12", "ripencc", "", "", "")
	_, err := m.do(t, steward.ReturnBlock(steward.ActorImport, alloc.Ref(), "closing", false))
	wantCode(t, err, steward.ECONFLICT)
	asg := prefixBlock(t, "ipv4", "2.1.0.0/24", "ORG-A", "", "", "")
	m.must(t, steward.ReturnBlock(steward.ActorImport, asg.Ref(), "no longer needed", false))
	m.must(t, steward.ReturnBlock(steward.ActorImport, alloc.Ref(), "closing", true))
	b, err := steward.LoadBlock(context.Background(), m, alloc.Ref().Key())
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != "available" || b.Holder != "" || len(b.Events) != 2 {
		t.Fatalf("returned block: %+v", b)
	}
	// The returned space can be allocated again, from the pool.
	m.must(t, steward.AllocateBlock(steward.ActorImport, prefixBlock(t, "ipv4", "2.0.0.0/13", "ripencc", "ORG-F", "allocated", "")))
	_, err = m.do(t, steward.ReturnBlock(steward.ActorImport, alloc.Ref(), "again", false))
	wantCode(t, err, steward.ENOTFOUND)
}

func TestPolicies(t *testing.T) {
	m := numbersFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	report := func() *steward.PolicyReport {
		var all []*steward.Block
		for _, f := range steward.Families {
			bs, err := steward.LoadBlocks(ctx, m, f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, bs...)
		}
		p, err := steward.LoadNumberPolicies(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return steward.EvaluatePolicies(p, all, at)
	}
	grant := func(r *steward.PolicyReport, rir, policy string) steward.PolicyGrant {
		for _, g := range r.Grants {
			if g.Registry == rir && g.Policy == policy {
				return g
			}
		}
		t.Fatalf("no %s grant for %s", policy, rir)
		return steward.PolicyGrant{}
	}
	r := report()
	// RIPE NCC holds a /23 with a /32 allocated: 511 /32s free, under half
	// a /12 (32768 /32s): one /12.
	if g := grant(r, "ripencc", "ipv6"); !g.Eligible || g.Bits != 12 || !strings.Contains(g.Why, "under 50% of a /12") {
		t.Errorf("ipv6 ripencc: %+v", g)
	}
	// ARIN has assigned 1 of 1876 AS numbers: not eligible.
	if g := grant(r, "arin", "asn"); g.Eligible {
		t.Errorf("asn arin: %+v", g)
	}
	// The recovered pool holds a /19; RIPE NCC's inventory is a /12, and
	// the others hold nothing: active. A fifth of 8192 is 1638, rounded
	// down to a /22.
	if g := grant(r, "apnic", "ipv4-recovered"); !g.Eligible || g.Bits != 22 {
		t.Errorf("ipv4-recovered apnic: %+v", g)
	}
	// A policy process halves the threshold and doubles the ASN block.
	p := steward.DefaultNumberPolicies()
	p.IPv6.ThresholdPercent = 0
	p.IPv6.NeedMonths = 0
	p.ASN.BlockSize = 2048
	m.must(t, steward.SetNumberPolicies(steward.ActorImport, p, "test"))
	r = report()
	if g := grant(r, "ripencc", "ipv6"); g.Eligible {
		t.Errorf("ipv6 ripencc after the change: %+v", g)
	}
	if r.Policies.ASN.BlockSize != 2048 {
		t.Errorf("policies in force: %+v", r.Policies.ASN)
	}
	bad := steward.DefaultNumberPolicies()
	bad.ASN.AssignedPercent = 101
	_, err := m.do(t, steward.SetNumberPolicies(steward.ActorImport, bad, ""))
	wantCode(t, err, steward.EINVALID)
	// Periods start on 1 March and 1 September.
	for at, want := range map[string]string{"2026-01-02": "2025-09-01", "2026-03-01": "2026-03-01", "2026-08-31": "2026-03-01", "2026-09-01": "2026-09-01"} {
		d, _ := time.Parse("2006-01-02", at)
		if got := p.IPv4.PeriodStart(d).Format("2006-01-02"); got != want {
			t.Errorf("PeriodStart(%s) = %s; want %s", at, got, want)
		}
	}
}

func TestCIDRSplit(t *testing.T) {
	for _, tt := range []struct{ fam, rng, want string }{
		{"ipv4", "2.0.1.0-2.0.3.255", "2.0.1.0/24 2.0.2.0/23"},
		{"ipv4", "0.0.0.0-255.255.255.255", "0.0.0.0/0"},
		{"ipv4", "10.0.0.1-10.0.0.6", "10.0.0.1/32 10.0.0.2/31 10.0.0.4/31 10.0.0.6/32"},
		{"ipv6", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"},
		{"ipv6", "2001:db8::-2001:db8::ff", "2001:db8::/120"},
	} {
		b := nb(tt.fam, tt.rng, "iana", "", "reserved", "")
		if err := b.Normalize(); err != nil && tt.fam == "ipv4" {
			t.Fatal(err)
		}
		var got []string
		for _, p := range b.Prefixes() {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("Prefixes(%s) = %v; want %s", tt.rng, got, tt.want)
		}
	}
}

func TestCanonicalBlock(t *testing.T) {
	b := &steward.Block{Family: "ipv4", First: "1.0.0.0", Last: "1.0.0.255", Registry: "apnic", Holder: "A<&>", Status: "assigned", Country: "AU", Date: "20110811",
		Name: "Ünïcode \u2028 \"q\"", Contacts: []steward.Contact{{Handle: "H", Role: "abuse"}}, Ext: []string{"x"}, Events: []int64{1, 2},
		IANA: &steward.IANAEntry{Registry: "r", Prefix: "001/8", Designation: "d", Status: "S", Date: "2010-01", Whois: "w", RDAP: []string{"https://x/"}, Xrefs: []string{"note:1"}, Notes: "<xref/>", Raw: "<record>\n</record>"}}
	for _, x := range []*steward.Block{b, {Family: "asn", First: "1", Last: "2", Registry: "iana", Status: "reserved"}} {
		got, err := steward.CanonicalBlockJSON(x)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := json.Marshal(x)
		want, err := steward.CanonicalJSON(plain)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("canonicalBlock:\n%s\nCanonicalJSON:\n%s", got, want)
		}
	}
}

// FuzzParseSpan feeds arbitrary ranges, prefixes and AS numbers (the web's
// lookups and the CLI's arguments) to ParseSpan: it never panics, and what
// it accepts is a well-ordered range of the family that writes back and
// parses again to itself.
func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"193.0.6.139", "2.0.0.0/12", "2001:db8::/32", "10.0.0.0-10.0.2.255", "AS3333", "64496-64511", "4294967295", "::/0", "1.2.3", "2001:db8::1/32", "AS4294967296", "-", "1-"} {
		for _, fam := range steward.Families {
			f.Add(fam, s)
		}
	}
	f.Fuzz(func(t *testing.T, fam, s string) {
		sp, err := steward.ParseSpan(fam, s)
		if err != nil {
			if steward.ErrorCode(err) != steward.EINVALID {
				t.Fatalf("ParseSpan(%q, %q): %v is not EINVALID", fam, s, err)
			}
			return
		}
		if sp.Last.Less(sp.First) {
			t.Fatalf("ParseSpan(%q, %q) = %v, backwards", fam, s, sp)
		}
		text := steward.FormatNumber(fam, sp.First) + "-" + steward.FormatNumber(fam, sp.Last)
		again, err := steward.ParseSpan(fam, text)
		if err != nil || again != sp {
			t.Fatalf("ParseSpan(%q, %q) = %v, written %q, read back %v, %v", fam, s, sp, text, again, err)
		}
	})
}
