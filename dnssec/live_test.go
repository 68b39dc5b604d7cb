package dnssec

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// unsignedContent returns the records of rrs without DNSSEC records, by
// lower-case owner name.
func unsignedContent(rrs []dns.RR) map[string][]dns.RR {
	m := map[string][]dns.RR{}
	for _, rr := range rrs {
		if isDNSSECType(rr.Header().Rrtype) {
			continue
		}
		name := strings.ToLower(rr.Header().Name)
		m[name] = append(m[name], rr)
	}
	return m
}

func recordsOf(m map[string][]dns.RR) []dns.RR {
	var out []dns.RR
	for _, rrs := range m {
		out = append(out, rrs...)
	}
	return out
}

// signedRoot signs the unsigned content whole with a new Signer, which it
// returns with the signed version.
func signedRoot(t *testing.T, content map[string][]dns.RR, keys SigningKeys, now time.Time) (*Signer, *zone.Zone) {
	t.Helper()
	unsigned, err := zone.New(".", recordsOf(content))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSigner(".", DefaultPolicy)
	z, _, err := s.UpdateZone(unsigned, keys, now)
	if err != nil {
		t.Fatal(err)
	}
	return s, z
}

// sameButSignatures checks that two signed versions hold the same records
// but for the RRSIGs' signature bytes (ECDSA signatures differ each time),
// and, with noZONEMD, got's missing ZONEMD.
func sameButSignatures(t *testing.T, got, want *zone.Zone, noZONEMD bool) {
	t.Helper()
	strip := func(z *zone.Zone, dropMD bool) []string {
		var out []string
		for _, rr := range z.Records() {
			if sig, ok := rr.(*dns.RRSIG); ok {
				if dropMD && sig.TypeCovered == dns.TypeZONEMD {
					continue
				}
				c := *sig
				c.Signature = ""
				out = append(out, c.String())
				continue
			}
			if md, ok := rr.(*dns.ZONEMD); ok {
				if dropMD {
					continue
				}
				c := *md
				c.Digest = ""
				out = append(out, c.String())
				continue
			}
			if nsec, ok := rr.(*dns.NSEC); ok && dropMD && nsec.Hdr.Name == z.Origin {
				c := *nsec
				c.TypeBitMap = slices.DeleteFunc(slices.Clone(nsec.TypeBitMap), func(t uint16) bool { return t == dns.TypeZONEMD })
				out = append(out, c.String())
				continue
			}
			out = append(out, rr.String())
		}
		slices.Sort(out)
		return out
	}
	g, w := strip(got, false), strip(want, noZONEMD)
	if !slices.Equal(g, w) {
		for _, s := range w {
			if !slices.Contains(g, s) {
				t.Errorf("missing: %s", s)
			}
		}
		for _, s := range g {
			if !slices.Contains(w, s) {
				t.Errorf("extra: %s", s)
			}
		}
		t.FailNow()
	}
}

