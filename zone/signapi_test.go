package zone

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestAssemble: a zone assembled in parts from another's records, in
// canonical order, is the same zone, lookups included; a part that holds
// other than its size, or records out of order, is an error.
func TestAssemble(t *testing.T) {
	var rrs []dns.RR
	for _, s := range []string{
		". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026112600 1800 900 604800 86400",
		". 518400 IN NS a.root-servers.net.",
		". 518400 IN NS b.root-servers.net.",
		"example. 172800 IN NS ns1.example.",
		"example. 172800 IN NS ns2.nic.example.",
		"ns1.example. 172800 IN A 192.0.2.1",
		"ns2.nic.example. 172800 IN AAAA 2001:db8::2",
		"example. 86400 IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"org. 172800 IN NS a0.org.afilias-nst.info.",
		`\000.org. 172800 IN A 192.0.2.7`,
		`a\.b.org. 172800 IN A 192.0.2.8`,
		"*.org. 172800 IN TXT \"x\"",
	} {
		rrs = append(rrs, rr(t, s))
	}
	want, err := New(".", rrs)
	if err != nil {
		t.Fatal(err)
	}
	for _, per := range []int{1, 2, 100} {
		var sizes []PartSize
		for lo := 0; lo < len(want.names); lo += per {
			var p PartSize
			for i := lo; i < min(lo+per, len(want.names)); i++ {
				p.Names++
				p.NameBytes += len(want.names[i])
				for k := want.first[i]; k < want.first[i+1]; k++ {
					n := 0
					for r := want.sets[k].first; r < want.sets[k].first+want.sets[k].n; r++ {
						n += len(want.rdata(r))
					}
					p.Add(int(want.sets[k].n), n)
				}
			}
			sizes = append(sizes, p)
		}
		fill := func(part int, w *PartWriter) error {
			for i := part * per; i < min((part+1)*per, len(want.names)); i++ {
				w.Name(want.names[i])
				for k := want.first[i]; k < want.first[i+1]; k++ {
					s := want.sets[k]
					for r := s.first; r < s.first+s.n; r++ {
						rr := want.decode(i, s.typ, r)
						w.Record(s.typ, rr.Header().Class, rr.Header().Ttl, want.rdata(r))
					}
				}
			}
			return nil
		}
		got, err := Assemble(".", sizes, fill)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := text(want), text(got); a != b {
			t.Errorf("%d names a part: assembled\n%s\nwant\n%s", per, b, a)
		}
		if got.Serial != want.Serial || got.Len() != want.Len() || !got.Exists("nic.example.") || got.Previous("net.") != "ns1.example." || len(got.RRset("NS1.example.", dns.TypeA)) != 1 {
			t.Errorf("%d names a part: lookups differ", per)
		}
		short := append([]PartSize(nil), sizes...)
		short[len(short)-1].Records++
		short[len(short)-1].Sets++
		if _, err := Assemble(".", short, fill); err == nil {
			t.Errorf("%d names a part: a part holding less than its size was accepted", per)
		}
	}
	if _, err := Assemble(".", []PartSize{{Names: 1, NameBytes: 1, Sets: 2, Records: 2, RdataBytes: 100}}, func(_ int, w *PartWriter) error {
		w.Name(".")
		w.Record(dns.TypeSOA, dns.ClassINET, 1, make([]byte, 22))
		w.Record(dns.TypeNS, dns.ClassINET, 1, []byte{0})
		return nil
	}); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("types out of order: %v", err)
	}
}

func text(z *Zone) string {
	var b strings.Builder
	for _, rr := range z.Records() {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}
