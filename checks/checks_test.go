package checks

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward"
	"steward/dnssec"
	"steward/internal/testproc"
)

// The lab: four NSD servers on loopback addresses, all on one port, and
// one address where nothing listens.
//
//	A 127.0.0.2   the first server of every zone
//	B 127.0.0.3   the second server, unless the zone says otherwise
//	C 127.0.0.4   serves the parent test. and so only refers noauth.test. onwards
//	D 127.0.0.5   its only TCP slot is taken: it closes every other TCP connection
//	  127.0.0.6   swallows every query (UDP read, TCP accepted, nothing answered)
//	  127.0.0.9   nothing
//
// Each zone under test. has one defect, or none (good.test.).
const (
	addrA, addrB           = "127.0.0.2", "127.0.0.3"
	addrC, addrD, addrNone = "127.0.0.4", "127.0.0.5", "127.0.0.9"
	addrSilent             = "127.0.0.6"
	addrA6                 = "::1" // A's IPv6 address, when the machine has one
)

// child is one child zone of the lab: what each server serves of it and
// the delegation the parent would publish.
type child struct {
	name   string
	del    Delegation
	served map[string]string // server label ("A", "B", "D") → zone file text
	want   []string          // the cases expected to fail
	tags   []string          // the tags of the failing results
	opt    func(*Options)
	suffix string // distinguishes runs of one zone under other options
}

type zoneKeys struct{ ksk, zsk *dnssec.Key }

