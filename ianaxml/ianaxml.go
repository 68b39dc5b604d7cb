// Package ianaxml reads and writes IANA's number registries in the XML IANA
// publishes (https://www.iana.org/assignments/ipv4-address-space/,
// ipv6-unicast-address-assignments, ipv6-address-space, as-numbers) and
// writes their CSV form.
//
// Parse turns each <record> into a [steward.Block]: ipv4-address-space's /8s
// and ipv6-unicast-address-assignments' prefixes are recorded by iana (held
// by the RIR the designation names, "RIPE NCC" or "Administered by ARIN");
// ipv6-address-space's blocks are recorded by ietf (the address
// architecture: 2000::/3 is held by iana, the rest reserved); as-numbers'
// ranges by iana ("Assigned by ARIN"). Each block keeps the record's own
// XML, and the registry keeps the text around its records, so Write gives
// back the file as published while nothing has changed, and writes changed
// or new records in IANA's layout.
package ianaxml

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"steward"
)

// Error is a malformed registry file, with the line of the problem.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// MaxSize is the largest file Parse reads.
const MaxSize = 16 << 20

type xref struct {
	Type string `xml:"type,attr"`
	Data string `xml:"data,attr"`
}

type record struct {
	DateAttr    string   `xml:"date,attr"`
	Prefix      string   `xml:"prefix"`
	Number      string   `xml:"number"`
	Designation string   `xml:"designation"`
	Description string   `xml:"description"`
	Date        string   `xml:"date"`
	Whois       string   `xml:"whois"`
	RDAP        []string `xml:"rdap>server"`
	Status      string   `xml:"status"`
	Xrefs       []xref   `xml:"xref"`
	Notes       struct {
		Inner string `xml:",innerxml"`
	} `xml:"notes"`
}

var asnRangeRE = regexp.MustCompile(`^[0-9]{1,10}(-[0-9]{1,10})?$`)

