package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzServeDNS feeds arbitrary bytes to the handler chain as a request,
// through the same first steps the server takes (header check, parse),
// over UDP or TCP as the first byte says. It must never panic (the chain
// turns a panic into SERVFAIL and a log line, which fails the test), and
// whatever it writes must be a response to the request.
func FuzzServeDNS(f *testing.F) {
	var logs logBuffer
	cfg := Config{
		Logger:   logs.logger(),
		Identity: "fuzz",
		TSIG:     []TSIGKey{xfrKey},
		Transfer: map[string]TransferPolicy{
			"example.": {Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
			".":        {Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}},
		},
		Update: map[string]UpdatePolicy{
			"example.": {Allow: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}, Apply: applyUnsigned},
		},
	}
	s := New(cfg)
	s.SetZone(rootZone(f))
	ex := loadZone(f, "example.zone", "example.")
	s.SetZone(ex)
	s.SetZone(edit(f, ex, ex.Serial+1, map[string][]string{"www.example. A": {"www.example. 3600 IN A 192.0.2.81"}}))

	seed := func(udp bool, a ask, edit func(*dns.Msg)) {
		m := a.msg()
		if edit != nil {
			edit(m)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		flag := byte(1)
		if udp {
			flag = 0
		}
		f.Add(append([]byte{flag}, b...))
	}
	seed(true, ask{name: "www.org.", qtype: dns.TypeA, do: true}, nil)
	seed(true, ask{name: "nonexistent.", qtype: dns.TypeA, do: true}, nil)
	seed(true, ask{name: ".", qtype: dns.TypeDNSKEY, do: true, edns: 512}, nil)
	seed(true, ask{name: "foo.wild.example.", qtype: dns.TypeANY, do: true}, nil)
	seed(true, ask{name: "alias.example.", qtype: dns.TypeA}, nil)
	seed(true, ask{name: "id.server.", qtype: dns.TypeTXT, class: dns.ClassCHAOS}, nil)
	seed(true, ask{name: "org.", qtype: dns.TypeDS, do: true}, func(m *dns.Msg) { m.Extra[0].(*dns.OPT).SetVersion(1) })
	seed(false, ask{name: "example.", qtype: dns.TypeAXFR}, nil)
	seed(false, ask{name: "example.", qtype: dns.TypeIXFR}, func(m *dns.Msg) { m.SetIxfr("example.", 2026010100, ".", ".") })
	seed(false, ask{name: "example.", qtype: dns.TypeAXFR}, func(m *dns.Msg) { m.SetTsig(xfrKey.Name, dns.HmacSHA256, 300, 0) })
	seed(true, ask{name: "example.", qtype: dns.TypeSOA}, func(m *dns.Msg) { m.SetNotify("example.") })
	seed(true, ask{name: "example.", qtype: dns.TypeSOA}, func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate })
	seed(true, ask{name: "example.", qtype: dns.TypeSOA}, func(m *dns.Msg) {
		m.SetUpdate("example.")
		m.Extra = nil
		m.Used([]dns.RR{mustRR(f, "mail.example. 0 IN A 192.0.2.25")})
		m.NameNotUsed([]dns.RR{mustRR(f, "new.example. 0 IN A 0.0.0.0")})
		m.Insert([]dns.RR{mustRR(f, "new.example. 300 IN A 192.0.2.1"), mustRR(f, "sub2.example. 300 IN NS ns.sub2.example.")})
		m.Remove([]dns.RR{mustRR(f, "mail.example. 3600 IN A 192.0.2.25")})
		m.RemoveRRset([]dns.RR{mustRR(f, "alias.example. 0 IN CNAME x.example.")})
		m.RemoveName([]dns.RR{mustRR(f, "dangling.example. 0 IN A 0.0.0.0")})
	})
	f.Add([]byte{0, 0x12, 0x34})
	f.Add(make([]byte, 13))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		w := &recorder{tcp: data[0]&1 == 1}
		if data[0]&2 != 0 {
			w.tsigErr = dns.ErrSig
		}
		pkt := data[1:]
		if len(pkt) < 12 || acceptMsg(header(pkt)) != dns.MsgAccept {
			return
		}
		r := new(dns.Msg)
		if err := r.Unpack(pkt); err != nil {
			return // miekg/dns answers FORMERR
		}
		s.ServeDNS(w, r)
		if l := logs.String(); strings.Contains(l, "panic") {
			t.Fatalf("panic for %q:\n%s", pkt, l)
		}
		if w.packErrs > 0 {
			t.Fatalf("a response failed to pack for %v", r)
		}
		if !w.answered() {
			return
		}
		resp, err := w.lastMsg()
		if err != nil {
			t.Fatalf("response does not parse: %v", err)
		}
		if !resp.Response || resp.Id != r.Id {
			t.Fatalf("not a response to the request: %v", resp)
		}
		if !w.tcp && len(w.last) > max(dns.MinMsgSize, DefaultUDPSize) && r.IsTsig() == nil {
			t.Fatalf("UDP response of %d bytes", len(w.last))
		}
	})
}

