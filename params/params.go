// Package params reads and writes protocol parameter registries in IANA's
// formats: the XML of https://www.iana.org/assignments (namespace
// http://www.iana.org/assignments, a registry with sub-registries, ranges
// with registration rules, and records) and the CSV IANA publishes beside
// it.
package params

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"steward"
)

// Namespace is IANA's registry XML namespace.
const Namespace = "http://www.iana.org/assignments"

type xref struct {
	Type string `xml:"type,attr"`
	Data string `xml:"data,attr"`
}

type xrange struct {
	Value string `xml:"value"`
	Rule  string `xml:"registration_rule"`
}

type xrecord struct {
	Date        string `xml:"date,attr"`
	Value       string `xml:"value"`
	Addr        string `xml:"addr"`
	Name        string `xml:"name"`
	Description string `xml:"description"`
	Xrefs       []xref `xml:"xref"`
}

type xnote struct {
	Text string `xml:",chardata"`
}

type xregistry struct {
	ID       string      `xml:"id,attr"`
	Title    string      `xml:"title"`
	Rule     string      `xml:"registration_rule"`
	Experts  []string    `xml:"expert"`
	Xrefs    []xref      `xml:"xref"`
	Notes    []xnote     `xml:"note"`
	Ranges   []xrange    `xml:"range"`
	Records  []xrecord   `xml:"record"`
	Children []xregistry `xml:"registry"`
}

// Registry is a registry read from IANA's XML with its values.
type Registry struct {
	Registry steward.ParamRegistry
	Values   []steward.ParamValue
}

// Error is a parse error; nothing is imported.
type Error struct {
	File string
	Msg  string
}

func (e *Error) Error() string { return e.File + ": " + e.Msg }

// MaxSize is the largest registry file Parse reads.
const MaxSize = 16 << 20

