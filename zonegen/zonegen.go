// Package zonegen writes large synthetic root-style zones for benchmarks:
// an apex like the root's and N delegations whose shape follows the real
// root and large TLD zones (varied label lengths, IDN A-labels, name
// servers mostly shared between delegations and out of bailiwick, some in
// bailiwick with glue, DS records on a share of them).
//
// The output depends only on the options: the same N and seed always give
// the same bytes, on every platform and Go version, because the generator
// uses its own pseudo-random sequence (PCG from math/rand/v2, which is
// specified) and writes the records in canonical order.
package zonegen

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
)

// Options choose the zone.
type Options struct {
	// Delegations is the number of delegations (TLDs). At least 1.
	Delegations int
	// Seed selects the pseudo-random sequence.
	Seed uint64
	// Serial is the SOA serial; 0 means 2024010100.
	Serial uint32
}

// MaxDelegations bounds Options.Delegations: names are drawn from a space
// of about 10^12 labels, and the generator keeps every name in memory.
const MaxDelegations = 50_000_000

// Share of delegations with each feature, in percent.
const (
	dsShare        = 60 // delegations with DS records
	inBailiwick    = 15 // delegations whose name servers are ns1.nic.<tld>, … with glue
	idnShare       = 4  // delegations whose name is an xn-- A-label
	twoDSShare     = 12 // of those with DS: two DS records (a key rollover)
	ed25519Share   = 5  // of those with DS: algorithm 15
	rsaShare       = 30 // of those with DS: algorithm 8 (the rest is 13)
	hostersPerDele = 40 // one hosting provider per this many delegations
)

// TTLs as in the root zone.
const (
	soaTTL  = 86400
	apexTTL = 518400
	nsTTL   = 172800
	dsTTL   = 86400
)

// Stats counts what Generate wrote.
type Stats struct {
	Delegations int `json:"delegations"`
	IDN         int `json:"idn"`
	WithDS      int `json:"with_ds"`
	DS          int `json:"ds"`
	NS          int `json:"ns"`
	Glue        int `json:"glue"` // A and AAAA records
	InBailiwick int `json:"in_bailiwick"`
	Records     int `json:"records"`
}

// Generate writes the zone in presentation format, one record per line,
// in canonical order, to w.
func Generate(w io.Writer, o Options) (*Stats, error) {
	if o.Delegations < 1 || o.Delegations > MaxDelegations {
		return nil, fmt.Errorf("zonegen: %d delegations: want between 1 and %d", o.Delegations, MaxDelegations)
	}
	serial := o.Serial
	if serial == 0 {
		serial = 2024010100
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed_2017_cafe_f00d))
	g := &gen{rng: rng}

	names := g.names(o.Delegations)
	hosters := g.hosters(o.Delegations/hostersPerDele + 8)

	bw := bufio.NewWriterSize(w, 1<<20)
	st := &Stats{}
	line := func(format string, args ...any) {
		fmt.Fprintf(bw, format, args...)
		st.Records++
	}
	line(".\t%d\tIN\tSOA\ta.root-servers.net. nstld.verisign-grs.com. %d 1800 900 604800 86400\n", soaTTL, serial)
	for c := 'a'; c <= 'm'; c++ {
		line(".\t%d\tIN\tNS\t%c.root-servers.net.\n", apexTTL, c)
	}
	for _, n := range names {
		g.delegation(n, hosters, line, st)
		if n == "net" {
			// The root servers' addresses are glue below net, as in the root zone.
			for i, c := 0, 'a'; c <= 'm'; i, c = i+1, c+1 {
				line("%c.root-servers.net.\t%d\tIN\tA\t198.41.%d.4\n", c, apexTTL, i)
				line("%c.root-servers.net.\t%d\tIN\tAAAA\t2001:503:%x::2:30\n", c, apexTTL, 0xba3e+i)
				st.Glue += 2
			}
		}
	}
	st.Delegations = len(names)
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return st, nil
}

type gen struct {
	rng *rand.Rand
}

