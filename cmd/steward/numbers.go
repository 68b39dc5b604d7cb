package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"steward"
	"steward/ianaxml"
	"steward/numbers"
	"steward/rirstats"
)

// importNumbers runs "import rir-stats FILE..." and "import iana-registry
// FILE...": every file is read first, and nothing is imported unless all
// are well formed and the result passes the registry's checks.
func (m *Main) importNumbers(ctx context.Context, kind string, args []string) error {
	fs := m.flags("import "+kind, "[--data DIR] [--json] FILE...")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("import %s takes one or more files", kind)
	}
	start := time.Now()
	var cmd steward.Command
	records := 0
	switch kind {
	case "rir-stats":
		var files []*steward.StatsFile
		for _, p := range pos {
			f, err := readFile(p, func(r io.Reader) (*steward.StatsFile, error) { return rirstats.Parse(p, r) })
			if err != nil {
				return err
			}
			files = append(files, f)
			records += len(f.Blocks)
		}
		cmd = steward.ImportStats(steward.ActorImport, files...)
	case "iana-registry":
		var files []*steward.IANAFile
		for _, p := range pos {
			f, err := readFile(p, func(r io.Reader) (*steward.IANAFile, error) { return ianaxml.Parse(p, r) })
			if err != nil {
				return err
			}
			records += len(f.Blocks)
			files = append(files, f)
		}
		cmd = steward.ImportIANA(steward.ActorImport, files...)
	}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, checkpointInterval: -1})
	if err != nil {
		return err
	}
	defer in.Close()
	v, err := in.store.Do(ctx, cmd)
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing imported)", strings.Join(pos, " "), err)
	}
	c := v.(*steward.RecordCounts)
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"files": pos, "records": records, "registry": c, "seconds": time.Since(start).Seconds()})
	}
	fmt.Fprintf(m.Stdout, "%d records read from %d file(s) in %.2fs\n", records, len(pos), time.Since(start).Seconds())
	fmt.Fprintf(m.Stdout, "registry: %d added, %d changed, %d removed, %d unchanged\n", c.Added, c.Changed, c.Removed, c.Unchanged)
	return nil
}

// readFile opens path and parses it; a malformed file's error names the
// file and line and says nothing was imported.
func readFile[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		var se *rirstats.Error
		var xe *ianaxml.Error
		if errors.As(err, &se) || errors.As(err, &xe) {
			return zero, fmt.Errorf("%w (nothing imported)", err)
		}
		return zero, err
	}
	return v, nil
}

// exportCmd runs "export rir-stats REGISTRY" and "export iana-registry ID".
func (m *Main) exportCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "rir-stats" && args[0] != "iana-registry") {
		return usagef("export: give rir-stats REGISTRY or iana-registry ID")
	}
	kind := args[0]
	fs := m.flags("export "+kind, "[--data DIR] [-o FILE] [--format xml|csv] NAME")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	out := fs.String("o", "", "write to this file instead of standard output")
	format := fs.String("format", "xml", "iana-registry only: xml or csv")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("export %s takes one name", kind)
	}
	if *format != "xml" && *format != "csv" {
		return usagef("--format: want xml or csv")
	}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, readOnly: true})
	if err != nil {
		return err
	}
	defer in.Close()
	var buf bytes.Buffer
	switch kind {
	case "rir-stats":
		if err := exportStats(ctx, in.store, pos[0], m.Clock.Now(), &buf); err != nil {
			return err
		}
	case "iana-registry":
		if err := exportIANA(ctx, in.store, pos[0], *format, &buf); err != nil {
			return err
		}
	}
	if *out == "" {
		_, err := m.Stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}

// exportStats writes a registry's statistics file.
func exportStats(ctx context.Context, r steward.StateReader, registry string, now time.Time, w io.Writer) error {
	h, err := steward.LoadStatsHeader(ctx, r, registry)
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		day := now.UTC().Format("20060102")
		h = &steward.StatsHeader{Registry: registry, Version: "2", Serial: day, StartDate: "19700101", EndDate: day, UTCOffset: "+0000", Extended: true}
	} else if err != nil {
		return err
	}
	var blocks []*steward.Block
	for _, fam := range steward.Families {
		bs, err := steward.LoadBlocks(ctx, r, fam)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if b.Registry == registry {
				blocks = append(blocks, b)
			}
		}
	}
	if len(blocks) == 0 && steward.ErrorCode(err) == steward.ENOTFOUND {
		return steward.Errorf(steward.ENOTFOUND, "the registry holds no records of %q", registry)
	}
	return rirstats.Write(w, h, blocks)
}