// Parse reads an IANA registry XML file: every registry in it (the outer
// one and its sub-registries) that holds records or ranges becomes a
// Registry. A registry whose values are all numbers (or ranges of numbers)
// is an integer registry, its maximum the next 2^n-1 at or above its
// largest value; its ranges come from its range elements, or from its
// registration rule for the whole space. Other registries are text
// registries (addresses, names). Records marked Unassigned are gaps, not
// values.
func Parse(name string, r io.Reader) ([]Registry, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, &Error{name, fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	var root xregistry
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Strict = true
	if err := dec.Decode(&root); err != nil {
		return nil, &Error{name, "not an IANA registry XML file: " + err.Error()}
	}
	if root.ID == "" {
		return nil, &Error{name, "the root registry element has no id"}
	}
	var out []Registry
	var walk func(x *xregistry, group string, depth int) error
	walk = func(x *xregistry, group string, depth int) error {
		if depth > 8 {
			return &Error{name, "registries nest too deep"}
		}
		if len(x.Records) > 0 || len(x.Ranges) > 0 {
			reg, err := convert(x, group)
			if err != nil {
				return &Error{name, err.Error()}
			}
			out = append(out, reg)
		}
		for i := range x.Children {
			if err := walk(&x.Children[i], x.ID, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(&root, "", 0); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &Error{name, "no registry in it holds records or ranges"}
	}
	return out, nil
}

func refs(xs []xref) []string {
	var out []string
	for _, x := range xs {
		d := strings.TrimSpace(x.Data)
		if x.Type == "" || d == "" || strings.ContainsAny(d, " \t\n") {
			continue
		}
		out = append(out, strings.ToLower(x.Type)+":"+d)
	}
	return out
}

// parseRange reads "N" or "N-M".
func parseRange(s string) (uint64, uint64, bool) {
	s = strings.TrimSpace(s)
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(strings.TrimSpace(a), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if !isRange {
		return lo, lo, true
	}
	hi, err := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
	if err != nil || hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}

func firstProcedure(rule string, fallback string) string {
	if ps := steward.ParseProcedures(rule); len(ps) > 0 {
		return ps[0]
	}
	return fallback
}

func convert(x *xregistry, group string) (Registry, error) {
	reg := steward.ParamRegistry{ID: x.ID, Title: strings.Join(strings.Fields(x.Title), " "), Group: group, Rule: strings.Join(strings.Fields(x.Rule), " "), References: refs(x.Xrefs)}
	for _, e := range x.Experts {
		if e = strings.Join(strings.Fields(e), " "); e != "" {
			reg.Experts = append(reg.Experts, e)
		}
	}
	if len(x.Notes) > 0 {
		reg.Note = strings.TrimSpace(x.Notes[0].Text)
	}
	integer := true
	var maxVal uint64
	for _, r := range x.Records {
		if r.Value == "" {
			integer = false
			break
		}
		_, hi, ok := parseRange(r.Value)
		if !ok {
			integer = false
			break
		}
		maxVal = max(maxVal, hi)
	}
	for _, g := range x.Ranges {
		_, hi, ok := parseRange(g.Value)
		if !ok {
			integer = false
			break
		}
		maxVal = max(maxVal, hi)
	}
	out := Registry{}
	if integer {
		reg.Max = spaceMax(maxVal)
		var next uint64
		for _, g := range x.Ranges {
			lo, hi, _ := parseRange(g.Value)
			if lo < next || (next == 0 && len(reg.Ranges) > 0) {
				continue // overlapping ranges: keep the first
			}
			proc := firstProcedure(g.Rule, "")
			if proc == "" {
				proc = firstProcedure(x.Rule, steward.ProcIESGApproval)
				if strings.Contains(strings.ToLower(g.Rule), "reserved") || strings.Contains(strings.ToLower(g.Rule), "unassigned") {
					proc = steward.ProcIESGApproval
				}
			}
			if lo > next {
				reg.Ranges = append(reg.Ranges, steward.ParamRange{First: next, Last: lo - 1, Procedure: firstProcedure(x.Rule, steward.ProcIESGApproval)})
			}
			reg.Ranges = append(reg.Ranges, steward.ParamRange{First: lo, Last: hi, Procedure: proc, Note: strings.Join(strings.Fields(g.Rule), " ")})
			next = hi + 1
			if hi == math.MaxUint64 {
				break
			}
		}
		if len(reg.Ranges) == 0 || reg.Ranges[len(reg.Ranges)-1].Last < reg.Max {
			first := uint64(0)
			if len(reg.Ranges) > 0 {
				first = reg.Ranges[len(reg.Ranges)-1].Last + 1
			}
			reg.Ranges = append(reg.Ranges, steward.ParamRange{First: first, Last: reg.Max, Procedure: firstProcedure(x.Rule, steward.ProcIESGApproval)})
		}
	} else {
		if len(x.Ranges) > 0 {
			return out, fmt.Errorf("registry %s: ranges in a registry whose values are not numbers", x.ID)
		}
		reg.Procedure = firstProcedure(x.Rule, steward.ProcIESGApproval)
	}
	seen := map[string]bool{}
	for _, r := range x.Records {
		desc := strings.Join(strings.Fields(r.Description), " ")
		if desc == "" {
			desc = strings.Join(strings.Fields(r.Name), " ")
		}
		if strings.EqualFold(desc, "unassigned") {
			continue
		}
		v := steward.ParamValue{Registry: reg.ID, Description: desc, References: refs(r.Xrefs), Date: r.Date}
		if integer {
			lo, hi, _ := parseRange(r.Value)
			v.Value = strconv.FormatUint(lo, 10)
			if hi != lo {
				v.Last = strconv.FormatUint(hi, 10)
			}
		} else {
			v.Value = strings.TrimSpace(r.Value)
			if v.Value == "" {
				v.Value = strings.TrimSpace(r.Addr)
			}
			if v.Value == "" {
				v.Value = strings.TrimSpace(r.Name)
			}
			if v.Value == "" {
				continue
			}
		}
		if _, err := time.Parse(time.DateOnly, v.Date); err != nil {
			v.Date = ""
		}
		if seen[v.Value] {
			continue // IANA lists some values twice (aliases): keep the first
		}
		seen[v.Value] = true
		out.Values = append(out.Values, v)
	}
	out.Registry = reg
	if err := reg.Validate(); err != nil {
		return out, err
	}
	return out, nil
}

// spaceMax is the largest value of the smallest 8-, 16- or 32-bit (or
// 64-bit) space that holds n.
func spaceMax(n uint64) uint64 {
	for _, bits := range []uint{8, 16, 32} {
		if n < 1<<bits {
			return 1<<bits - 1
		}
	}
	return math.MaxUint64
}

func rangeText(first, last string) string {
	if last == "" || last == first {
		return first
	}
	return first + "-" + last
}

// WriteXML writes a registry in IANA's XML format.
func WriteXML(w io.Writer, reg *steward.ParamRegistry, values []steward.ParamValue) error {
	type xrefOut struct {
		XMLName xml.Name `xml:"xref"`
		Type    string   `xml:"type,attr"`
		Data    string   `xml:"data,attr"`
	}
	type rangeOut struct {
		XMLName xml.Name `xml:"range"`
		Value   string   `xml:"value"`
		Rule    string   `xml:"registration_rule"`
	}
	type recordOut struct {
		XMLName     xml.Name  `xml:"record"`
		Date        string    `xml:"date,attr,omitempty"`
		Value       string    `xml:"value"`
		Description string    `xml:"description"`
		Xrefs       []xrefOut `xml:"xref"`
	}
	type registryOut struct {
		XMLName xml.Name    `xml:"registry"`
		NS      string      `xml:"xmlns,attr"`
		ID      string      `xml:"id,attr"`
		Title   string      `xml:"title"`
		Updated string      `xml:"updated,omitempty"`
		Rule    string      `xml:"registration_rule,omitempty"`
		Experts []string    `xml:"expert"`
		Xrefs   []xrefOut   `xml:"xref"`
		Note    string      `xml:"note,omitempty"`
		Ranges  []rangeOut  `xml:"range"`
		Records []recordOut `xml:"record"`
	}
	xo := func(refs []string) []xrefOut {
		var out []xrefOut
		for _, r := range refs {
			t, d, _ := strings.Cut(r, ":")
			out = append(out, xrefOut{Type: t, Data: d})
		}
		return out
	}
	o := registryOut{NS: Namespace, ID: reg.ID, Title: reg.Title, Experts: reg.Experts, Xrefs: xo(reg.References), Note: reg.Note}
	if !reg.Updated.IsZero() {
		o.Updated = reg.Updated.UTC().Format(time.DateOnly)
	}
	o.Rule = reg.Rule
	if reg.Max == 0 {
		if o.Rule == "" {
			o.Rule = steward.ProcedureNames[reg.Procedure]
		}
	} else {
		for _, g := range reg.Ranges {
			o.Ranges = append(o.Ranges, rangeOut{Value: rangeText(strconv.FormatUint(g.First, 10), strconv.FormatUint(g.Last, 10)), Rule: steward.ProcedureNames[g.Procedure]})
		}
	}
	for _, v := range values {
		o.Records = append(o.Records, recordOut{Date: v.Date, Value: rangeText(v.Value, v.Last), Description: v.Description, Xrefs: xo(v.References)})
	}
	if _, err := io.WriteString(w, "<?xml version='1.0' encoding='UTF-8'?>\n"); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(o); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteCSV writes a registry's values as IANA's CSV files do: a header
// row, then one row per value with its references in brackets.
func WriteCSV(w io.Writer, reg *steward.ParamRegistry, values []steward.ParamValue) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{"Value", "Description", "Reference", "Registration Procedure", "Date"}); err != nil {
		return err
	}
	for _, v := range values {
		var b strings.Builder
		for _, r := range v.References {
			t, d, _ := strings.Cut(r, ":")
			if t == "rfc" {
				d = strings.ToUpper(d)
			}
			b.WriteString("[" + d + "]")
		}
		proc := ""
		if p := procedureOf(reg, v.Value); p != "" {
			proc = steward.ProcedureNames[p]
		}
		if err := cw.Write([]string{rangeText(v.Value, v.Last), v.Description, b.String(), proc, v.Date}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func procedureOf(reg *steward.ParamRegistry, v string) string {
	if reg.Max == 0 {
		return reg.Procedure
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return ""
	}
	for _, g := range reg.Ranges {
		if g.First <= n && n <= g.Last {
			return g.Procedure
		}
	}
	return ""
}
