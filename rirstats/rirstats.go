// Package rirstats reads and writes the RIR statistics exchange format: the
// delegated and delegated-extended files the five regional Internet
// registries publish daily (https://www.nro.net/wp-content/uploads/nro-extended-stats-readme5.txt).
//
// A file is a version line
//
//	2|ripencc|1404165599|85681|19830705|20140630|+0200
//
// then one summary line per family (ripencc|*|ipv4|*|49932|summary), then
// records
//
//	registry|cc|type|start|value|date|status[|opaque-id[|extensions...]]
//
// where value counts addresses for ipv4 (any count: 768 addresses are a
// /23 and a /24, kept as one range), is a prefix length for ipv6, and counts
// AS numbers for asn. Lines starting with # are comments. Parse accepts the
// variants the registries publish: APNIC's comment block, AFRINIC's
// 00000000 start date and 00000 offset, a Unix time as RIPE NCC's serial,
// trailing blanks, files without version and summary lines (excerpts).
// Parse refuses anything else with an [*Error] naming the file and line.
package rirstats

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"steward"
)

// Error is a malformed line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// MaxLineLength is the longest line Parse accepts.
const MaxLineLength = 4096

var (
	ccRE     = regexp.MustCompile(`^[A-Z]{2}$`)
	dateRE   = regexp.MustCompile(`^[0-9]{8}$`)
	offsetRE = regexp.MustCompile(`^([+-][0-9]{4}|0+|Z)$`)
)