// TestPatchRootZone signs the real root zone, then patches it: a DS
// changed, a TLD added with its glue and DS, one removed with its glue,
// another's name servers moved. Each version verifies, in process and
// with the validators, and holds exactly what signing its whole content
// from scratch gives (signature bytes aside); only what the change touches
// is signed.
func TestPatchRootZone(t *testing.T) {
	now := time.Now() // the validators read the real clock
	keys := keyPair(t, dns.ECDSAP256SHA256)
	content := unsignedContent(rootZone(t))
	s, z0 := signedRoot(t, content, keys, now)
	rr := func(s string) dns.RR { return mustParse(t, s) }
	soa := z0.SOA()
	var changes []zone.Change
	set := func(name string, recs ...string) {
		c := zone.Change{Name: name}
		for _, r := range recs {
			c.Records = append(c.Records, rr(r))
		}
		changes = append(changes, c)
		if len(c.Records) == 0 {
			delete(content, name)
		} else {
			content[name] = c.Records
		}
	}
	// A new DS for org.
	set("org.", append(nsOf(z0, "org."), "org. 86400 IN DS 26974 8 2 4FEDE294C53F438A158C41D39489CD78A86BEB0D8A0AEAFF14745C0D16E1DE32")...)
	// A new TLD with in-bailiwick glue and a DS, after every other.
	set("zzzz-steward.", "zzzz-steward. 172800 IN NS ns1.zzzz-steward.", "zzzz-steward. 86400 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")
	set("ns1.zzzz-steward.", "ns1.zzzz-steward. 172800 IN A 192.0.2.53")
	// A TLD removed with its glue.
	var gone string
	for _, n := range z0.Names() {
		if d, ok := z0.Delegation(n); ok && d == n && n != "org." && strings.Count(n, ".") == 1 {
			next := z0.Next(n)
			if next != "" && dns.IsSubDomain(n, next) {
				gone = n
				break
			}
		}
	}
	set(gone)
	for d := z0.Next(gone); d != "" && dns.IsSubDomain(gone, d); d = z0.Next(d) {
		set(d)
	}
	// Another TLD's name servers replaced by out-of-zone ones.
	set("net.", "net. 172800 IN NS ns.example.org.", "net. 172800 IN NS ns.example.com.")
	// (its DS kept; its glue stays in the zone, occluded).
	if ds := z0.RRset("net.", dns.TypeDS); len(ds) > 0 {
		content["net."] = append(content["net."], ds...)
		changes[len(changes)-1].Records = append(changes[len(changes)-1].Records, ds...)
	}

	z1, st, err := s.Patch(z0, changes, soa.Serial+1, keys, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if st.Signed > 3*len(changes)+4 {
		t.Errorf("signed %d signatures for %d changed names", st.Signed, len(changes))
	}
	t.Logf("patch: %d signatures made, %d reused, %d names changed", st.Signed, st.Reused, len(changes))
	if z1.Serial != soa.Serial+1 || len(z1.RRset(".", dns.TypeZONEMD)) != 0 {
		t.Fatalf("serial %d, %d ZONEMD records", z1.Serial, len(z1.RRset(".", dns.TypeZONEMD)))
	}
	if err := Verify(z1, now); err != nil {
		t.Fatal(err)
	}
	newSOA := dns.Copy(soa).(*dns.SOA)
	newSOA.Serial = soa.Serial + 1
	content["."] = replaceSOA(content["."], newSOA)
	full, err := Sign(".", recordsOf(content), keys, DefaultPolicy, now)
	if err != nil {
		t.Fatal(err)
	}
	sameButSignatures(t, z1, full, true)
	path := writeZone(t, z1, true)
	runValidator(t, "dnssec-verify", "-o", ".", path)
	runValidator(t, "ldns-verify-zone", path)

	// The digest follows: a patch without changes and a new serial.
	z2, st, err := s.Patch(z1, nil, soa.Serial+2, keys, now, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyZONEMD(z2); err != nil {
		t.Fatal(err)
	}
	if err := Verify(z2, now); err != nil {
		t.Fatal(err)
	}
	newSOA = dns.Copy(newSOA).(*dns.SOA)
	newSOA.Serial++
	content["."] = replaceSOA(content["."], newSOA)
	if full, err = Sign(".", recordsOf(content), keys, DefaultPolicy, now); err != nil {
		t.Fatal(err)
	}
	sameButSignatures(t, z2, full, false)
	validate(t, z2)

	// A whole-zone signing afterwards reuses what the patches signed.
	again, err := zone.New(".", recordsOf(content))
	if err != nil {
		t.Fatal(err)
	}
	_, st, err = s.UpdateZone(again, keys, now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Signed > 2 {
		t.Errorf("the whole-zone signing after the patches made %d signatures, reused %d", st.Signed, st.Reused)
	}
}

func nsOf(z *zone.Zone, name string) []string {
	var out []string
	for _, rr := range z.RRset(name, dns.TypeNS) {
		out = append(out, rr.String())
	}
	return out
}

func replaceSOA(rrs []dns.RR, soa *dns.SOA) []dns.RR {
	out := []dns.RR{soa}
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeSOA {
			out = append(out, rr)
		}
	}
	return out
}

// TestPatchRefused checks the changes Patch does not sign, and that a
// refused patch leaves the Signer able to patch as before.
func TestPatchRefused(t *testing.T) {
	keys := keyPair(t, dns.ECDSAP256SHA256)
	s, z0 := signedRoot(t, unsignedContent(rootZone(t)), keys, testNow)
	rr := func(s string) dns.RR { return mustParse(t, s) }
	com := zone.Change{Name: "com."} // com. removed, its glue left
	for _, tc := range []struct {
		name    string
		changes []zone.Change
		keys    SigningKeys
		full    bool
	}{
		{"apex", []zone.Change{{Name: ".", Records: []dns.RR{rr(". 518400 IN NS a.root-servers.net.")}}}, keys, true},
		{"new keys", nil, keyPair(t, dns.ECDSAP256SHA256), true},
		{"cut removed above glue", []zone.Change{com}, keys, true},
		{"DNAME", []zone.Change{{Name: "x.", Records: []dns.RR{rr("x. 3600 IN DNAME example.")}}}, keys, true},
		{"signed records", []zone.Change{{Name: "org.", Records: []dns.RR{rr("org. 3600 IN NSEC a. NS")}}}, keys, false},
		{"other owner", []zone.Change{{Name: "org.", Records: []dns.RR{rr("net. 3600 IN NS a.example.")}}}, keys, false},
		{"class", []zone.Change{{Name: "org.", Records: []dns.RR{rr("org. 3600 CH NS a.example.")}}}, keys, false},
		{"DS not at a cut", []zone.Change{{Name: "new.", Records: []dns.RR{rr("new. 3600 IN DS 1 13 2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")}}}, keys, false},
		{"TTLs", []zone.Change{{Name: "new.", Records: []dns.RR{rr("new. 3600 IN NS a.example."), rr("new. 7200 IN NS b.example.")}}}, keys, false},
		{"twice", []zone.Change{{Name: "new.", Records: []dns.RR{rr("new. 3600 IN NS a.example.")}}, {Name: "NEW.", Records: []dns.RR{rr("new. 3600 IN NS a.example.")}}}, keys, false},
		{"SOA", []zone.Change{{Name: "new.", Records: []dns.RR{rr("new. 3600 IN SOA a. b. 1 2 3 4 5")}}}, keys, false},
	} {
		_, _, err := s.Patch(z0, tc.changes, z0.Serial+1, tc.keys, testNow, false)
		switch {
		case err == nil:
			t.Errorf("%s: patch accepted", tc.name)
		case errors.Is(err, ErrFullSign) != tc.full:
			t.Errorf("%s: %v, ErrFullSign %v", tc.name, err, !tc.full)
		default:
			t.Logf("%s: %v", tc.name, err)
		}
	}
	z1, _, err := s.Patch(z0, []zone.Change{{Name: "new.", Records: []dns.RR{rr("new. 3600 IN NS a.example.")}}}, z0.Serial+1, keys, testNow, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(z1, testNow); err != nil {
		t.Fatal(err)
	}
	if err := VerifyZONEMD(z1); err != nil {
		t.Fatal(err)
	}
}