func newKeys(t *testing.T, zone string) zoneKeys {
	t.Helper()
	ksk, err := dnssec.GenerateKey(zone, dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := dnssec.GenerateKey(zone, dns.ECDSAP256SHA256, false)
	if err != nil {
		t.Fatal(err)
	}
	return zoneKeys{ksk, zsk}
}

func dsOf(k *dnssec.Key) steward.DS {
	d := k.DNSKEY.ToDS(dns.SHA256)
	return steward.DS{KeyTag: d.KeyTag, Algorithm: d.Algorithm, DigestType: d.DigestType, Digest: strings.ToUpper(d.Digest)}
}

// zoneRRs returns a child zone's unsigned records: SOA with the serial,
// the NS set, and the A and AAAA records of its hosts (addresses separated
// by commas).
func zoneRRs(t *testing.T, zone string, serial int, ns []string, hosts map[string]string) []dns.RR {
	t.Helper()
	lines := []string{fmt.Sprintf("%s 3600 IN SOA %s hostmaster.%s %d 3600 900 604800 300", zone, ns[0], zone, serial)}
	for _, n := range ns {
		lines = append(lines, fmt.Sprintf("%s 3600 IN NS %s", zone, n))
	}
	for h, list := range hosts {
		for _, a := range strings.Split(list, ",") {
			typ := "A"
			if strings.Contains(a, ":") {
				typ = "AAAA"
			}
			lines = append(lines, fmt.Sprintf("%s 3600 IN %s %s", h, typ, a))
		}
	}
	lines = append(lines, fmt.Sprintf("www.%s 3600 IN A 192.0.2.80", zone))
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

func sign(t *testing.T, zone string, rrs []dns.RR, keys dnssec.SigningKeys, now time.Time) []dns.RR {
	t.Helper()
	z, err := dnssec.Sign(zone, rrs, keys, dnssec.DefaultPolicy, now)
	if err != nil {
		t.Fatal(err)
	}
	return z.Records()
}

func zoneText(rrs []dns.RR) string {
	var b strings.Builder
	for _, rr := range rrs {
		b.WriteString(rr.String() + "\n")
	}
	return b.String()
}

func ns(name string, addrs ...string) NameServer {
	n := NameServer{Name: name}
	for _, a := range addrs {
		n.Addrs = append(n.Addrs, netip.MustParseAddr(a))
	}
	return n
}

// labZones builds every child zone of the lab.
func labZones(t *testing.T, now time.Time) []child {
	t.Helper()
	var out []child
	// plain returns a zone signed with its own keys, served identically
	// by the servers named, with a matching delegation.
	plain := func(label string, addrs map[string]string, servers ...string) (child, zoneKeys, []dns.RR) {
		zone := label + ".test."
		keys := newKeys(t, zone)
		c := child{name: zone, served: map[string]string{}}
		hosts := map[string]string{}
		var names []string
		for _, h := range slices.Sorted(maps.Keys(addrs)) {
			name := h + "." + zone
			names = append(names, name)
			hosts[name] = addrs[h]
			c.del.NS = append(c.del.NS, ns(name, strings.Split(addrs[h], ",")...))
		}
		c.del.Zone = zone
		c.del.DS = []steward.DS{dsOf(keys.ksk)}
		rrs := zoneRRs(t, zone, 1, names, hosts)
		signed := sign(t, zone, rrs, dnssec.SigningKeys{KSKs: []*dnssec.Key{keys.ksk}, ZSKs: []*dnssec.Key{keys.zsk}}, now)
		for _, s := range servers {
			c.served[s] = zoneText(signed)
		}
		return c, keys, rrs
	}
	two := map[string]string{"ns1": addrA, "ns2": addrB}

	good, _, _ := plain("good", two, "A", "B")
	out = append(out, good)

	// good6.test.: as good.test., with ns1 also at ::1 (when the machine
	// has IPv6 loopback).
	if ipv6Loopback() {
		good6, _, _ := plain("good6", map[string]string{"ns1": addrA + "," + addrA6, "ns2": addrB}, "A", "B")
		out = append(out, good6)
	}

	down, _, _ := plain("down", map[string]string{"ns1": addrA, "ns2": addrNone}, "A")
	down.want = []string{"CONNECTIVITY01", "CONNECTIVITY02"}
	down.tags = []string{"CN01_NO_RESPONSE_UDP", "CN02_NO_RESPONSE_TCP"}
	out = append(out, down)

	refused, _, _ := plain("refused", two, "A") // B does not serve it: REFUSED
	refused.want = []string{"CONNECTIVITY01", "CONNECTIVITY02"}
	refused.tags = []string{"CN01_UNEXPECTED_RCODE_NS_QUERY_UDP", "CN01_UNEXPECTED_RCODE_SOA_QUERY_UDP", "CN02_UNEXPECTED_RCODE_NS_QUERY_TCP", "CN02_UNEXPECTED_RCODE_SOA_QUERY_TCP"}
	out = append(out, refused)

	noauth, _, _ := plain("noauth", map[string]string{"ns1": addrA, "ns2": addrC}, "A") // C refers to it
	noauth.want = []string{"DELEGATION04"}
	noauth.tags = []string{"IS_NOT_AUTHORITATIVE"}
	out = append(out, noauth)

	serial, keys, rrs := plain("serial", two, "A")
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			soa.Serial = 2
		}
	}
	serial.served["B"] = zoneText(sign(t, serial.name, rrs, dnssec.SigningKeys{KSKs: []*dnssec.Key{keys.ksk}, ZSKs: []*dnssec.Key{keys.zsk}}, now))
	serial.want = []string{"CONSISTENCY01"}
	serial.tags = []string{"MULTIPLE_SOA_SERIALS"}
	out = append(out, serial)

	nsset, keys, rrs := plain("nsset", two, "A")
	var fewer []dns.RR
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NS); ok && strings.HasPrefix(n.Ns, "ns1.") {
			continue
		}
		fewer = append(fewer, rr)
	}
	nsset.served["B"] = zoneText(sign(t, nsset.name, fewer, dnssec.SigningKeys{KSKs: []*dnssec.Key{keys.ksk}, ZSKs: []*dnssec.Key{keys.zsk}}, now))
	nsset.want = []string{"CONSISTENCY04"}
	nsset.tags = []string{"MULTIPLE_NS_SET"}
	out = append(out, nsset)

	// glue.test.: the child says ns2 is at 127.0.0.33; the glue says 127.0.0.3.
	glue, keys, rrs := plain("glue", two)
	for _, rr := range rrs {
		if a, ok := rr.(*dns.A); ok && strings.HasPrefix(a.Hdr.Name, "ns2.") {
			a.A = netip.MustParseAddr("127.0.0.33").AsSlice()
		}
	}
	text := zoneText(sign(t, glue.name, rrs, dnssec.SigningKeys{KSKs: []*dnssec.Key{keys.ksk}, ZSKs: []*dnssec.Key{keys.zsk}}, now))
	glue.served["A"], glue.served["B"] = text, text
	glue.want = []string{"CONSISTENCY05"}
	glue.tags = []string{"IN_BAILIWICK_ADDR_MISMATCH"}
	out = append(out, glue)

	// big.test.: two name servers with names of 195 octets that share
	// no suffix but the zone's, so compression cannot shorten them.
	long := func(c string) string {
		l := strings.Repeat(c, 60)
		return l + "." + l + "." + l
	}
	big, _, _ := plain("big", map[string]string{"a." + long("n"): addrA, "b." + long("s"): addrB}, "A", "B")
	big.want = []string{"DELEGATION03"}
	big.tags = []string{"REFERRAL_SIZE_TOO_LARGE"}
	out = append(out, big)

	// private.test.: a third server at a private-use address, which the
	// options do not allow (so it is never queried).
	private, _, _ := plain("private", map[string]string{"ns1": addrA, "ns2": addrB, "ns3": "192.168.53.53"}, "A", "B")
	private.want = []string{"ADDRESS01"}
	private.tags = []string{"A01_LOCAL_USE_ADDR"}
	out = append(out, private)

	// dsmismatch.test.: the DS is that of a key the child does not have.
	dsm, _, _ := plain("dsmismatch", two, "A", "B")
	dsm.del.DS = []steward.DS{dsOf(newKeys(t, dsm.name).ksk)}
	dsm.want = []string{"DNSSEC02"}
	dsm.tags = []string{"DS02_NO_DNSKEY_FOR_DS"}
	out = append(out, dsm)

	// wrongkey.test.: the DS key is published but another KSK signs the
	// DNSKEY RRset.
	wk, keys, rrs := plain("wrongkey", two)
	other := newKeys(t, wk.name).ksk
	text = zoneText(sign(t, wk.name, rrs, dnssec.SigningKeys{KSKs: []*dnssec.Key{other}, ZSKs: []*dnssec.Key{keys.zsk}, Published: []*dns.DNSKEY{keys.ksk.DNSKEY}}, now))
	wk.served["A"], wk.served["B"] = text, text
	wk.want = []string{"DNSSEC02"}
	wk.tags = []string{"DS02_RRSIG_NOT_VALID_BY_DNSKEY"}
	out = append(out, wk)

	// expired.test.: the DNSKEY RRset's signatures expired; the rest of
	// the zone was re-signed.
	exp, keys, rrs := plain("expired", two)
	sk := dnssec.SigningKeys{KSKs: []*dnssec.Key{keys.ksk}, ZSKs: []*dnssec.Key{keys.zsk}}
	fresh, old := sign(t, exp.name, rrs, sk, now), sign(t, exp.name, rrs, sk, now.Add(-30*24*time.Hour))
	var mixed []dns.RR
	for _, rr := range fresh {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeDNSKEY {
			continue
		}
		mixed = append(mixed, rr)
	}
	for _, rr := range old {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeDNSKEY {
			mixed = append(mixed, rr)
		}
	}
	exp.served["A"], exp.served["B"] = zoneText(mixed), zoneText(mixed)
	exp.want = []string{"DNSSEC02", "DNSSEC08"}
	exp.tags = []string{"DS02_RRSIG_NOT_VALID_BY_DNSKEY", "DS08_DNSKEY_RRSIG_EXPIRED"}
	out = append(out, exp)

	// soaexpired.test.: the SOA RRset's signature expired; the rest of
	// the zone was re-signed.
	soaexp, keys, rrs := plain("soaexpired", two)
	sk = dnssec.SigningKeys{KSKs: []*dnssec.Key{keys.ksk}, ZSKs: []*dnssec.Key{keys.zsk}}
	fresh, old = sign(t, soaexp.name, rrs, sk, now), sign(t, soaexp.name, rrs, sk, now.Add(-30*24*time.Hour))
	mixed = nil
	for _, rr := range fresh {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeSOA {
			continue
		}
		mixed = append(mixed, rr)
	}
	for _, rr := range old {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeSOA {
			mixed = append(mixed, rr)
		}
	}
	soaexp.served["A"], soaexp.served["B"] = zoneText(mixed), zoneText(mixed)
	soaexp.want = []string{"DNSSEC09"}
	soaexp.tags = []string{"DS09_SOA_RRSIG_EXPIRED"}
	out = append(out, soaexp)

	tcp, _, _ := plain("tcp", map[string]string{"ns1": addrA, "ns2": addrD}, "A", "D")
	tcp.want = []string{"CONNECTIVITY02"}
	tcp.tags = []string{"CN02_NO_RESPONSE_TCP"}
	out = append(out, tcp)

	// The good zone again, with loopback not allowed: nothing is queried.
	strict := good
	strict.served = nil
	strict.opt = func(o *Options) { o.AllowLoopback = false }
	strict.want = []string{"ADDRESS01", "BASIC02"}
	strict.tags = []string{"A01_LOCAL_USE_ADDR", "B02_NO_WORKING_NS"}
	strict.suffix = "-no-loopback"
	out = append(out, strict)

	// silent.test.: the second address swallows every query, as behind a
	// firewall that drops them; the run still ends within its bound.
	silent, _, _ := plain("silent", map[string]string{"ns1": addrA, "ns2": addrSilent}, "A")
	silent.want = []string{"CONNECTIVITY01", "CONNECTIVITY02"}
	silent.tags = []string{"CN01_NO_RESPONSE_UDP", "CN02_NO_RESPONSE_TCP"}
	out = append(out, silent)

	// oob.test.: the second name server is outside the zone and given
	// without an address; the resolver finds it.
	oob, _, _ := plain("oob", map[string]string{"ns1": addrA}, "A", "B")
	oob.del.NS = append(oob.del.NS, NameServer{Name: "ns.good.test."})
	var oobRRs []dns.RR
	keys = newKeys(t, oob.name)
	oobRRs = zoneRRs(t, oob.name, 1, []string{"ns1.oob.test.", "ns.good.test."}, map[string]string{"ns1.oob.test.": addrA})
	text = zoneText(sign(t, oob.name, oobRRs, dnssec.SigningKeys{KSKs: []*dnssec.Key{keys.ksk}, ZSKs: []*dnssec.Key{keys.zsk}}, now))
	oob.served["A"], oob.served["B"] = text, text
	oob.del.DS = []steward.DS{dsOf(keys.ksk)}
	oob.opt = func(o *Options) {
		o.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			if host == "ns.good.test." {
				return []netip.Addr{netip.MustParseAddr(addrB)}, nil
			}
			return nil, fmt.Errorf("%s: no such host", host)
		}
	}
	out = append(out, oob)

	// noglue.test.: the delegation gives no glue for ns2, inside the
	// zone; the name resolves, but the parent would publish no address.
	noglue, _, _ := plain("noglue", two, "A", "B")
	noglue.del.NS[1].Addrs = nil
	noglue.opt = func(o *Options) {
		o.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr(addrB)}, nil
		}
	}
	noglue.want = []string{"CONSISTENCY05"}
	noglue.tags = []string{"IN_BAILIWICK_ADDR_MISMATCH"}
	out = append(out, noglue)

	// The same, when the name does not resolve.
	unres := oob
	unres.served = nil
	unres.suffix = "-unresolved"
	unres.opt = func(o *Options) {
		o.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return nil, fmt.Errorf("%s: no such host", host)
		}
	}
	unres.want = []string{"DELEGATION02", "NAMESERVER06"}
	unres.tags = []string{"CAN_NOT_BE_RESOLVED", "NOT_ENOUGH_DISTINCT_IP"}
	out = append(out, unres)
	return out
}