// Parse reads an IANA number registry file. name is used in errors.
func Parse(name string, r io.Reader) (*steward.IANAFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, &Error{name, 1, fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	fail := func(off int64, format string, args ...any) error {
		for _, a := range args {
			var se *xml.SyntaxError
			if err, ok := a.(error); ok && errors.As(err, &se) {
				return &Error{name, se.Line, se.Msg}
			}
		}
		return &Error{name, lineAt(off), fmt.Sprintf(format, args...)}
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	f := &steward.IANAFile{}
	var stack []string // registry ids, innermost last
	var last int64     // end of the last segment written
	var seg *steward.IANASegment
	depth := 0
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &Error{name, se.Line, se.Msg}
			}
			return nil, fail(start, "%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "registry" {
				id := attr(t, "id")
				if id == "" {
					return nil, fail(start, "registry element without an id")
				}
				if len(stack) == 0 {
					f.Registry.ID = id
				}
				stack = append(stack, id)
				continue
			}
			if len(stack) == 0 {
				return nil, fail(start, "<%s> outside a <registry>: not an IANA registry file", t.Name.Local)
			}
			switch t.Name.Local {
			case "record":
				var rec record
				if err := d.DecodeElement(&rec, &t); err != nil {
					return nil, fail(start, "record: %v", err)
				}
				depth--
				end := d.InputOffset()
				sub := stack[len(stack)-1]
				between := string(data[last:start])
				inRun := seg != nil && seg.Records == sub && strings.TrimSpace(between) == ""
				raw := string(data[start:end])
				if inRun {
					raw = between + raw // keep the separator as published
				}
				b, err := toBlock(f.Registry.ID, sub, &rec, raw)
				if err != nil {
					return nil, fail(start, "%v", err)
				}
				if inRun {
					if seg.Sep == "" {
						seg.Sep = between
					}
				} else {
					f.Registry.Segments = append(f.Registry.Segments, steward.IANASegment{Raw: between})
					f.Registry.Segments = append(f.Registry.Segments, steward.IANASegment{Records: sub})
					seg = &f.Registry.Segments[len(f.Registry.Segments)-1]
				}
				f.Blocks = append(f.Blocks, *b)
				last = end
			case "title", "updated":
				var s string
				if err := d.DecodeElement(&s, &t); err != nil {
					return nil, fail(start, "%s: %v", t.Name.Local, err)
				}
				depth--
				if len(stack) == 1 {
					if t.Name.Local == "title" {
						f.Registry.Title = strings.TrimSpace(s)
					} else {
						f.Registry.Updated = strings.TrimSpace(s)
					}
				}
			default:
				if err := d.Skip(); err != nil {
					return nil, fail(start, "%s: %v", t.Name.Local, err)
				}
				depth--
			}
		case xml.EndElement:
			depth--
			if t.Name.Local == "registry" && len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if f.Registry.ID == "" {
		return nil, &Error{name, 1, "no <registry> element: not an IANA registry file"}
	}
	if depth != 0 || len(stack) != 0 {
		return nil, &Error{name, lineAt(int64(len(data))), "unexpected end of file"}
	}
	if len(f.Blocks) == 0 {
		return nil, &Error{name, lineAt(int64(len(data))), "the registry has no number records"}
	}
	if f.Registry.Segments[0].Raw == "" {
		return nil, &Error{name, 1, "no text before the first record"}
	}
	f.Registry.Segments = append(f.Registry.Segments, steward.IANASegment{Raw: string(data[last:])})
	if !strings.HasPrefix(f.Registry.ID, "ipv4-") && !strings.HasPrefix(f.Registry.ID, "ipv6-") && !strings.HasPrefix(f.Registry.ID, "as-numbers") {
		return nil, &Error{name, 1, fmt.Sprintf("registry %q is not a number registry this steward reads (ipv4-address-space, ipv6-unicast-address-assignments, ipv6-address-space, as-numbers)", f.Registry.ID)}
	}
	return f, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// rirNames maps the names IANA uses to RIR ids.
var rirNames = map[string]string{"AFRINIC": "afrinic", "APNIC": "apnic", "ARIN": "arin", "LACNIC": "lacnic", "RIPE NCC": "ripencc"}

// rirOf returns the RIR a designation names ("APNIC", "Administered by
// ARIN", "Assigned by RIPE NCC"), or "".
func rirOf(designation string) string {
	d := strings.TrimSpace(designation)
	for _, p := range []string{"Administered by ", "Assigned by ", "Allocated to "} {
		d = strings.TrimPrefix(d, p)
	}
	return rirNames[d]
}

// dateOf turns IANA's YYYY-MM or YYYY-MM-DD into YYYYMMDD.
func dateOf(s string) (string, error) {
	switch {
	case s == "":
		return "", nil
	case len(s) == 7 && s[4] == '-':
		return s[:4] + s[5:7] + "01", nil
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		return s[:4] + s[5:7] + s[8:], nil
	}
	return "", fmt.Errorf("date %q: want YYYY-MM or YYYY-MM-DD", s)
}

func toBlock(top, sub string, rec *record, raw string) (*steward.Block, error) {
	desc := strings.TrimSpace(rec.Designation)
	if desc == "" {
		desc = strings.TrimSpace(rec.Description)
	}
	dateText := rec.Date
	if dateText == "" {
		dateText = rec.DateAttr
	}
	date, err := dateOf(strings.TrimSpace(dateText))
	if err != nil {
		return nil, err
	}
	b := &steward.Block{Registry: steward.RegistryIANA, Name: strings.Join(strings.Fields(desc), " "), Date: date}
	entry := &steward.IANAEntry{Registry: sub, Designation: desc, Status: strings.TrimSpace(rec.Status), Date: strings.TrimSpace(dateText),
		Whois: strings.TrimSpace(rec.Whois), Notes: rec.Notes.Inner, Raw: raw}
	for _, s := range rec.RDAP {
		entry.RDAP = append(entry.RDAP, strings.TrimSpace(s))
	}
	for _, x := range rec.Xrefs {
		entry.Xrefs = append(entry.Xrefs, x.Type+":"+x.Data)
	}
	b.IANA = entry
	rir := rirOf(desc)
	status := strings.ToUpper(entry.Status)
	switch {
	case rec.Prefix != "":
		entry.Prefix = strings.TrimSpace(rec.Prefix)
		p, err := parsePrefix(entry.Prefix)
		if err != nil {
			return nil, err
		}
		b.Family = steward.FamilyIPv6
		if p.Addr().Is4() {
			b.Family = steward.FamilyIPv4
		}
		s := steward.PrefixSpan(p)
		b.First, b.Last = steward.FormatNumber(b.Family, s.First), steward.FormatNumber(b.Family, s.Last)
	case rec.Number != "":
		entry.Prefix = strings.TrimSpace(rec.Number)
		if !asnRangeRE.MatchString(entry.Prefix) {
			return nil, fmt.Errorf("AS number %q: want N or N-M", entry.Prefix)
		}
		first, last, ok := strings.Cut(entry.Prefix, "-")
		if !ok {
			last = first
		}
		b.Family, b.First, b.Last = steward.FamilyASN, first, last
	default:
		return nil, fmt.Errorf("record without a prefix or number")
	}
	switch {
	case strings.HasPrefix(top, "ipv6-address-space"):
		b.Registry = steward.RegistryIETF
		if strings.EqualFold(desc, "Global Unicast") {
			b.Status, b.Holder = steward.StatusAllocated, steward.RegistryIANA
		} else {
			b.Status = steward.StatusReserved
		}
	case status == "UNALLOCATED" || strings.EqualFold(desc, "Unallocated") || status == "AVAILABLE":
		b.Status = steward.StatusAvailable
	case rir != "" && status != "RESERVED":
		b.Status, b.Holder = steward.StatusAllocated, rir
	case status == "LEGACY":
		b.Status = steward.StatusAssigned
	default:
		b.Status = steward.StatusReserved
	}
	if err := b.Normalize(); err != nil {
		return nil, errors.New(steward.ErrorMessage(err))
	}
	return b, nil
}

// parsePrefix reads IANA's prefixes: "001/8" (an IPv4 /8 by its first
// octet), "2001:0200::/23".
func parsePrefix(s string) (netip.Prefix, error) {
	addr, bits, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(bits)
	if !ok || err != nil {
		return netip.Prefix{}, fmt.Errorf("prefix %q: want ADDRESS/LENGTH", s)
	}
	if !strings.Contains(addr, ":") && !strings.Contains(addr, ".") {
		o, err := strconv.Atoi(addr)
		if err != nil || o < 0 || o > 255 || n != 8 {
			return netip.Prefix{}, fmt.Errorf("prefix %q: want a first octet and /8", s)
		}
		addr = strconv.Itoa(o) + ".0.0.0"
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("prefix %q: %q is not an address", s, addr)
	}
	p, err := a.Prefix(n)
	if err != nil || n > a.BitLen() {
		return netip.Prefix{}, fmt.Errorf("prefix %q: bad length", s)
	}
	if p.Addr() != a {
		return netip.Prefix{}, fmt.Errorf("prefix %q is not aligned", s)
	}
	return p, nil
}

// sortBlocks orders blocks by their first value.
func sortBlocks(blocks []*steward.Block) {
	spans := make(map[*steward.Block]steward.Span, len(blocks))
	for _, b := range blocks {
		spans[b] = b.Span()
	}
	slices.SortStableFunc(blocks, func(a, b *steward.Block) int { return steward.CompareBlocks(a, b, spans[a], spans[b]) })
}

// Write writes the registry's XML: the text around the records as it was
// imported, and each sub-registry's records in order, each as published if
// unchanged or else in IANA's layout.
func Write(w io.Writer, reg *steward.IANARegistry, blocks []*steward.Block) error {
	bySub := map[string][]*steward.Block{}
	for _, b := range blocks {
		if b.IANA != nil {
			bySub[b.IANA.Registry] = append(bySub[b.IANA.Registry], b)
		}
	}
	var buf bytes.Buffer
	for _, s := range reg.Segments {
		if s.Records == "" {
			buf.WriteString(s.Raw)
			continue
		}
		bs := bySub[s.Records]
		sortBlocks(bs)
		sep := s.Sep
		if sep == "" {
			sep = "\n  "
		}
		for i, b := range bs {
			raw := ""
			if b.IANA != nil {
				raw = b.IANA.Raw
			}
			lead := raw != "" && strings.TrimLeft(raw, " \t\r\n") != raw
			switch {
			case i == 0 && raw != "":
				buf.WriteString(strings.TrimLeft(raw, " \t\r\n"))
			case raw != "" && lead:
				buf.WriteString(raw)
			case i > 0:
				buf.WriteString(sep)
				writeRecord(&buf, b, indentOf(sep))
			default:
				writeRecord(&buf, b, indentOf(sep))
			}
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func indentOf(sep string) string {
	if i := strings.LastIndex(sep, "\n"); i >= 0 {
		return sep[i+1:]
	}
	return "  "
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeRecord(buf *bytes.Buffer, b *steward.Block, ind string) {
	e := b.IANA
	if e != nil && e.Raw != "" {
		buf.WriteString(strings.TrimLeft(e.Raw, " \t\r\n"))
		return
	}
	if e == nil {
		e = &steward.IANAEntry{}
	}
	in := ind + "  "
	buf.WriteString("<record>\n")
	if b.Family == steward.FamilyASN {
		fmt.Fprintf(buf, "%s<number>%s</number>\n", in, esc(prefixText(b)))
		fmt.Fprintf(buf, "%s<description>%s</description>\n", in, esc(designation(b, e)))
	} else {
		fmt.Fprintf(buf, "%s<prefix>%s</prefix>\n", in, esc(prefixText(b)))
		fmt.Fprintf(buf, "%s<designation>%s</designation>\n", in, esc(designation(b, e)))
	}
	if d := dateText(b, e); d != "" {
		fmt.Fprintf(buf, "%s<date>%s</date>\n", in, esc(d))
	}
	if e.Whois != "" {
		fmt.Fprintf(buf, "%s<whois>%s</whois>\n", in, esc(e.Whois))
	}
	if len(e.RDAP) > 0 {
		fmt.Fprintf(buf, "%s<rdap>\n", in)
		for _, s := range e.RDAP {
			fmt.Fprintf(buf, "%s  <server>%s</server>\n", in, esc(s))
		}
		fmt.Fprintf(buf, "%s</rdap>\n", in)
	}
	fmt.Fprintf(buf, "%s<status>%s</status>\n", in, esc(statusText(b, e)))
	for _, x := range e.Xrefs {
		t, d, _ := strings.Cut(x, ":")
		fmt.Fprintf(buf, "%s<xref type=\"%s\" data=\"%s\"/>\n", in, esc(t), esc(d))
	}
	fmt.Fprintf(buf, "%s</record>", ind)
}

func designation(b *steward.Block, e *steward.IANAEntry) string {
	if e.Designation != "" {
		return e.Designation
	}
	for name, id := range rirNames {
		if id == b.Holder {
			return name
		}
	}
	return b.Name
}

func prefixText(b *steward.Block) string {
	if e := b.IANA; e != nil && e.Prefix != "" {
		return e.Prefix
	}
	if p, ok := b.Prefix(); ok {
		return p.String()
	}
	if b.First == b.Last {
		return b.First
	}
	return b.First + "-" + b.Last
}

func dateText(b *steward.Block, e *steward.IANAEntry) string {
	if e.Date != "" {
		return e.Date
	}
	if len(b.Date) == 8 {
		return b.Date[:4] + "-" + b.Date[4:6] + "-" + b.Date[6:]
	}
	return ""
}

func statusText(b *steward.Block, e *steward.IANAEntry) string {
	if e.Status != "" {
		return e.Status
	}
	switch b.Status {
	case steward.StatusAvailable:
		return "UNALLOCATED"
	case steward.StatusReserved:
		return "RESERVED"
	}
	return "ALLOCATED"
}

var noteRE = regexp.MustCompile(`<xref type="note" data="([^"]+)"/>`)

// WriteCSV writes the registry as IANA's CSV: for address registries the
// columns Prefix, Designation, Date, WHOIS, RDAP, Status, Note; for AS
// numbers Number, Description, WHOIS, RDAP, Reference, Registration Date.
// RDAP servers are separated by line breaks; notes are written [n].
func WriteCSV(w io.Writer, reg *steward.IANARegistry, blocks []*steward.Block) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	sortBlocks(blocks)
	asn := len(blocks) > 0 && blocks[0].Family == steward.FamilyASN
	if asn {
		_ = cw.Write([]string{"Number", "Description", "WHOIS", "RDAP", "Reference", "Registration Date"})
	} else {
		_ = cw.Write([]string{"Prefix", "Designation", "Date", "WHOIS", "RDAP", "Status [1]", "Note"})
	}
	for _, b := range blocks {
		e := b.IANA
		if e == nil {
			e = &steward.IANAEntry{}
		}
		var notes, refs []string
		for _, x := range e.Xrefs {
			t, d, _ := strings.Cut(x, ":")
			if t == "note" {
				notes = append(notes, "["+d+"]")
			} else {
				refs = append(refs, "["+strings.ToUpper(d)+"]")
			}
		}
		for _, m := range noteRE.FindAllStringSubmatch(e.Notes, -1) {
			notes = append(notes, "["+m[1]+"]")
		}
		if asn {
			_ = cw.Write([]string{prefixText(b), designation(b, e), e.Whois, strings.Join(e.RDAP, "\n"), strings.Join(refs, ""), dateText(b, e)})
		} else {
			_ = cw.Write([]string{prefixText(b), designation(b, e), dateText(b, e), e.Whois, strings.Join(e.RDAP, "\n"), statusText(b, e), strings.Join(notes, "")})
		}
	}
	cw.Flush()
	return cw.Error()
}