// exportIANA writes an IANA registry as XML or CSV.
func exportIANA(ctx context.Context, r steward.StateReader, id, format string, w io.Writer) error {
	reg, err := steward.LoadIANARegistry(ctx, r, id)
	if err != nil {
		return err
	}
	subs := map[string]bool{}
	for _, s := range reg.Segments {
		if s.Records != "" {
			subs[s.Records] = true
		}
	}
	var blocks []*steward.Block
	for _, fam := range steward.Families {
		bs, err := steward.LoadBlocks(ctx, r, fam)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if b.IANA != nil && subs[b.IANA.Registry] {
				blocks = append(blocks, b)
			}
		}
	}
	if format == "csv" {
		return ianaxml.WriteCSV(w, reg, blocks)
	}
	return ianaxml.Write(w, reg, blocks)
}

// numbersCmd runs "numbers show|allocate|return".
func (m *Main) numbersCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("numbers: give show, allocate or return")
	}
	switch args[0] {
	case "show":
		return m.numbersShow(ctx, args[1:])
	case "allocate":
		return m.numbersAllocate(ctx, args[1:])
	case "return":
		return m.numbersReturn(ctx, args[1:])
	}
	return usagef("numbers: unknown subcommand %q; give show, allocate or return", args[0])
}

// parseResource reads an address, prefix, range or AS number (range) and
// says which family it is.
func parseResource(s string) (string, steward.Span, error) {
	fam := steward.FamilyASN
	switch {
	case strings.Contains(s, ":"):
		fam = steward.FamilyIPv6
	case strings.Contains(s, "."):
		fam = steward.FamilyIPv4
	}
	t := s
	if fam == steward.FamilyASN {
		t = strings.ReplaceAll(strings.ReplaceAll(s, "AS", ""), "as", "")
	}
	sp, err := steward.ParseSpan(fam, t)
	return fam, sp, err
}

func (m *Main) numbersShow(ctx context.Context, args []string) error {
	fs := m.flags("numbers show", "[--data DIR] [--json] ADDRESS|PREFIX|ASN")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("numbers show takes one address, prefix or AS number")
	}
	fam, span, err := parseResource(pos[0])
	if err != nil {
		return err
	}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, readOnly: true})
	if err != nil {
		return err
	}
	defer in.Close()
	ix, err := numbers.Load(ctx, in.store)
	if err != nil {
		return err
	}
	chain := ix.LookupSpan(fam, span)
	if len(chain) == 0 {
		return steward.Errorf(steward.ENOTFOUND, "no block holds %s", pos[0])
	}
	type row struct {
		*steward.Block
		Label    string  `json:"label"`
		Children int     `json:"children"`
		Used     float64 `json:"used"`
	}
	var rows []row
	for _, b := range chain {
		rows = append(rows, row{b, b.Label(), len(ix.Children(b.Key())), ix.Usage(b.Key()).Fraction})
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BLOCK\tREGISTRY\tHOLDER\tSTATUS\tCC\tDATE\tNAME\tINSIDE\tUSED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.1f%%\n", r.Label, r.Registry, dash(r.Holder), r.Status, dash(r.Country), dash(r.Date), dash(r.Name), r.Children, 100*r.Used)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type contactsFlag []steward.Contact

func (c *contactsFlag) String() string { return fmt.Sprint(*c) }
func (c *contactsFlag) Set(s string) error {
	role, handle, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("want ROLE:HANDLE, such as technical:NOC-EXAMPLE")
	}
	*c = append(*c, steward.Contact{Handle: handle, Role: role})
	return nil
}

func (m *Main) numbersAllocate(ctx context.Context, args []string) error {
	fs := m.flags("numbers allocate", "--registry R --holder H [--status allocated|assigned|reserved] [--country CC] [--name NAME] [--contact ROLE:HANDLE]... BLOCK")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	registry := fs.String("registry", "", "the registry that delegates the block: iana, an RIR id or a local registry's handle")
	holder := fs.String("holder", "", "who receives it: an RIR id or an organisation handle")
	status := fs.String("status", steward.StatusAllocated, "allocated, assigned or reserved")
	country := fs.String("country", "", "ISO 3166 country code")
	name := fs.String("name", "", "the holder's or network's name")
	date := fs.String("date", "", "YYYYMMDD; default today")
	actor := fs.String("as", steward.ActorImport, "the operator's handle to act as")
	var contacts contactsFlag
	fs.Var(&contacts, "contact", "a contact, ROLE:HANDLE (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *registry == "" {
		return usagef("numbers allocate takes --registry and one block (prefix, range or AS numbers)")
	}
	fam, span, err := parseResource(pos[0])
	if err != nil {
		return err
	}
	b := steward.Block{Family: fam, First: steward.FormatNumber(fam, span.First), Last: steward.FormatNumber(fam, span.Last),
		Registry: *registry, Holder: *holder, Status: *status, Country: *country, Name: *name, Date: *date, Contacts: contacts}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, checkpointInterval: -1})
	if err != nil {
		return err
	}
	defer in.Close()
	v, err := in.store.Do(ctx, steward.AllocateBlock(*actor, b))
	if err != nil {
		return err
	}
	p := v.(*steward.AllocatedPayload)
	fmt.Fprintf(m.Stdout, "%s %s %s to %s\n", p.Block.Registry, p.Block.Status, p.Block.Label(), dash(p.Block.Holder))
	for _, r := range p.Remainder {
		fmt.Fprintf(m.Stdout, "  %s stays available\n", r.Label())
	}
	return nil
}

