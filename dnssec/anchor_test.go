package dnssec

import (
	"bufio"
	"bytes"
	"os"
	"steward/internal/testdata"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

var (
	rootAnchorsFile = testdata.Shared("root-zone", "root-anchors.xml")
	rootZoneForKSK  = testdata.RootZoneFile
)

func anchorDate(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestParseRootAnchors parses IANA's real root-anchors.xml.
func TestParseRootAnchors(t *testing.T) {
	b, err := os.ReadFile(rootAnchorsFile)
	if err != nil {
		skipWithoutData(t, err)
	}
	ta, err := ParseTrustAnchorXML(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &TrustAnchor{
		ID:     "E9724F53-1851-4F86-85E5-F1392102940B",
		Source: "http://data.iana.org/root-anchors/root-anchors.xml",
		Zone:   ".",
		Digests: []KeyDigest{
			{ID: "Kjqmt7v", ValidFrom: anchorDate("2010-07-15T00:00:00Z"), ValidUntil: anchorDate("2019-01-11T00:00:00Z"),
				KeyTag: 19036, Algorithm: 8, DigestType: 2, Digest: "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5"},
			{ID: "Klajeyz", ValidFrom: anchorDate("2017-02-02T00:00:00Z"),
				KeyTag: 20326, Algorithm: 8, DigestType: 2, Digest: "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"},
			{ID: "Kmyv6jo", ValidFrom: anchorDate("2024-07-18T00:00:00Z"),
				KeyTag: 38696, Algorithm: 8, DigestType: 2, Digest: "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"},
		},
	}
	if diff := cmp.Diff(want, ta); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}

	// The anchors valid in 2023, as DS records in zone-file form.
	got := DSText(ta.DS(anchorDate("2023-05-11T00:00:00Z")))
	wantText := ".\t0\tIN\tDS\t20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
	if got != wantText {
		t.Errorf("DS text = %q, want %q", got, wantText)
	}
	if n := len(ta.DS(anchorDate("2025-01-01T00:00:00Z"))); n != 2 {
		t.Errorf("%d anchors valid in 2025, want 2", n)
	}
	if n := len(ta.DS(time.Time{})); n != 3 {
		t.Errorf("%d anchors in all, want 3", n)
	}

	// Marshal and parse again: the same document.
	out, err := ta.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseTrustAnchorXML(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if diff := cmp.Diff(ta, again); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, s := range []string{`<KeyDigest id="Kjqmt7v" validFrom="2010-07-15T00:00:00+00:00" validUntil="2019-01-11T00:00:00+00:00">`, "<KeyTag>20326</KeyTag>"} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output lacks %s:\n%s", s, out)
		}
	}
}

// rootKSK2017 reads KSK-2017 (tag 20326) from the real root zone file.
func rootKSK2017(t *testing.T) *dns.DNSKEY {
	t.Helper()
	f, err := os.Open(rootZoneForKSK)
	if err != nil {
		skipWithoutData(t, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, ".") || !strings.Contains(line, "DNSKEY") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := rr.(*dns.DNSKEY); ok && k.KeyTag() == 20326 {
			return k
		}
	}
	t.Fatal("KSK-2017 not found in the root zone")
	return nil
}

// TestRealKSKMatchesAnchor computes the DS of the real KSK-2017 and finds
// IANA's digest; a trust anchor built from it carries the key itself.
func TestRealKSKMatchesAnchor(t *testing.T) {
	ksk := rootKSK2017(t)
	key := &Key{DNSKEY: ksk}
	ds := DSRecords([]*Key{key}, 172800)
	if len(ds) != 1 {
		t.Fatalf("DS records: %v", ds)
	}
	want := ".\t172800\tIN\tDS\t20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
	if got := DSText(ds); got != want {
		t.Errorf("DS = %q, want %q", got, want)
	}
	b, err := os.ReadFile(rootAnchorsFile)
	if err != nil {
		skipWithoutData(t, err)
	}
	iana, err := ParseTrustAnchorXML(b)
	if err != nil {
		t.Fatal(err)
	}
	if iana.Digests[1].Digest != ds[0].Digest {
		t.Errorf("IANA's digest %s, ours %s", iana.Digests[1].Digest, ds[0].Digest)
	}

	from := map[uint16]time.Time{20326: anchorDate("2017-02-02T00:00:00Z")}
	doc, err := TrustAnchorXML(".", []*Key{key}, from, nil)
	if err != nil {
		t.Fatal(err)
	}
	ta, err := ParseTrustAnchorXML(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	d := ta.Digests[0]
	if d.Digest != iana.Digests[1].Digest || d.PublicKey != ksk.PublicKey || d.Flags != 257 || !d.ValidFrom.Equal(from[20326]) {
		t.Errorf("anchor = %+v", d)
	}
	// A PublicKey that does not match the digest is refused.
	tampered := bytes.Replace(doc, []byte(ksk.PublicKey[:20]), []byte("AwEAAaz/tAm8yTn4MfeX"), 1)
	if _, err := ParseTrustAnchorXML(tampered); err == nil {
		t.Error("a PublicKey that does not match was accepted")
	}
}

// TestTrustAnchorXMLRoundTrip builds a document from generated KSKs,
// parses it back, and checks each digest against the key's DS.
func TestTrustAnchorXMLRoundTrip(t *testing.T) {
	var ksks []*Key
	from, until := map[uint16]time.Time{}, map[uint16]time.Time{}
	for i, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519, dns.RSASHA256} {
		k, err := GenerateKey(".", alg, true)
		if err != nil {
			t.Fatal(err)
		}
		ksks = append(ksks, k)
		from[k.Tag()] = anchorDate("2026-01-01T00:00:00Z").Add(time.Duration(i) * 24 * time.Hour)
	}
	until[ksks[0].Tag()] = anchorDate("2028-01-03T02:00:00Z")
	doc, err := TrustAnchorXML(".", ksks, from, until)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<TrustAnchor id=\"")) {
		t.Errorf("document starts %q", doc[:60])
	}
	if !bytes.Contains(doc, []byte(`validFrom="2026-01-01T00:00:00+00:00" validUntil="2028-01-03T02:00:00+00:00"`)) {
		t.Errorf("times not in IANA's form:\n%s", doc)
	}
	again, err := TrustAnchorXML(".", ksks, from, until)
	if err != nil || !bytes.Equal(doc, again) {
		t.Errorf("the same keys and times gave another document (%v)", err)
	}
	ta, err := ParseTrustAnchorXML(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if ta.Zone != "." || len(ta.Digests) != 3 || len(ta.ID) != 36 {
		t.Fatalf("parsed %+v", ta)
	}
	ds := DSRecords(ksks, 86400)
	for _, k := range ksks {
		var d *KeyDigest
		for i := range ta.Digests {
			if ta.Digests[i].KeyTag == k.Tag() {
				d = &ta.Digests[i]
			}
		}
		if d == nil {
			t.Fatalf("key %d missing", k.Tag())
		}
		want := k.DNSKEY.ToDS(dns.SHA256)
		if d.Algorithm != k.DNSKEY.Algorithm || d.DigestType != dns.SHA256 || d.Digest != strings.ToUpper(want.Digest) {
			t.Errorf("key %d: digest %+v, want %s", k.Tag(), d, want)
		}
		if !d.ValidFrom.Equal(from[k.Tag()]) || !d.ValidUntil.Equal(until[k.Tag()]) {
			t.Errorf("key %d: valid %s to %s", k.Tag(), d.ValidFrom, d.ValidUntil)
		}
		if len(d.ID) != 7 || d.ID[0] != 'K' {
			t.Errorf("key %d: id %q", k.Tag(), d.ID)
		}
		found := false
		for _, r := range ds {
			found = found || r.KeyTag == k.Tag() && r.Digest == d.Digest && r.Hdr.Ttl == 86400 && r.DigestType == dns.SHA256
		}
		if !found {
			t.Errorf("key %d: no DS record matches the digest %s in %v", k.Tag(), d.Digest, ds)
		}
	}
	if ta.Digests[0].KeyTag != ksks[0].Tag() {
		t.Errorf("digests not ordered by validFrom")
	}
}

