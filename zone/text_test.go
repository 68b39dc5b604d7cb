package zone

import (
	"os"
	"strings"
	"testing"
)

// TestAppendText: every record of the real root zone (signed: RRSIG,
// NSEC, DNSKEY, DS, NS, A, AAAA), and odd ones, written from wire form
// as miekg/dns's String writes the decoded record.
func TestAppendText(t *testing.T) {
	const root = "../../shared/data/root-zone/root.zone.2023051100"
	f, err := os.Open(root)
	if err != nil {
		t.Skipf("no root zone: %v", err)
	}
	defer f.Close()
	z, err := Load(f, root, ".")
	if err != nil {
		t.Fatal(err)
	}
	odd, err := Load(strings.NewReader(sample+`x.example.	3600	IN	AAAA	::ffff:192.0.2.1
y.example.	3600	IN	AAAA	::1.2.3.4
z.example.	3600	IN	NSEC	Z.example. A NS NSEC3PARAM TYPE1234
w\.x.example.	3600	IN	NS	a\@b.example.
*.example.	3600	IN	A	192.0.2.9
`), "odd.zone", ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range []*Zone{z, odd} {
		fast := 0
		var tc TextTimes
		for i, name := range z.names {
			for k := z.first[i]; k < z.first[i+1]; k++ {
				s := &z.sets[k]
				for r := s.first; r < s.first+s.n; r++ {
					want := z.decode(i, s.typ, r).String()
					got, ok := appendText(nil, name, s.typ, z.data[z.recs[r]:], &tc)
					if !ok {
						continue
					}
					fast++
					if string(got) != want {
						t.Fatalf("%q, want %q", got, want)
					}
				}
			}
		}
		if fast < z.Len()*9/10 {
			t.Errorf("%d of %d records written from wire form", fast, z.Len())
		}
	}
}
