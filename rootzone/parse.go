// Package rootzone converts between root zone files and the registry: Parse
// reads a zone file (such as IANA's root.zone) into the delegations and apex
// the registry holds, and Build writes the registry's content back as the
// records of an unsigned zone, deterministically.
package rootzone

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"steward"
)

// MaxLineLength bounds one line of a zone file.
const MaxLineLength = 64 << 10

// Error is a problem in a zone file, at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Stats counts what Parse read.
type Stats struct {
	Records int `json:"records"`
	Skipped int `json:"skipped"` // DNSSEC records, which steward derives itself
	TLDs    int `json:"tlds"`
	Glue    int `json:"glue_names"`
	DS      int `json:"ds"`
}

// Parse reads a root zone file. Records that signing derives (DNSKEY, RRSIG,
// NSEC, NSEC3, NSEC3PARAM, ZONEMD) are skipped; SOA and NS at the apex
// become the apex; NS and DS at a TLD become its delegation; A and AAAA
// records become glue. Anything else, and anything malformed, is an *Error
// naming its line; nothing is returned then.
func Parse(file string, r io.Reader) (*steward.RootZoneImport, *Stats, error) {
	p := &parser{file: file, tlds: map[string]*steward.TLD{}, glue: map[string][]string{}, dsLine: map[string]int{}}
	if err := p.read(r); err != nil {
		return nil, nil, err
	}
	return p.finish()
}

type parser struct {
	file   string
	stats  Stats
	origin string
	ttl    string
	owner  string // the last owner, for lines that start with blanks

	apex     steward.Apex
	soaSeen  bool
	tlds     map[string]*steward.TLD
	glue     map[string][]string
	dsLine   map[string]int
	firstDel uint32
	firstDS  uint32
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// read splits the file into logical records (a record spans lines inside
// parentheses) and parses each with miekg/dns, so that every error names the
// line where its record starts.
func (p *parser) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxLineLength)
	var rec strings.Builder
	start, depth, n := 0, 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if rec.Len() == 0 {
			start = n
		}
		d, err := parenDepth(line)
		if err != nil {
			return p.errorf(n, "%v", err)
		}
		depth += d
		if depth < 0 {
			return p.errorf(n, "unbalanced \")\"")
		}
		rec.WriteString(line)
		rec.WriteByte('\n')
		if depth > 0 {
			continue
		}
		if err := p.record(start, rec.String()); err != nil {
			return err
		}
		rec.Reset()
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return p.errorf(n+1, "line longer than %d bytes", MaxLineLength)
		}
		return fmt.Errorf("%s: %w", p.file, err)
	}
	if depth > 0 {
		return p.errorf(start, "\"(\" is never closed")
	}
	return nil
}

// parenDepth returns the change in parenthesis depth on a line, ignoring
// quoted strings and comments.
func parenDepth(line string) (int, error) {
	d, quoted := 0, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ';':
			return d, nil
		case c == '(':
			d++
		case c == ')':
			d--
		}
	}
	if quoted {
		return 0, fmt.Errorf("unterminated quoted string")
	}
	return d, nil
}

var lineRE = regexp.MustCompile(` at line: (\d+):\d+$`)

func (p *parser) record(line int, text string) error {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" || strings.HasPrefix(trimmed, ";") {
		return nil
	}
	if strings.HasPrefix(trimmed, "$") {
		f := strings.Fields(trimmed)
		switch strings.ToUpper(f[0]) {
		case "$TTL":
			if len(f) < 2 {
				return p.errorf(line, "$TTL without a value")
			}
			p.ttl = f[1]
		case "$ORIGIN":
			if len(f) < 2 || !strings.HasSuffix(f[1], ".") {
				return p.errorf(line, "$ORIGIN needs a fully qualified name")
			}
			p.origin = f[1]
		default:
			return p.errorf(line, "%s is not allowed in an imported zone", f[0])
		}
		return nil
	}
	// A line that starts with a blank continues the previous owner.
	prelude := ""
	extra := 0
	if p.ttl != "" {
		prelude += "$TTL " + p.ttl + "\n"
		extra++
	}
	if text[0] == ' ' || text[0] == '\t' {
		if p.owner == "" {
			return p.errorf(line, "the first record has no owner name")
		}
		text = p.owner + text
	}
	origin := p.origin
	if origin == "" {
		origin = "."
	}
	zp := dns.NewZoneParser(strings.NewReader(prelude+text), origin, p.file)
	zp.SetIncludeAllowed(false)
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		msg := err.Error()
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			inner, _ := strconv.Atoi(m[1])
			msg = strings.TrimPrefix(strings.TrimSuffix(msg, m[0]), p.file+": ")
			return p.errorf(line+inner-1-extra, "%s", strings.TrimPrefix(msg, "dns: "))
		}
		return p.errorf(line, "%s", msg)
	}
	if !ok {
		return nil
	}
	if _, more := zp.Next(); more {
		return p.errorf(line, "more than one record on a line")
	}
	p.owner = rr.Header().Name
	p.stats.Records++
	return p.add(line, rr)
}