// Parse reads a statistics file. name is used in errors.
func Parse(name string, r io.Reader) (*steward.StatsFile, error) {
	// Read the whole file first, to size the records' slice once: growing
	// it copies every record again and again.
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), MaxLineLength)
	f := &steward.StatsFile{Blocks: make([]steward.Block, 0, bytes.Count(data, []byte{'\n'})+1)}
	h := &f.Header
	lineNo := 0
	fail := func(format string, args ...any) error {
		return &Error{File: name, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
	}
	sawVersion, sawRecord := false, false
	declared := -1
	summary := map[string]int{}
	counts := map[string]int{}
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "|")
		switch {
		case !sawVersion && !sawRecord && len(fields) == 7 && isVersion(fields[0]):
			sawVersion = true
			h.Version, h.Registry, h.Serial = fields[0], fields[1], fields[2]
			n, err := strconv.Atoi(fields[3])
			if err != nil || n < 0 {
				return nil, fail("version line: record count %q is not a number", fields[3])
			}
			declared = n
			h.StartDate, h.EndDate, h.UTCOffset = fields[4], fields[5], fields[6]
			if !validRegistry(h.Registry) {
				return nil, fail("version line: registry %q", h.Registry)
			}
			if h.Serial == "" || strings.ContainsAny(h.Serial, " \t") {
				return nil, fail("version line: serial %q", h.Serial)
			}
			if !dateRE.MatchString(h.StartDate) || !dateRE.MatchString(h.EndDate) {
				return nil, fail("version line: dates %q and %q: want YYYYMMDD", h.StartDate, h.EndDate)
			}
			if !offsetRE.MatchString(h.UTCOffset) {
				return nil, fail("version line: UTC offset %q: want +HHMM or -HHMM", h.UTCOffset)
			}
		case len(fields) == 6 && fields[5] == "summary":
			if sawRecord {
				return nil, fail("summary line after the records")
			}
			if fields[1] != "*" || fields[3] != "*" {
				return nil, fail("summary line: want registry|*|type|*|count|summary")
			}
			fam := fields[2]
			if fam != steward.FamilyIPv4 && fam != steward.FamilyIPv6 && fam != steward.FamilyASN {
				return nil, fail("summary line: type %q: want asn, ipv4 or ipv6", fam)
			}
			if h.Registry == "" {
				h.Registry = fields[0]
			} else if fields[0] != h.Registry {
				return nil, fail("summary line: registry %q in %s's file", fields[0], h.Registry)
			}
			if _, dup := summary[fam]; dup {
				return nil, fail("second summary line for %s", fam)
			}
			n, err := strconv.Atoi(fields[4])
			if err != nil || n < 0 {
				return nil, fail("summary line: count %q is not a number", fields[4])
			}
			summary[fam] = n
			h.Order = append(h.Order, fam)
		default:
			b, err := parseRecord(fields)
			if err != nil {
				return nil, fail("%v", err)
			}
			if h.Registry == "" {
				h.Registry = b.Registry
			}
			if b.Registry != h.Registry {
				return nil, fail("record of registry %q in %s's file", b.Registry, h.Registry)
			}
			if len(fields) >= 8 {
				h.Extended = true
			}
			if !sawVersion && !slices.Contains(h.Order, b.Family) {
				h.Order = append(h.Order, b.Family)
			}
			if sawVersion && len(summary) > 0 {
				if _, ok := summary[b.Family]; !ok {
					return nil, fail("%s record, but the file has no %s summary line", b.Family, b.Family)
				}
			}
			sawRecord = true
			counts[b.Family]++
			f.Blocks = append(f.Blocks, *b)
		}
	}
	if err := sc.Err(); err != nil {
		lineNo++
		if err == bufio.ErrTooLong {
			return nil, fail("line longer than %d bytes", MaxLineLength)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if h.Registry == "" {
		return nil, &Error{File: name, Line: lineNo, Msg: "no version line and no records: not a statistics file"}
	}
	if !sawVersion {
		h.Headerless = true
		h.Version = "2"
	}
	for fam, n := range summary {
		if counts[fam] != n {
			return nil, &Error{File: name, Line: lineNo, Msg: fmt.Sprintf("the summary counts %d %s records, the file has %d", n, fam, counts[fam])}
		}
	}
	if declared >= 0 && declared != len(f.Blocks) {
		return nil, &Error{File: name, Line: lineNo, Msg: fmt.Sprintf("the version line counts %d records, the file has %d", declared, len(f.Blocks))}
	}
	return f, nil
}

func isVersion(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

func validRegistry(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// parseRecord reads registry|cc|type|start|value|date|status[|opaque-id[|ext...]].
func parseRecord(f []string) (*steward.Block, error) {
	if len(f) < 7 {
		return nil, fmt.Errorf("record has %d fields; want registry|cc|type|start|value|date|status[|opaque-id[|extensions]]", len(f))
	}
	b := &steward.Block{Registry: f[0], Country: f[1], Family: f[2], Date: f[5], Status: f[6]}
	if !validRegistry(b.Registry) {
		return nil, fmt.Errorf("registry %q", b.Registry)
	}
	if b.Country != "" && !ccRE.MatchString(b.Country) {
		return nil, fmt.Errorf("country code %q: want two capital letters or nothing", b.Country)
	}
	if b.Date != "" && !dateRE.MatchString(b.Date) {
		return nil, fmt.Errorf("date %q: want YYYYMMDD or nothing", b.Date)
	}
	switch b.Status {
	case steward.StatusAllocated, steward.StatusAssigned, steward.StatusAvailable, steward.StatusReserved:
	default:
		return nil, fmt.Errorf("status %q: want allocated, assigned, available or reserved", b.Status)
	}
	if len(f) >= 8 {
		b.Holder = f[7]
		if strings.ContainsAny(b.Holder, " \t") {
			return nil, fmt.Errorf("opaque id %q contains a blank", b.Holder)
		}
		if len(f) > 8 {
			b.Ext = slices.Clone(f[8:])
		}
	}
	value, err := strconv.ParseUint(f[4], 10, 64)
	if err != nil || f[4] == "" || f[4][0] == '+' {
		return nil, fmt.Errorf("value %q is not a count", f[4])
	}
	switch b.Family {
	case steward.FamilyIPv4:
		lo, err := steward.ParseNumber(b.Family, f[3])
		if err != nil {
			return nil, fmt.Errorf("start %q is not an IPv4 address", f[3])
		}
		if value == 0 || lo.Lo+value-1 > 0xffffffff {
			return nil, fmt.Errorf("ipv4 %s count %d: want 1 to the addresses left in the space", f[3], value)
		}
		b.First, b.Last = f[3], steward.FormatNumber(b.Family, lo.Add(steward.U128(value-1)))
	case steward.FamilyIPv6:
		lo, err := steward.ParseNumber(b.Family, f[3])
		if err != nil {
			return nil, fmt.Errorf("start %q is not an IPv6 address", f[3])
		}
		if value > 128 {
			return nil, fmt.Errorf("ipv6 prefix length %d: want 0 to 128", value)
		}
		s := steward.PrefixSpan(prefixOf(lo, int(value)))
		if s.First != lo {
			return nil, fmt.Errorf("ipv6 %s/%d is not aligned: the prefix starts at %s", f[3], value, steward.FormatNumber(b.Family, s.First))
		}
		b.First, b.Last = steward.FormatNumber(b.Family, s.First), steward.FormatNumber(b.Family, s.Last)
	case steward.FamilyASN:
		lo, err := steward.ParseNumber(b.Family, f[3])
		if err != nil || strings.HasPrefix(strings.ToUpper(f[3]), "AS") {
			return nil, fmt.Errorf("AS number %q: want a decimal number from 0 to 4294967295", f[3])
		}
		if value == 0 || lo.Lo+value-1 > 0xffffffff {
			return nil, fmt.Errorf("AS numbers %s count %d run past 4294967295, the last AS number", f[3], value)
		}
		b.First, b.Last = f[3], strconv.FormatUint(lo.Lo+value-1, 10)
	default:
		return nil, fmt.Errorf("type %q: want asn, ipv4 or ipv6", b.Family)
	}
	if err := b.Normalize(); err != nil {
		return nil, fmt.Errorf("%s", steward.ErrorMessage(err))
	}
	return b, nil
}

func prefixOf(lo steward.Uint128, bits int) netip.Prefix {
	return netip.PrefixFrom(lo.Addr6(), bits)
}

// Write writes a statistics file: the version line, one summary line per
// family in h.Order (then any other family with records), and the records
// of each family in address order. blocks are the registry's records; the
// record count and summaries are computed from them. A headerless header
// writes the records alone.
func Write(w io.Writer, h *steward.StatsHeader, blocks []*steward.Block) error {
	bw := bufio.NewWriter(w)
	byFam := map[string][]*steward.Block{}
	for _, b := range blocks {
		byFam[b.Family] = append(byFam[b.Family], b)
	}
	order := slices.Clone(h.Order)
	for _, fam := range []string{steward.FamilyASN, steward.FamilyIPv4, steward.FamilyIPv6} {
		if !slices.Contains(order, fam) && len(byFam[fam]) > 0 {
			order = append(order, fam)
		}
	}
	if !h.Headerless {
		fmt.Fprintf(bw, "%s|%s|%s|%d|%s|%s|%s\n", h.Version, h.Registry, h.Serial, len(blocks), h.StartDate, h.EndDate, h.UTCOffset)
		for _, fam := range order {
			fmt.Fprintf(bw, "%s|*|%s|*|%d|summary\n", h.Registry, fam, len(byFam[fam]))
		}
	}
	for _, fam := range order {
		bs := byFam[fam]
		spans := make(map[*steward.Block]steward.Span, len(bs))
		for _, b := range bs {
			spans[b] = b.Span()
		}
		slices.SortFunc(bs, func(a, b *steward.Block) int { return steward.CompareBlocks(a, b, spans[a], spans[b]) })
		for _, b := range bs {
			bw.WriteString(Line(b, h.Extended))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// Line returns the statistics line of a block, without a newline.
func Line(b *steward.Block, extended bool) string {
	s := b.Span()
	var value string
	switch b.Family {
	case steward.FamilyIPv6:
		p, _ := b.Prefix()
		value = strconv.Itoa(p.Bits())
	default:
		value = s.Size().String()
	}
	line := b.Registry + "|" + b.Country + "|" + b.Family + "|" + b.First + "|" + value + "|" + b.Date + "|" + b.Status
	if extended {
		line += "|" + b.Holder
		for _, x := range b.Ext {
			line += "|" + x
		}
	}
	return line
}