func (m *Main) numbersReturn(ctx context.Context, args []string) error {
	fs := m.flags("numbers return", "--registry R [--recovered] [--reason TEXT] BLOCK")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	registry := fs.String("registry", "", "the registry that delegated the block")
	recovered := fs.Bool("recovered", false, "the registry takes the block back (rather than the holder returning it)")
	reason := fs.String("reason", "", "why")
	actor := fs.String("as", steward.ActorImport, "the operator's handle to act as")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *registry == "" {
		return usagef("numbers return takes --registry and one block")
	}
	fam, span, err := parseResource(pos[0])
	if err != nil {
		return err
	}
	ref := steward.BlockRef{Family: fam, First: steward.FormatNumber(fam, span.First), Last: steward.FormatNumber(fam, span.Last), Registry: *registry}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, checkpointInterval: -1})
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := in.store.Do(ctx, steward.ReturnBlock(*actor, ref, *reason, *recovered)); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s is available space of %s again\n", pos[0], *registry)
	return nil
}

// policyCmd runs "policy evaluate|show|set".
func (m *Main) policyCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("policy: give evaluate, show or set")
	}
	switch args[0] {
	case "evaluate":
		return m.policyEvaluate(ctx, args[1:])
	case "show":
		fs := m.flags("policy show", "[--data DIR]")
		dir := fs.String("data", defaultDataDir(), "the instance's data directory")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, readOnly: true})
		if err != nil {
			return err
		}
		defer in.Close()
		p, err := steward.LoadNumberPolicies(ctx, in.store)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "set":
		fs := m.flags("policy set", "[--data DIR] [--reason TEXT] FILE.json")
		dir := fs.String("data", defaultDataDir(), "the instance's data directory")
		reason := fs.String("reason", "", "why (the policy process's decision)")
		actor := fs.String("as", steward.ActorImport, "the operator's handle to act as")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("policy set takes one JSON file (see steward policy show)")
		}
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		var p steward.NumberPolicies
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return steward.Errorf(steward.EINVALID, "%s: %v", pos[0], err)
		}
		in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, checkpointInterval: -1})
		if err != nil {
			return err
		}
		defer in.Close()
		if _, err := in.store.Do(ctx, steward.SetNumberPolicies(*actor, p, *reason)); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, "number policies set")
		return nil
	}
	return usagef("policy: unknown subcommand %q; give evaluate, show or set", args[0])
}

func (m *Main) policyEvaluate(ctx context.Context, args []string) error {
	fs := m.flags("policy evaluate", "[--data DIR] [--at YYYY-MM-DD] [--json]")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	at := fs.String("at", "", "evaluate at this date (default: now, by the steward clock)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	when := m.Clock.Now()
	if *at != "" {
		t, err := time.Parse("2006-01-02", *at)
		if err != nil {
			return usagef("--at: want YYYY-MM-DD")
		}
		when = t
	}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, readOnly: true})
	if err != nil {
		return err
	}
	defer in.Close()
	rep, err := evaluatePolicies(ctx, in.store, when)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(m.Stdout, "Global number policies evaluated at %s\n\n", rep.At.Format("2006-01-02"))
	for _, n := range rep.Notes {
		fmt.Fprintf(m.Stdout, "  %s: %s\n", n.Name, n.Value)
	}
	fmt.Fprintln(m.Stdout)
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGISTRY\tPOLICY\tGRANTS\tWHY")
	for _, g := range rep.Grants {
		grant := g.Grant
		if !g.Eligible {
			grant = "nothing"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Registry, g.Policy, grant, g.Why)
	}
	return tw.Flush()
}

// evaluatePolicies loads the registry and evaluates the policy set in force.
func evaluatePolicies(ctx context.Context, r steward.StateReader, at time.Time) (*steward.PolicyReport, error) {
	p, err := steward.LoadNumberPolicies(ctx, r)
	if err != nil {
		return nil, err
	}
	var all []*steward.Block
	for _, fam := range steward.Families {
		bs, err := steward.LoadBlocks(ctx, r, fam)
		if err != nil {
			return nil, err
		}
		all = append(all, bs...)
	}
	return steward.EvaluatePolicies(p, all, at), nil
}