func TestNewTrustAnchorRefuses(t *testing.T) {
	ksk, err := GenerateKey(".", dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := GenerateKey(".", dns.ECDSAP256SHA256, false)
	if err != nil {
		t.Fatal(err)
	}
	org, err := GenerateKey("org.", dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := anchorDate("2026-01-01T00:00:00Z")
	for _, tc := range []struct {
		name        string
		keys        []*Key
		from, until map[uint16]time.Time
		want        string
	}{
		{"ZSK", []*Key{zsk}, map[uint16]time.Time{zsk.Tag(): t0}, nil, "not a KSK"},
		{"other zone", []*Key{org}, map[uint16]time.Time{org.Tag(): t0}, nil, "belongs to org."},
		{"twice", []*Key{ksk, ksk}, map[uint16]time.Time{ksk.Tag(): t0}, nil, "two keys with tag"},
		{"no validFrom", []*Key{ksk}, nil, nil, "no validFrom"},
		{"stray time", []*Key{ksk}, map[uint16]time.Time{ksk.Tag(): t0, ksk.Tag() + 1: t0}, nil, "not among the keys"},
		{"until before from", []*Key{ksk}, map[uint16]time.Time{ksk.Tag(): t0}, map[uint16]time.Time{ksk.Tag(): t0.Add(-time.Hour)}, "before validFrom"},
		{"no keys", nil, nil, nil, "no KeyDigest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TrustAnchorXML(".", tc.keys, tc.from, tc.until)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// anchorDoc is a valid document for the parser tests to break.
const anchorDoc = `<?xml version="1.0" encoding="UTF-8"?>
<TrustAnchor id="E9724F53-1851-4F86-85E5-F1392102940B" source="http://data.iana.org/root-anchors/root-anchors.xml">
<Zone>.</Zone>
<KeyDigest id="Klajeyz" validFrom="2017-02-02T00:00:00+00:00">
<KeyTag>20326</KeyTag>
<Algorithm>8</Algorithm>
<DigestType>2</DigestType>
<Digest>E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D</Digest>
</KeyDigest>
</TrustAnchor>
`

func TestParseTrustAnchorXMLRefuses(t *testing.T) {
	if _, err := ParseTrustAnchorXML([]byte(anchorDoc)); err != nil {
		t.Fatalf("the base document: %v", err)
	}
	replace := func(old, new string) string {
		if !strings.Contains(anchorDoc, old) {
			panic(old)
		}
		return strings.Replace(anchorDoc, old, new, 1)
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "EOF"},
		{"not XML", "DS 20326 8 2 E06D", "EOF"},
		{"truncated", anchorDoc[:200], "unexpected EOF"},
		{"other root", replace("<TrustAnchor ", "<TrustAnchors "), "expected element type <TrustAnchor>"},
		{"no id", replace(`id="E9724F53-1851-4F86-85E5-F1392102940B" `, ""), "id"},
		{"no zone", replace("<Zone>.</Zone>", ""), "0 Zone elements"},
		{"two zones", replace("<Zone>.</Zone>", "<Zone>.</Zone><Zone>org.</Zone>"), "2 Zone elements"},
		{"bad zone", replace("<Zone>.</Zone>", "<Zone>a..b</Zone>"), "not a fully qualified"},
		{"no digests", replace(anchorDoc[strings.Index(anchorDoc, "<KeyDigest"):strings.Index(anchorDoc, "</TrustAnchor>")], ""), "no KeyDigest"},
		{"no validFrom", replace(` validFrom="2017-02-02T00:00:00+00:00"`, ""), "validFrom"},
		{"bad validFrom", replace("2017-02-02T00:00:00+00:00", "2017-02-02"), "not an RFC 3339 time"},
		{"until before from", replace(`validFrom="2017-02-02T00:00:00+00:00"`, `validFrom="2017-02-02T00:00:00+00:00" validUntil="2016-01-01T00:00:00+00:00"`), "before validFrom"},
		{"key tag too big", replace("<KeyTag>20326</KeyTag>", "<KeyTag>70000</KeyTag>"), "KeyTag"},
		{"no key tag", replace("<KeyTag>20326</KeyTag>", ""), "0 KeyTag elements"},
		{"two algorithms", replace("<Algorithm>8</Algorithm>", "<Algorithm>8</Algorithm><Algorithm>13</Algorithm>"), "2 Algorithm elements"},
		{"negative digest type", replace("<DigestType>2</DigestType>", "<DigestType>-2</DigestType>"), "DigestType"},
		{"digest not hex", replace("E06D44B8", "E06D44BX"), "not upper-case hexadecimal"},
		{"digest too short", replace("E06D44B8", ""), "digest of 28 bytes for digest type 2, want 32"},
		{"public key alone", replace("</Digest>", "</Digest><PublicKey>AwEAAQ==</PublicKey>"), "PublicKey and 0 Flags"},
		{"public key not base64", replace("</Digest>", "</Digest><PublicKey>!!</PublicKey><Flags>257</Flags>"), "not base64"},
		{"public key of another key", replace("</Digest>", "</Digest><PublicKey>AwEAAQ==</PublicKey><Flags>257</Flags>"), "key tag"},
		{"control character in id", replace(`id="Klajeyz"`, `id="K&#x80;x"`), "not printable"},
		{"too large", anchorDoc + strings.Repeat(" ", maxAnchorXML), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTrustAnchorXML([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Unknown elements and attributes are ignored; lower-case hex is
	// accepted and normalized.
	lenient := strings.Replace(replace("<Zone>.</Zone>", `<Zone>.</Zone><Comment lang="en">future</Comment>`), "E06D44B8", "e06d44b8", 1)
	ta, err := ParseTrustAnchorXML([]byte(lenient))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ta.Digests[0].Digest, "E06D44B8") {
		t.Errorf("digest %s not upper case", ta.Digests[0].Digest)
	}
}

func TestDSRecords(t *testing.T) {
	a, err := GenerateKey("example.org", dns.ED25519, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey("example.org", dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	ds := DSRecords([]*Key{a, b}, 3600)
	if len(ds) != 2 || ds[0].KeyTag > ds[1].KeyTag {
		t.Fatalf("DS records %v, want two ordered by tag", ds)
	}
	text := DSText(ds)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("text %q", text)
	}
	for i, line := range lines {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got := rr.(*dns.DS)
		if got.Hdr.Name != "example.org." || got.Hdr.Ttl != 3600 || got.DigestType != dns.SHA256 || got.Digest != ds[i].Digest {
			t.Errorf("line %q", line)
		}
		k := a
		if got.KeyTag == b.Tag() {
			k = b
		}
		if want := k.DNSKEY.ToDS(dns.SHA256); !strings.EqualFold(want.Digest, got.Digest) {
			t.Errorf("digest %s, ToDS gives %s", got.Digest, want.Digest)
		}
	}
}

func FuzzParseTrustAnchorXML(f *testing.F) {
	if b, err := os.ReadFile(rootAnchorsFile); err == nil {
		f.Add(b)
	}
	f.Add([]byte(anchorDoc))
	f.Add([]byte(strings.Replace(anchorDoc, "</Digest>", "</Digest><PublicKey>AwEAAQ==</PublicKey><Flags>257</Flags>", 1)))
	f.Add([]byte(`<TrustAnchor id="x"><Zone>org.</Zone><KeyDigest id="a" validFrom="2020-01-01T00:00:00.5-07:00" validUntil="2021-01-01T00:00:00Z"><KeyTag>1</KeyTag><Algorithm>13</Algorithm><DigestType>9</DigestType><Digest>ab</Digest></KeyDigest></TrustAnchor>`))
	f.Add([]byte("<TrustAnchor><Zone>"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ta, err := ParseTrustAnchorXML(b)
		if err != nil {
			return
		}
		// A document that parses marshals and parses back the same.
		out, err := ta.Marshal()
		if err != nil {
			t.Fatalf("parsed but does not marshal: %v", err)
		}
		again, err := ParseTrustAnchorXML(out)
		if err != nil {
			t.Fatalf("marshaled document does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(ta, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		_ = DSText(ta.DS(time.Time{}))
	})
}

// skipWithoutData skips a test whose shared data is missing, except
// under CI.
func skipWithoutData(t testing.TB, err error) {
	t.Helper()
	testdata.Missing(t, err)
}