func (p *parser) add(line int, rr dns.RR) error {
	h := rr.Header()
	name := strings.ToLower(h.Name)
	if h.Class != dns.ClassINET {
		return p.errorf(line, "class %s: a root zone holds IN records only", dns.ClassToString[h.Class])
	}
	labels := dns.CountLabel(name)
	switch rr := rr.(type) {
	case *dns.DNSKEY, *dns.RRSIG, *dns.NSEC, *dns.NSEC3, *dns.NSEC3PARAM, *dns.ZONEMD:
		p.stats.Skipped++
		return nil
	case *dns.SOA:
		if name != "." {
			return p.errorf(line, "SOA at %s: a root zone has its SOA at the root", name)
		}
		if p.soaSeen {
			return p.errorf(line, "a second SOA")
		}
		p.soaSeen = true
		p.apex.MName, p.apex.RName = rr.Ns, rr.Mbox
		p.apex.Refresh, p.apex.Retry, p.apex.Expire, p.apex.Minimum, p.apex.SOATTL = rr.Refresh, rr.Retry, rr.Expire, rr.Minttl, h.Ttl
	case *dns.NS:
		if rr.Ns == "" {
			return p.errorf(line, "NS at %s without a name server", name)
		}
		switch labels {
		case 0:
			p.apex.NS = append(p.apex.NS, strings.ToLower(rr.Ns))
			p.apex.NSTTL = h.Ttl
		case 1:
			t := p.tld(name)
			t.NS = append(t.NS, strings.ToLower(rr.Ns))
			if p.firstDel == 0 {
				p.firstDel = h.Ttl
			}
		default:
			return p.errorf(line, "NS at %s: a root zone delegates only top-level domains", name)
		}
	case *dns.DS:
		if labels != 1 {
			return p.errorf(line, "DS at %s: DS records belong to top-level domains", name)
		}
		if b, err := hex.DecodeString(rr.Digest); err != nil || len(b) == 0 {
			return p.errorf(line, "DS at %s: the digest is not hexadecimal", name)
		}
		t := p.tld(name)
		t.DS = append(t.DS, steward.DS{KeyTag: rr.KeyTag, Algorithm: rr.Algorithm, DigestType: rr.DigestType, Digest: strings.ToUpper(rr.Digest)})
		if _, ok := p.dsLine[name]; !ok {
			p.dsLine[name] = line
		}
		if p.firstDS == 0 {
			p.firstDS = h.Ttl
		}
		p.stats.DS++
	case *dns.A:
		if rr.A == nil {
			return p.errorf(line, "A at %s without an address", name)
		}
		return p.addGlue(line, name, rr.A.String())
	case *dns.AAAA:
		if rr.AAAA == nil {
			return p.errorf(line, "AAAA at %s without an address", name)
		}
		return p.addGlue(line, name, rr.AAAA.String())
	default:
		return p.errorf(line, "%s at %s: not something a root zone holds (SOA, NS, DS, A, AAAA and DNSSEC records only)", dns.TypeToString[h.Rrtype], name)
	}
	return nil
}

func (p *parser) addGlue(line int, name, addr string) error {
	if dns.CountLabel(name) < 2 {
		return p.errorf(line, "address record at %s: glue belongs to name servers below a TLD", name)
	}
	if _, err := netip.ParseAddr(addr); err != nil {
		return p.errorf(line, "bad address %q", addr)
	}
	p.glue[name] = append(p.glue[name], addr)
	return nil
}

func (p *parser) tld(name string) *steward.TLD {
	n := strings.TrimSuffix(name, ".")
	t, ok := p.tlds[n]
	if !ok {
		t = &steward.TLD{Name: n}
		p.tlds[n] = t
	}
	return t
}

// finish attaches glue to the delegations whose name servers it names,
// checks the whole, and returns it sorted.
func (p *parser) finish() (*steward.RootZoneImport, *Stats, error) {
	if !p.soaSeen {
		return nil, nil, p.errorf(1, "no SOA record at the root")
	}
	if len(p.apex.NS) == 0 {
		return nil, nil, p.errorf(1, "no NS records at the root")
	}
	imp := &steward.RootZoneImport{Apex: p.apex}
	imp.Apex.DelegationTTL, imp.Apex.DSTTL = orDefault(p.firstDel, 172800), orDefault(p.firstDS, 86400)
	used := map[string]bool{}
	glueFor := func(ns []string) []steward.Glue {
		var g []steward.Glue
		for _, n := range ns {
			if addrs, ok := p.glue[n]; ok {
				g = append(g, steward.Glue{Name: n, Addrs: addrs})
				used[n] = true
			}
		}
		return g
	}
	imp.Apex.Glue = glueFor(p.apex.NS)
	names := make([]string, 0, len(p.tlds))
	for n := range p.tlds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := p.tlds[n]
		if len(t.NS) == 0 {
			return nil, nil, p.errorf(p.dsLine[n+"."], "DS for %s, which has no NS records", n)
		}
		t.Glue = glueFor(t.NS)
		imp.TLDs = append(imp.TLDs, *t)
		p.stats.DS += 0
	}
	p.stats.TLDs = len(imp.TLDs)
	p.stats.Glue = len(used)
	return imp, &p.stats, nil
}

func orDefault(v, d uint32) uint32 {
	if v == 0 {
		return d
	}
	return v
}