// fixed are TLDs every zone has (the first ones, as many as fit): net holds
// the root servers' glue, and com, net and org most name servers.
var fixed = []string{"net", "com", "org", "arpa"}

// names returns n distinct delegation labels in canonical order.
func (g *gen) names(n int) []string {
	seen := make(map[string]struct{}, n)
	out := make([]string, 0, n)
	for _, f := range fixed[:min(n, len(fixed))] {
		seen[f] = struct{}{}
		out = append(out, f)
	}
	for len(out) < n {
		var l string
		if g.rng.IntN(100) < idnShare {
			l = "xn--" + g.word(4+g.rng.IntN(14), true)
		} else {
			l = g.word(g.length(), false)
		}
		if _, ok := seen[l]; ok {
			continue
		}
		seen[l] = struct{}{}
		out = append(out, l)
	}
	// Single labels below the root: canonical order is byte order.
	slices.Sort(out)
	return out
}

// length draws a label length: a few two- and three-letter names, most
// between 4 and 14, a tail up to 40.
func (g *gen) length() int {
	switch r := g.rng.IntN(100); {
	case r < 3:
		return 2
	case r < 12:
		return 3
	case r < 90:
		return 4 + g.rng.IntN(11)
	default:
		return 15 + g.rng.IntN(26)
	}
}