// parentZone is what server C serves: test., delegating noauth.test.
func parentZone(noauth Delegation) string {
	var b strings.Builder
	b.WriteString("test. 3600 IN SOA ns.test. hostmaster.test. 1 3600 900 604800 300\n")
	b.WriteString("test. 3600 IN NS ns.test.\nns.test. 3600 IN A " + addrC + "\n")
	for _, n := range noauth.NS {
		fmt.Fprintf(&b, "%s 3600 IN NS %s\n", noauth.Zone, n.Name)
		for _, a := range n.Addrs {
			fmt.Fprintf(&b, "%s 3600 IN A %s\n", n.Name, a)
		}
	}
	return b.String()
}

// TestLab runs the checks against real NSD servers serving one good child
// zone and zones with one defect each, and asserts exactly which cases
// fail for each.
func TestLab(t *testing.T) {
	if testing.Short() {
		t.Skip("NSD lab under -short")
	}
	bin := testproc.Need(t, "nsd")
	now := time.Now()
	zones := labZones(t, now)
	port := testproc.FreePort(t)
	served := map[string]map[string]string{"A": {}, "B": {}, "D": {}}
	var noauth Delegation
	for _, c := range zones {
		for s, text := range c.served {
			served[s][c.name] = text
		}
		if c.name == "noauth.test." {
			noauth = c.del
		}
	}
	if ipv6Loopback() {
		testproc.StartNSD(t, bin, port, []string{addrA, addrA6}, served["A"], "")
	} else {
		testproc.StartNSD(t, bin, port, []string{addrA}, served["A"], "")
	}
	testproc.StartNSD(t, bin, port, []string{addrB}, served["B"], "")
	testproc.StartNSD(t, bin, port, []string{addrC}, map[string]string{"test.": parentZone(noauth)}, "")
	testproc.StartNSD(t, bin, port, []string{addrD}, served["D"], "\ttcp-count: 1\n\ttcp-reject-overflow: yes\n\ttcp-timeout: 600\n")
	holdTCP(t, fmt.Sprintf("%s:%d", addrD, port))
	blackHole(t, fmt.Sprintf("%s:%d", addrSilent, port))

	for _, c := range zones {
		name := strings.TrimSuffix(c.name, ".test.") + c.suffix
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opt := Options{Port: uint16(port), Timeout: 5 * time.Second, AllowLoopback: true, Now: now}
			if c.opt != nil {
				c.opt(&opt)
			}
			rep := Run(context.Background(), c.del, opt)
			var failed, tags []string
			for _, r := range rep.Failed() {
				failed = append(failed, r.Case)
				tags = append(tags, r.Tag)
				for _, e := range r.Evidence {
					if strings.Contains(e, "(127.0.0.") && !strings.Contains(e, c.name) {
						t.Errorf("%s evidence does not name the zone: %s", r.Tag, e)
					}
				}
			}
			slices.Sort(failed)
			slices.Sort(tags)
			failed, tags = slices.Compact(failed), slices.Compact(tags)
			if !slices.Equal(failed, c.want) || !slices.Equal(tags, c.tags) {
				t.Errorf("failing cases %v with tags %v, want %v with %v\n%s", failed, tags, c.want, c.tags, reportText(rep))
			}
			for _, r := range rep.Results {
				if len(r.Evidence) == 0 && r.Level != INFO {
					t.Errorf("%s %s has no evidence", r.Case, r.Tag)
				}
			}
			if testing.Verbose() {
				t.Log(reportText(rep))
			}
		})
	}
}

// ipv6Loopback reports whether the machine can listen on ::1.
func ipv6Loopback() bool {
	pc, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		return false
	}
	_ = pc.Close()
	return true
}

// holdTCP takes the only TCP slot of a server configured with tcp-count: 1
// and tcp-reject-overflow: yes, so that it closes every other TCP
// connection at once, as a server out of TCP capacity does. It returns
// once a TCP query fails.
func holdTCP(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := new(dns.Msg)
		m.SetQuestion("tcp.test.", dns.TypeSOA)
		c := &dns.Client{Net: "tcp", Timeout: time.Second}
		if _, _, err := c.Exchange(m, addr); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers over TCP", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// blackHole reads every UDP query sent to addr and accepts every TCP
// connection without ever answering, until the test ends.
func blackHole(t *testing.T, addr string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 65535)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = pc.Close()
		_ = ln.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
}

func reportText(rep *Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "%-8s %-15s %-32s %s\n", r.Level, r.Case, r.Tag, r.Message)
		for _, e := range r.Evidence {
			fmt.Fprintf(&b, "         %s\n", e)
		}
	}
	return b.String()
}