// header reads a message header as miekg/dns does before parsing.
func header(b []byte) dns.Header {
	return dns.Header{
		Id:      binary.BigEndian.Uint16(b[0:]),
		Bits:    binary.BigEndian.Uint16(b[2:]),
		Qdcount: binary.BigEndian.Uint16(b[4:]),
		Ancount: binary.BigEndian.Uint16(b[6:]),
		Nscount: binary.BigEndian.Uint16(b[8:]),
		Arcount: binary.BigEndian.Uint16(b[10:]),
	}
}

// FuzzFastPath feeds arbitrary bytes to the UDP fast path over the real
// root zone and a zone with wildcards and CNAMEs. It must never panic;
// what it answers must parse, answer the request (same id and question)
// and fit the client's size; and the handler chain must give the same
// answer (compared as TestFastPathMatchesChain does, names without case).
func FuzzFastPath(f *testing.F) {
	root := New(Config{})
	root.SetZone(rootZone(f))
	waitFast(f, root, ".")
	ex := New(Config{})
	ex.SetZone(loadZone(f, "example.zone", "example."))
	waitFast(f, ex, "example.")
	for _, a := range []ask{
		{name: "www.org.", qtype: dns.TypeA, do: true},
		{name: "WwW.oRg.", qtype: dns.TypeA, edns: 512},
		{name: "nonexistent.", qtype: dns.TypeA, do: true},
		{name: "a.b.nonexistent.", qtype: dns.TypeAAAA},
		{name: "org.", qtype: dns.TypeDS, do: true},
		{name: "zw.", qtype: dns.TypeDS, do: true},
		{name: ".", qtype: dns.TypeDNSKEY, do: true, edns: 4096},
		{name: ".", qtype: dns.TypeSOA},
		{name: ".", qtype: dns.TypeANY},
		{name: "www.example.", qtype: dns.TypeA, do: true},
		{name: "nope.example.", qtype: dns.TypeA, do: true},
		{name: "x.wild.example.", qtype: dns.TypeTXT, do: true},
	} {
		b, err := a.msg().Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	cookie := (ask{name: "www.org.", qtype: dns.TypeA, do: true}).msg()
	cookie.Extra[0].(*dns.OPT).Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"},
		&dns.EDNS0_NSID{Code: dns.EDNS0NSID}}
	if b, err := cookie.Pack(); err == nil {
		f.Add(b)
	}
	ecs := (ask{name: "www.org.", qtype: dns.TypeA, do: true}).msg()
	ecs.Extra[0].(*dns.OPT).Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{192, 0, 2, 0}}}
	if b, err := ecs.Pack(); err == nil {
		f.Add(b)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	f.Add(make([]byte, 17))

	out := make([]byte, 65535)
	var sc fastScratch
	f.Fuzz(func(t *testing.T, req []byte) {
		for _, s := range []*Server{root, ex} {
			n := s.answerFast(req, out, &sc)
			if n == 0 {
				continue
			}
			var q, resp dns.Msg
			if err := q.Unpack(req); err != nil {
				t.Fatalf("answered a request that does not parse (%v): %x", err, req)
			}
			if err := resp.Unpack(out[:n]); err != nil {
				t.Fatalf("answer does not parse: %v", err)
			}
			if !resp.Response || resp.Id != q.Id || len(resp.Question) != 1 || resp.Question[0] != q.Question[0] {
				t.Fatalf("not an answer to %v: %v", &q, &resp)
			}
			size := dns.MinMsgSize
			if opt := q.IsEdns0(); opt != nil {
				size = int(min(max(opt.UDPSize(), dns.MinMsgSize), DefaultUDPSize))
			}
			if n > size {
				t.Fatalf("answer of %d bytes to a client taking %d", n, size)
			}
			w := &recorder{}
			s.ServeDNS(w, &q)
			if !w.answered() {
				t.Fatalf("the chain does not answer %v", &q)
			}
			lq := q.Copy()
			lq.Question[0].Name = strings.ToLower(lq.Question[0].Name)
			lw := &recorder{}
			s.ServeDNS(lw, lq)
			if d := msgDiff(w.last, out[:n], false); d != "" && msgDiff(lw.last, out[:n], true) != "" && !isTruncated(w.last) {
				t.Fatalf("fast path differs from the chain for %v: %s", &q, d)
			}
		}
	})
}