const (
	letters   = "abcdefghijklmnopqrstuvwxyz"
	vowels    = "aeiouy"
	consonant = "bcdfghjklmnprstvwxz"
	alnum     = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// word draws a label of length n: pronounceable words with the odd digit
// or hyphen, or for IDN the letters and digits of a Punycode tail. It
// starts with a letter and does not end with a hyphen.
func (g *gen) word(n int, idn bool) string {
	b := make([]byte, n)
	for i := range b {
		switch {
		case idn:
			b[i] = alnum[g.rng.IntN(len(alnum))]
		case i == 0 && n <= 3:
			b[i] = letters[g.rng.IntN(len(letters))]
		case i%2 == 1:
			b[i] = vowels[g.rng.IntN(len(vowels))]
		default:
			b[i] = consonant[g.rng.IntN(len(consonant))]
		}
	}
	if !idn && n >= 6 {
		switch r := g.rng.IntN(20); {
		case r == 0: // a hyphen, not first, not last, not at 2-3 (reserved for xn--)
			b[4+g.rng.IntN(n-5)] = '-'
		case r == 1:
			b[n-1] = "0123456789"[g.rng.IntN(10)]
		}
	}
	if idn && b[len(b)-1] == '-' {
		b[len(b)-1] = 'a'
	}
	return string(b)
}

// hoster is a DNS hosting provider: its name servers serve many
// delegations.
type hoster struct {
	servers []string // fully qualified
}

// hosters returns n hosting providers, each with 2-4 name servers under
// com, net or org (or, for one in twenty, under a generated name).
func (g *gen) hosters(n int) []hoster {
	parents := []string{"com", "net", "net", "org", "com", "com"}
	out := make([]hoster, n)
	for i := range out {
		domain := g.word(5+g.rng.IntN(8), false) + fmt.Sprintf("%d", i) + "." + parents[g.rng.IntN(len(parents))]
		pattern := []string{"ns%d.", "dns%d.", "ns%d.dns.", "%c.ns."}[g.rng.IntN(4)]
		k := 2 + g.rng.IntN(3)
		for j := 1; j <= k; j++ {
			var host string
			if strings.Contains(pattern, "%c") {
				host = fmt.Sprintf(pattern, 'a'+rune(j-1))
			} else {
				host = fmt.Sprintf(pattern, j)
			}
			out[i].servers = append(out[i].servers, host+domain+".")
		}
	}
	return out
}

// pick draws an index in [0,n) skewed towards small indexes, as a few big
// hosting providers serve most delegations.
func (g *gen) pick(n int) int {
	f := g.rng.Float64()
	return int(float64(n) * f * f * f)
}

func (g *gen) delegation(tld string, hosters []hoster, line func(string, ...any), st *Stats) {
	if strings.HasPrefix(tld, "xn--") {
		st.IDN++
	}
	var ns []string
	var glue []string
	// The fixed TLDs hold the hosting providers' names: their own name
	// servers are in bailiwick, with glue.
	if g.rng.IntN(100) < inBailiwick || slices.Contains(fixed, tld) {
		st.InBailiwick++
		k := 2 + g.rng.IntN(3)
		prefix := []string{"ns%d.nic.", "ns%d.dns.", "dns%d.nic.", "%c.nic."}[g.rng.IntN(4)]
		for j := 1; j <= k; j++ {
			var h string
			if strings.Contains(prefix, "%c") {
				h = fmt.Sprintf(prefix, 'a'+rune(j-1))
			} else {
				h = fmt.Sprintf(prefix, j)
			}
			ns = append(ns, h+tld+".")
		}
		glue = ns
	} else {
		h := hosters[g.pick(len(hosters))]
		ns = h.servers
	}
	for _, n := range ns {
		line("%s.\t%d\tIN\tNS\t%s\n", tld, nsTTL, n)
		st.NS++
	}
	if g.rng.IntN(100) < dsShare {
		st.WithDS++
		alg := 13
		switch r := g.rng.IntN(100); {
		case r < ed25519Share:
			alg = 15
		case r < ed25519Share+rsaShare:
			alg = 8
		}
		nds := 1
		if g.rng.IntN(100) < twoDSShare {
			nds = 2
		}
		var digest [32]byte
		for range nds {
			for i := range digest {
				digest[i] = byte(g.rng.Uint32())
			}
			line("%s.\t%d\tIN\tDS\t%d %d 2 %s\n", tld, dsTTL, g.rng.IntN(65536), alg, strings.ToUpper(hex.EncodeToString(digest[:])))
			st.DS++
		}
	}
	// Glue names sort after the delegation point and before the next
	// delegation; among themselves in canonical order.
	glue = slices.Clone(glue)
	slices.SortFunc(glue, compareHosts)
	for _, h := range glue {
		line("%s\t%d\tIN\tA\t%s\n", h, nsTTL, g.ipv4())
		line("%s\t%d\tIN\tAAAA\t%s\n", h, nsTTL, g.ipv6())
		st.Glue += 2
	}
}

// compareHosts orders fully qualified names of plain LDH labels
// canonically: label by label from the right.
func compareHosts(a, b string) int {
	la := strings.Split(strings.TrimSuffix(a, "."), ".")
	lb := strings.Split(strings.TrimSuffix(b, "."), ".")
	for i, j := len(la)-1, len(lb)-1; i >= 0 || j >= 0; i, j = i-1, j-1 {
		switch {
		case i < 0:
			return -1
		case j < 0:
			return 1
		}
		if c := strings.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return 0
}

// ipv4 draws a public-looking unicast address.
func (g *gen) ipv4() string {
	for {
		a := netip.AddrFrom4([4]byte{byte(1 + g.rng.IntN(223)), byte(g.rng.Uint32()), byte(g.rng.Uint32()), byte(1 + g.rng.IntN(254))})
		if a.IsGlobalUnicast() && !a.IsPrivate() && a.As4()[0] != 127 {
			return a.String()
		}
	}
}

// ipv6 draws an address in 2001::/16 or 2a00::/12.
func (g *gen) ipv6() string {
	var b [16]byte
	if g.rng.IntN(2) == 0 {
		b[0], b[1] = 0x20, 0x01
		b[2], b[3] = byte(g.rng.Uint32()), byte(g.rng.Uint32())
	} else {
		b[0], b[1] = 0x2a, byte(g.rng.IntN(16))
		b[2], b[3] = byte(g.rng.Uint32()), byte(g.rng.Uint32())
	}
	b[4], b[5] = byte(g.rng.Uint32()), byte(g.rng.Uint32())
	b[15] = byte(1 + g.rng.IntN(254))
	return netip.AddrFrom16(b).String()
}
