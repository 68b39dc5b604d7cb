package charter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest charter file Parse accepts, in bytes.
const MaxFileSize = 1 << 20

// Parse parses and validates a charter file. name is used in error
// positions (usually the file name).
//
// If data is not well-formed YAML, the error is a single *Error with the
// line of the syntax error. If it is YAML but not a valid charter, the error
// is an ErrorList holding every problem found, ordered by line. Every Error
// has a Line of at least 1.
func Parse(name string, data []byte) (*Charter, error) {
	if len(data) > MaxFileSize {
		return nil, errorf(name, 1, "", "file is %d bytes; a charter may be at most %d", len(data), MaxFileSize)
	}
	doc, err := decodeYAML(name, data)
	if err != nil {
		return nil, err
	}
	p := &parser{file: name}
	c := p.charter(doc)
	for _, f := range p.later {
		f()
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			return a.Line < b.Line || a.Line == b.Line && a.col < b.col
		})
		return nil, p.errs
	}
	sum := sha256.Sum256(data)
	c.Hash = hex.EncodeToString(sum[:])
	return c, nil
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): `)

// yamlParserProblems are the messages of the YAML library's parser (as
// opposed to its scanner). The library reports their lines counting from 0,
// and leaves out line 0; yamlError corrects this.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// decodeYAML decodes the single YAML document in data into a node tree.
func decodeYAML(name string, data []byte) (doc *yaml.Node, err error) {
	// The YAML library reports a few malformed inputs by panicking with
	// "internal error"; such input is bad input, not a bug of ours.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, errorf(name, 1, "", "invalid YAML: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf(name, 1, "", "empty file: a charter starts with \"charter: %d\"", Version)
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(name, err)
	default:
		return nil, errorf(name, extra.Line, "", "a charter file holds one YAML document, but a second one starts here")
	}
	return &n, nil
}

// yamlError turns an error of the YAML library ("yaml: line 3: …") into an
// *Error.
func yamlError(name string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	if slices.Contains(yamlParserProblems, msg) {
		line++
	}
	return errorf(name, line, "", "invalid YAML: %s", msg) // errorf makes line 0 into 1
}

// parser holds the state of one Parse call.
type parser struct {
	file string
	c    *Charter
	errs ErrorList
	// later holds checks that need the whole file decoded first: cross
	// references and the properties of the bodies they point to.
	later []func()

	regionLine map[string]int
	groupLine  map[string]int
	bodyLine   map[string]int
	// appointer holds each body's appointed_by node and path.
	appointer map[string]located
	// badSeats holds the ids of bodies with errors in their seats, whose
	// voting seats are therefore unknown.
	badSeats map[string]bool
}

// located is a node with its field path.
type located struct {
	n    *yaml.Node
	path string
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) {
	line, col := 1, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	e := errorf(p.file, line, field, format, args...)
	e.col = col
	p.errs = append(p.errs, e)
}

func (p *parser) afterwards(f func()) { p.later = append(p.later, f) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// describe names the kind of a node for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a YAML document"
}

// expect reports whether n has the wanted kind, and an error if not.
func (p *parser) expect(n *yaml.Node, kind yaml.Kind, path, what string) bool {
	if n.Kind == yaml.AliasNode {
		p.errf(n, path, "aliases (*%s) are not allowed in a charter; write the value out", n.Value)
		return false
	}
	if n.Kind != kind {
		p.errf(n, path, "must be %s, not %s", what, describe(n))
		return false
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// object is a YAML mapping whose keys have been checked against a list of
// known fields.
type object struct {
	p    *parser
	n    *yaml.Node
	path string
	bad  bool // not a mapping; already reported
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

// object checks that n is a mapping whose keys are all in fields, each
// present at most once, and reports every other key.
func (p *parser) object(n *yaml.Node, path string, fields ...string) *object {
	o := &object{p: p, n: n, path: path, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if !p.expect(n, yaml.MappingNode, path, "a mapping of fields") {
		o.bad = true
		return o
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errf(k, path, "field names must be plain words, not %s", describe(k))
			continue
		}
		fp := join(path, k.Value)
		if prev, dup := o.keys[k.Value]; dup {
			p.errf(k, fp, "field given twice (first on line %d)", prev.Line)
			continue
		}
		o.keys[k.Value] = k
		if !slices.Contains(fields, k.Value) {
			p.errf(k, fp, "unknown field %q%s", k.Value, suggest(k.Value, fields))
			continue
		}
		o.vals[k.Value] = v
	}
	return o
}

// get returns the value of an optional field, or nil if it is absent or
// empty.
func (o *object) get(key string) *yaml.Node {
	v := o.vals[key]
	if v == nil || isNull(v) {
		return nil
	}
	return v
}

// need returns the value of a required field, or reports that it is
// missing or empty and returns nil.
func (o *object) need(key string) *yaml.Node {
	if o.bad {
		return nil
	}
	v := o.vals[key]
	switch {
	case v == nil:
		if _, present := o.keys[key]; !present {
			o.p.errf(o.n, join(o.path, key), "missing required field")
		}
		return nil
	case isNull(v):
		o.p.errf(o.keys[key], join(o.path, key), "must not be empty")
		return nil
	}
	return v
}

func (o *object) at(key string) string { return join(o.path, key) }

func (p *parser) text(n *yaml.Node, path string) (string, bool) {
	if !p.expect(n, yaml.ScalarNode, path, "a text value") {
		return "", false
	}
	if isNull(n) {
		p.errf(n, path, "must not be empty")
		return "", false
	}
	return n.Value, true
}

var identRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ident parses an identifier: lowercase letters and digits in words joined
// by single dashes.
func (p *parser) ident(n *yaml.Node, path, what string) (string, bool) {
	s, ok := p.text(n, path)
	if !ok {
		return "", false
	}
	if len(s) > 64 || !identRE.MatchString(s) {
		p.errf(n, path, "bad %s %q: use lowercase letters and digits, words joined by single dashes, at most 64 characters", what, s)
		return "", false
	}
	return s, true
}

// enum parses one of a fixed list of words.
func (p *parser) enum(n *yaml.Node, path, what string, allowed []string) (string, bool) {
	s, ok := p.text(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s) {
		p.errf(n, path, "unknown %s %q (one of: %s)", what, s, strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

func (p *parser) integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	if !p.expect(n, yaml.ScalarNode, path, "a whole number") {
		return 0, false
	}
	if n.ShortTag() != "!!int" {
		p.errf(n, path, "must be a whole number, not %s", describe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	switch {
	case err != nil:
		p.errf(n, path, "must be a whole number between %d and %d, not %s", lo, hi, n.Value)
		return 0, false
	case v < 0 && lo >= 0:
		p.errf(n, path, "must not be negative (got %d)", v)
		return 0, false
	case v < int64(lo) || v > int64(hi):
		p.errf(n, path, "must be between %d and %d (got %d)", lo, hi, v)
		return 0, false
	}
	return int(v), true
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if !p.expect(n, yaml.ScalarNode, path, "true or false") {
		return false, false
	}
	if n.ShortTag() != "!!bool" {
		p.errf(n, path, "must be true or false, not %s", describe(n))
		return false, false
	}
	v, err := strconv.ParseBool(n.Value)
	if err != nil {
		p.errf(n, path, "must be true or false, not %s", describe(n))
		return false, false
	}
	return v, true
}

func (p *parser) duration(n *yaml.Node, path string) (Duration, bool) {
	s, ok := p.text(n, path)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.errf(n, path, "%v", err)
		return 0, false
	}
	return d, true
}

func (p *parser) fraction(n *yaml.Node, path string) (Fraction, bool) {
	s, ok := p.text(n, path)
	if !ok {
		return Fraction{}, false
	}
	f, err := ParseFraction(s)
	if err != nil {
		p.errf(n, path, "%v", err)
		return Fraction{}, false
	}
	return f, true
}

// list returns the items of a sequence, or nil after reporting an error.
func (p *parser) list(n *yaml.Node, path string) []*yaml.Node {
	if !p.expect(n, yaml.SequenceNode, path, "a list") {
		return nil
	}
	return n.Content
}

// nonEmptyList is list, but also reports an empty list: "must list at
// least one " + what.
func (p *parser) nonEmptyList(n *yaml.Node, path, what string) []*yaml.Node {
	items := p.list(n, path)
	if n.Kind == yaml.SequenceNode && len(items) == 0 {
		p.errf(n, path, "must list at least one %s", what)
	}
	return items
}

// idList parses a list of body ids (or of the given special words),
// reporting duplicates. It returns the ids and their nodes.
func (p *parser) idList(n *yaml.Node, path, what string, special ...string) ([]string, []*yaml.Node) {
	var ids []string
	var nodes []*yaml.Node
	seen := map[string]int{}
	for i, it := range p.list(n, path) {
		ip := index(path, i)
		var id string
		var ok bool
		if it.Kind == yaml.ScalarNode && slices.Contains(special, it.Value) {
			id, ok = it.Value, true
		} else {
			id, ok = p.ident(it, ip, what)
		}
		if !ok {
			continue
		}
		if first, dup := seen[id]; dup {
			p.errf(it, ip, "%q is listed twice (first on line %d)", id, first)
			continue
		}
		seen[id] = it.Line
		ids = append(ids, id)
		nodes = append(nodes, it)
	}
	return ids, nodes
}

// The charter's top-level fields, in the order of the manual.
var topFields = []string{
	"charter", "name", "summary", "regions", "stakeholder_groups", "bodies", "windows",
	"decisions", "appeals", "amendment", "roles", "petitions", "forum", "rdap", "requests", "pdp",
}

// Identifiers that may not be used as body ids, because they have a special
// meaning where a body id is expected.
var reservedBodyIDs = []string{AnyRegion, AnyParticipant, OperatorRole}

func (p *parser) charter(doc *yaml.Node) *Charter {
	c := &Charter{}
	p.c = c
	p.regionLine = map[string]int{}
	p.groupLine = map[string]int{}
	p.bodyLine = map[string]int{}
	p.appointer = map[string]located{}
	p.badSeats = map[string]bool{}

	root := doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if isNull(root) {
		p.errf(root, "", "empty charter: it starts with \"charter: %d\"", Version)
		return c
	}
	o := p.object(root, "", topFields...)
	if o.bad {
		return c
	}

	if n := o.need("charter"); n != nil {
		if v, ok := p.integer(n, "charter", 0, 1000); ok {
			c.Version = v
			if v != Version {
				p.errf(n, "charter", "unsupported charter format version %d (this steward reads version %d)", v, Version)
			}
		}
	}
	if n := o.need("name"); n != nil {
		c.Name, _ = p.text(n, "name")
	}
	if n := o.get("summary"); n != nil {
		c.Summary, _ = p.text(n, "summary")
	}
	if n := o.need("regions"); n != nil {
		p.regions(c, n)
	}
	if n := o.need("stakeholder_groups"); n != nil {
		p.groups(c, n)
	}
	if n := o.need("bodies"); n != nil {
		p.bodies(c, n)
	}
	if n := o.need("windows"); n != nil {
		w := p.windows(n, "windows", true)
		c.Windows = w.over(Windows{})
	}
	if n := o.get("decisions"); n != nil {
		p.decisions(c, n)
	}
	if n := o.get("appeals"); n != nil {
		p.appeals(c, n)
	}
	if n := o.need("amendment"); n != nil {
		p.amendment(c, n)
	}
	if n := o.need("roles"); n != nil {
		p.roles(c, n)
	}
	if n := o.get("petitions"); n != nil {
		p.petitions(c, n)
	}
	if n := o.need("forum"); n != nil {
		p.forum(c, n)
	}
	if n := o.get("rdap"); n != nil {
		p.rdap(c, n)
	}
	c.Requests = DefaultRequests()
	if n := o.get("requests"); n != nil {
		p.requests(c, n)
	}
	if n := o.get("pdp"); n != nil {
		p.pdp(c, n)
	}
	return c
}

func (p *parser) regions(c *Charter, n *yaml.Node) {
	items := p.nonEmptyList(n, "regions", "region")
	for i, it := range items {
		path := index("regions", i)
		id, ok := p.ident(it, path, "region id")
		if !ok {
			continue
		}
		if id == AnyRegion {
			p.errf(it, path, "%q is reserved: in a seat it means a participant from any region", AnyRegion)
			continue
		}
		if first, dup := p.regionLine[id]; dup {
			p.errf(it, path, "duplicate region %q (first on line %d)", id, first)
			continue
		}
		p.regionLine[id] = it.Line
		c.Regions = append(c.Regions, id)
	}
}

func (p *parser) groups(c *Charter, n *yaml.Node) {
	items := p.nonEmptyList(n, "stakeholder_groups", "stakeholder group")
	for i, it := range items {
		o := p.object(it, index("stakeholder_groups", i), "id", "name", "role")
		if o.bad {
			continue
		}
		var g Group
		keep := true // false for a duplicate, which is checked but not kept
		if v := o.need("id"); v != nil {
			if id, ok := p.ident(v, o.at("id"), "stakeholder group id"); ok {
				if first, dup := p.groupLine[id]; dup {
					p.errf(v, o.at("id"), "duplicate stakeholder group id %q (first on line %d)", id, first)
					keep = false
				} else {
					p.groupLine[id] = v.Line
					g.ID = id
				}
			}
		}
		if v := o.need("name"); v != nil {
			g.Name, _ = p.text(v, o.at("name"))
		}
		if v := o.get("role"); v != nil {
			g.Role, _ = p.text(v, o.at("role"))
		}
		if keep {
			c.Groups = append(c.Groups, g)
		}
	}
}

func (p *parser) bodies(c *Charter, n *yaml.Node) {
	items := p.nonEmptyList(n, "bodies", "body")
	for i, it := range items {
		if b, ok := p.body(it, index("bodies", i)); ok {
			c.Bodies = append(c.Bodies, b)
		}
	}
	p.afterwards(func() { p.appointmentCycles(c) })
}

func (p *parser) body(n *yaml.Node, path string) (Body, bool) {
	var b Body
	o := p.object(n, path, "id", "name", "kind", "purpose", "appointed_by", "reports_to", "open", "seats", "rule")
	if o.bad {
		return b, false
	}
	keep := true // false for a duplicate, which is checked but not kept
	if v := o.need("id"); v != nil {
		if id, ok := p.ident(v, o.at("id"), "body id"); ok {
			if slices.Contains(reservedBodyIDs, id) {
				p.errf(v, o.at("id"), "%q is reserved and cannot be a body id", id)
			} else if first, dup := p.bodyLine[id]; dup {
				p.errf(v, o.at("id"), "duplicate body id %q (first on line %d)", id, first)
				keep = false
			} else {
				p.bodyLine[id] = v.Line
				b.ID = id
			}
		}
	}
	if v := o.need("name"); v != nil {
		b.Name, _ = p.text(v, o.at("name"))
	}
	if v := o.need("kind"); v != nil {
		k, _ := p.enum(v, o.at("kind"), "body kind", bodyKinds)
		b.Kind = BodyKind(k)
	}
	if v := o.get("purpose"); v != nil {
		b.Purpose, _ = p.text(v, o.at("purpose"))
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"appointed_by", &b.AppointedBy}, {"reports_to", &b.ReportsTo}} {
		v := o.get(f.key)
		if v == nil {
			continue
		}
		id, ok := p.ident(v, o.at(f.key), "body id")
		if !ok {
			continue
		}
		if id == b.ID {
			p.errf(v, o.at(f.key), "a body cannot name itself")
			continue
		}
		*f.dst = id
		var check func(*Body) string
		if f.key == "appointed_by" {
			if keep && b.ID != "" {
				p.appointer[b.ID] = located{v, o.at(f.key)}
			}
			check = func(a *Body) string {
				if a.Rule == nil {
					return fmt.Sprintf("body %q takes no decisions (it has no rule), so it cannot appoint members", a.ID)
				}
				return ""
			}
		}
		p.bodyRef(v, o.at(f.key), id, check)
	}
	if v := o.get("open"); v != nil {
		b.Open, _ = p.boolean(v, o.at("open"))
	}
	seatsOK := false
	if v := o.need("seats"); v != nil {
		before := len(p.errs)
		b.Seats = p.seats(v, o.at("seats"), b.Open)
		seatsOK = len(p.errs) == before
		if !seatsOK && keep {
			p.badSeats[b.ID] = true
		}
	}
	if v := o.get("rule"); v != nil {
		b.Rule = p.rule(v, o.at("rule"))
		switch {
		case b.Kind == BodyForum:
			p.errf(v, o.at("rule"), "a forum is non-binding and takes no decisions; remove the rule")
		case seatsOK && b.VotingSeats() == 0:
			p.errf(v, o.at("rule"), "the body has a decision rule but no voting seats")
		}
	}
	return b, keep
}

func (p *parser) seats(n *yaml.Node, path string, open bool) []Seat {
	items := p.nonEmptyList(n, path, "seat")
	var seats []Seat
	seen := map[Seat]int{}
	for i, it := range items {
		o := p.object(it, index(path, i), "group", "region", "count", "capacity")
		if o.bad {
			continue
		}
		s := Seat{Region: AnyRegion, Capacity: CapacityVoting}
		ok := true
		if v := o.need("group"); v != nil {
			if s.Group, ok = p.ident(v, o.at("group"), "stakeholder group id"); ok {
				p.ref(v, o.at("group"), s.Group, "stakeholder group", p.groupLine, p.groupIDs)
			}
		} else {
			ok = false
		}
		if v := o.get("region"); v != nil {
			var rok bool
			if s.Region, rok = p.ident(v, o.at("region"), "region id"); rok && s.Region != AnyRegion {
				p.ref(v, o.at("region"), s.Region, "region", p.regionLine, func() []string { return p.c.Regions })
			}
			ok = ok && rok
		}
		if v := o.vals["count"]; open && v != nil {
			p.errf(o.keys["count"], o.at("count"), "an open body admits any number of participants; remove count")
		} else if !open {
			if v := o.need("count"); v != nil {
				s.Count, _ = p.integer(v, o.at("count"), 0, 10000)
			}
		}
		if v := o.get("capacity"); v != nil {
			c, cok := p.enum(v, o.at("capacity"), "capacity", capacities)
			s.Capacity = Capacity(c)
			ok = ok && cok
		}
		if !ok {
			continue
		}
		key := Seat{Group: s.Group, Region: s.Region, Capacity: s.Capacity}
		if first, dup := seen[key]; dup {
			p.errf(it, index(path, i), "duplicate seat for group %q, region %q, capacity %s (first on line %d); add the counts together",
				s.Group, s.Region, s.Capacity, first)
			continue
		}
		seen[key] = it.Line
		seats = append(seats, s)
	}
	return seats
}

func (p *parser) rule(n *yaml.Node, path string) *Rule {
	o := p.object(n, path, "kind", "threshold", "max_objections", "quorum", "regional_balance")
	if o.bad {
		return nil
	}
	// The rule is returned even if it has errors, so that the bodies and
	// decisions using it are not also reported as having no rule.
	r := &Rule{}
	if v := o.need("kind"); v != nil {
		k, _ := p.enum(v, o.at("kind"), "rule kind", ruleKinds)
		r.Kind = RuleKind(k)
	}
	if v := o.get("threshold"); v != nil {
		if r.Kind != RuleSupermajority && r.Kind != "" {
			p.errf(o.keys["threshold"], o.at("threshold"), "threshold applies only to supermajority rules")
		} else if f, ok := p.fraction(v, o.at("threshold")); ok {
			if !(Fraction{1, 2}).less(f) {
				p.errf(v, o.at("threshold"), "a supermajority threshold must be more than 1/2 (got %s)", f)
			}
			r.Threshold = f
		}
	} else if r.Kind == RuleSupermajority {
		o.need("threshold")
	}
	if v := o.get("max_objections"); v != nil {
		if r.Kind != RuleConsensus && r.Kind != "" {
			p.errf(o.keys["max_objections"], o.at("max_objections"), "max_objections applies only to consensus rules")
		} else {
			r.MaxObjections, _ = p.integer(v, o.at("max_objections"), 0, 10000)
		}
	}
	if v := o.get("quorum"); v != nil {
		r.Quorum, _ = p.fraction(v, o.at("quorum"))
	}
	if v := o.get("regional_balance"); v != nil {
		r.RegionalBalance, _ = p.boolean(v, o.at("regional_balance"))
	}
	return r
}

// partialWindows are windows of which only some may be set.
type partialWindows struct {
	comment, objection, vote, adviceAnswer *Duration
}

// over returns w with the set windows of pw replacing its own.
func (pw partialWindows) over(w Windows) Windows {
	for _, f := range []struct {
		src *Duration
		dst *Duration
	}{{pw.comment, &w.Comment}, {pw.objection, &w.Objection}, {pw.vote, &w.Vote}, {pw.adviceAnswer, &w.AdviceAnswer}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return w
}

func (p *parser) windows(n *yaml.Node, path string, all bool) partialWindows {
	var pw partialWindows
	o := p.object(n, path, "comment", "objection", "vote", "advice_answer")
	for _, f := range []struct {
		key string
		dst **Duration
	}{{"comment", &pw.comment}, {"objection", &pw.objection}, {"vote", &pw.vote}, {"advice_answer", &pw.adviceAnswer}} {
		var v *yaml.Node
		if all {
			v = o.need(f.key)
		} else {
			v = o.get(f.key)
		}
		if v == nil {
			continue
		}
		if d, ok := p.duration(v, o.at(f.key)); ok {
			*f.dst = &d
		}
	}
	if pw.vote != nil && *pw.vote == 0 {
		p.errf(o.vals["vote"], o.at("vote"), "the vote window must be longer than 0")
	}
	return pw
}

// bodyRef records a reference to a body, checked once every body is known.
// check, if not nil, returns a complaint about the body referred to.
func (p *parser) bodyRef(n *yaml.Node, path, id string, check func(*Body) string) {
	p.afterwards(func() {
		b, ok := p.c.Body(id)
		if !ok {
			p.errf(n, path, "unknown body %q%s", id, suggest(id, p.bodyIDs()))
			return
		}
		// A body whose kind is invalid has been reported already; checks
		// of its properties would only add noise.
		if check != nil && b.Kind != "" {
			if msg := check(b); msg != "" {
				p.errf(n, path, "%s", msg)
			}
		}
	})
}

// ref records a reference to a region or stakeholder group.
func (p *parser) ref(n *yaml.Node, path, id, what string, defined map[string]int, known func() []string) {
	p.afterwards(func() {
		if _, ok := defined[id]; !ok {
			p.errf(n, path, "unknown %s %q%s", what, id, suggest(id, known()))
		}
	})
}

func (p *parser) groupIDs() []string {
	ids := make([]string, len(p.c.Groups))
	for i, g := range p.c.Groups {
		ids[i] = g.ID
	}
	return ids
}

func (p *parser) bodyIDs() []string {
	ids := make([]string, len(p.c.Bodies))
	for i, b := range p.c.Bodies {
		ids[i] = b.ID
	}
	return ids
}

// canDecide returns a check that a body can approve decisions or hear
// appeals. ruleGiven says the decision brings its own rule.
func (p *parser) canDecide(ruleGiven bool) func(*Body) string {
	return func(b *Body) string {
		switch {
		case !b.Kind.CanApprove():
			return fmt.Sprintf("body %q is of kind %s, which gives advice but cannot approve", b.ID, b.Kind)
		case b.VotingSeats() == 0 && !p.badSeats[b.ID]:
			return fmt.Sprintf("body %q has no voting seats, so it cannot approve", b.ID)
		case b.Rule == nil && !ruleGiven:
			return fmt.Sprintf("body %q has no decision rule; give it one, or give this decision a rule", b.ID)
		}
		return ""
	}
}

// bodyList parses a list of body ids and records a reference for each,
// checked with check (which may be nil).
func (p *parser) bodyList(n *yaml.Node, path string, check func(*Body) string) ([]string, []*yaml.Node) {
	ids, nodes := p.idList(n, path, "body id")
	for i, id := range ids {
		p.bodyRef(nodes[i], index(path, i), id, check)
	}
	return ids, nodes
}

var checkNameRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func (p *parser) decisions(c *Charter, n *yaml.Node) {
	seen := map[string]int{}
	for i, it := range p.list(n, "decisions") {
		path := index("decisions", i)
		o := p.object(it, path, "kind", "approval", "advice", "observation", "windows", "rule", "checks")
		if o.bad {
			continue
		}
		var d Decision
		if v := o.need("kind"); v != nil {
			k, ok := p.text(v, o.at("kind"))
			switch {
			case !ok:
			case k == KindCharterAmend:
				p.errf(v, o.at("kind"), "%s is configured in the amendment section, not in decisions", k)
			case k == KindPetition:
				p.errf(v, o.at("kind"), "petitions are configured in the petitions section, not in decisions")
			case !IsDecisionKind(k):
				p.errf(v, o.at("kind"), "unknown decision kind %q%s", k, suggest(k, decisionKinds))
			default:
				if first, dup := seen[k]; dup {
					p.errf(v, o.at("kind"), "decision kind %q is listed twice (first on line %d)", k, first)
				} else {
					seen[k] = v.Line
					d.Kind = k
				}
			}
		}
		if v := o.get("rule"); v != nil {
			d.Rule = p.rule(v, o.at("rule"))
		}
		listed := map[string]string{} // body id -> list it is in
		for _, f := range []struct {
			key string
			dst *[]string
		}{{"approval", &d.Approval}, {"advice", &d.Advice}, {"observation", &d.Observation}} {
			v := o.get(f.key)
			if v == nil {
				continue
			}
			var check func(*Body) string
			if f.key == "approval" {
				check = p.canDecide(d.Rule != nil)
			}
			ids, nodes := p.bodyList(v, o.at(f.key), check)
			for j, id := range ids {
				if other, dup := listed[id]; dup {
					p.errf(nodes[j], o.at(f.key), "body %q is already listed in %s", id, other)
				}
				listed[id] = f.key
			}
			*f.dst = ids
		}
		pw := partialWindows{}
		if v := o.get("windows"); v != nil {
			pw = p.windows(v, o.at("windows"), false)
		}
		// c.Windows is decoded before decisions.
		d.Windows = pw.over(c.Windows)
		if v := o.get("checks"); v != nil {
			d.Checks = p.checks(v, o.at("checks"))
		}
		c.Decisions = append(c.Decisions, d)
	}
}

func (p *parser) checks(n *yaml.Node, path string) Checks {
	var ch Checks
	o := p.object(n, path, "blocking", "advisory")
	where := map[string]string{}
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"blocking", &ch.Blocking}, {"advisory", &ch.Advisory}} {
		v := o.get(f.key)
		if v == nil {
			continue
		}
		for i, it := range p.list(v, o.at(f.key)) {
			ip := index(o.at(f.key), i)
			name, ok := p.text(it, ip)
			if !ok {
				continue
			}
			if !checkNameRE.MatchString(name) || len(name) > 64 {
				p.errf(it, ip, "bad check group name %q: use capital letters, digits and underscores, e.g. DELEGATION", name)
				continue
			}
			if other, dup := where[name]; dup {
				p.errf(it, ip, "check group %s is already listed in %s", name, other)
				continue
			}
			where[name] = f.key
			*f.dst = append(*f.dst, name)
		}
	}
	return ch
}

func (p *parser) appeals(c *Charter, n *yaml.Node) {
	seen := map[string]int{}
	for i, it := range p.list(n, "appeals") {
		path := index("appeals", i)
		o := p.object(it, path, "from", "to", "window")
		if o.bad {
			continue
		}
		var a Appeal
		if v := o.need("from"); v != nil {
			if v.Kind == yaml.ScalarNode && v.Value == AnyBody {
				a.From = AnyBody
			} else if id, ok := p.ident(v, o.at("from"), "body id"); ok {
				a.From = id
				p.bodyRef(v, o.at("from"), id, nil)
			}
			if a.From != "" {
				if first, dup := seen[a.From]; dup {
					p.errf(v, o.at("from"), "appeals from %q are already configured (line %d)", a.From, first)
				}
				seen[a.From] = v.Line
			}
		}
		if v := o.need("to"); v != nil {
			if id, ok := p.ident(v, o.at("to"), "body id"); ok {
				a.To = id
				p.bodyRef(v, o.at("to"), id, p.canDecide(false))
			}
		}
		if v := o.need("window"); v != nil {
			if d, ok := p.duration(v, o.at("window")); ok {
				if d == 0 {
					p.errf(v, o.at("window"), "the appeal window must be longer than 0")
				}
				a.Window = d
			}
		}
		c.Appeals = append(c.Appeals, a)
	}
}

func (p *parser) amendment(c *Charter, n *yaml.Node) {
	o := p.object(n, "amendment", "proposers", "approval", "rule", "windows")
	a := &c.Amendment
	if v := o.get("rule"); v != nil {
		a.Rule = p.rule(v, o.at("rule"))
	}
	if v := o.need("proposers"); v != nil {
		if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			p.errf(v, o.at("proposers"), "must name at least one proposer (%q or a body id)", AnyParticipant)
		}
		ids, nodes := p.idList(v, o.at("proposers"), "body id", AnyParticipant)
		for i, id := range ids {
			if id != AnyParticipant {
				p.bodyRef(nodes[i], index(o.at("proposers"), i), id, nil)
			}
		}
		a.Proposers = ids
	}
	if v := o.need("approval"); v != nil {
		a.Approval, _ = p.bodyList(v, o.at("approval"), p.canDecide(a.Rule != nil))
		if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			p.errf(v, o.at("approval"), "must name at least one body: a charter must be amendable")
		}
	}
	pw := partialWindows{}
	if v := o.get("windows"); v != nil {
		pw = p.windows(v, o.at("windows"), false)
	}
	a.Windows = pw.over(c.Windows)
}

func (p *parser) roles(c *Charter, n *yaml.Node) {
	o := p.object(n, "roles", "moderators", "operator", "separation_of_duties")
	r := &c.Roles
	if v := o.need("moderators"); v != nil {
		if v.Kind == yaml.ScalarNode && v.Value == OperatorRole {
			r.Moderators = OperatorRole
		} else if id, ok := p.ident(v, o.at("moderators"), "body id"); ok {
			r.Moderators = id
			p.bodyRef(v, o.at("moderators"), id, nil)
		}
	}
	if v := o.need("operator"); v != nil {
		if id, ok := p.ident(v, o.at("operator"), "body id"); ok {
			r.Operator = id
			p.bodyRef(v, o.at("operator"), id, func(b *Body) string {
				if b.Kind != BodyOperator {
					return fmt.Sprintf("body %q is of kind %s; the operator must be a body of kind operator", b.ID, b.Kind)
				}
				return ""
			})
		}
	}
	if v := o.get("separation_of_duties"); v != nil {
		r.SeparationOfDuties, _ = p.boolean(v, o.at("separation_of_duties"))
	}
}

func (p *parser) petitions(c *Charter, n *yaml.Node) {
	seen := map[string]int{}
	for i, it := range p.list(n, "petitions") {
		path := index("petitions", i)
		o := p.object(it, path, "power", "description", "petitioners", "support_min", "objection_max", "windows")
		if o.bad {
			continue
		}
		var pt Petition
		if v := o.need("power"); v != nil {
			if id, ok := p.ident(v, o.at("power"), "power id"); ok {
				if first, dup := seen[id]; dup {
					p.errf(v, o.at("power"), "power %q is listed twice (first on line %d)", id, first)
				}
				seen[id] = v.Line
				pt.Power = id
			}
		}
		if v := o.get("description"); v != nil {
			pt.Description, _ = p.text(v, o.at("description"))
		}
		if v := o.need("petitioners"); v != nil {
			pt.Petitioners, _ = p.bodyList(v, o.at("petitioners"), nil)
			if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
				p.errf(v, o.at("petitioners"), "must name at least one body")
			}
		}
		supportNode := o.need("support_min")
		if supportNode != nil {
			pt.SupportMin, _ = p.integer(supportNode, o.at("support_min"), 1, 10000)
		}
		if v := o.need("objection_max"); v != nil {
			pt.ObjectionMax, _ = p.integer(v, o.at("objection_max"), 0, 10000)
		}
		if v := o.need("windows"); v != nil {
			pt.Windows = p.petitionWindows(v, o.at("windows"))
		}
		if supportNode != nil && pt.SupportMin > 0 {
			pt := pt
			p.afterwards(func() {
				seats := 0
				for _, id := range pt.Petitioners {
					b, ok := p.c.Body(id)
					if !ok {
						return // reported elsewhere
					}
					seats += b.VotingSeats()
					if seats >= Unlimited {
						return
					}
				}
				if pt.SupportMin > seats {
					p.errf(supportNode, o.at("support_min"), "needs %d supporters, but the petitioning bodies have only %d voting seats", pt.SupportMin, seats)
				}
			})
		}
		c.Petitions = append(c.Petitions, pt)
	}
}

func (p *parser) petitionWindows(n *yaml.Node, path string) PetitionWindows {
	var w PetitionWindows
	o := p.object(n, path, "petition", "support", "forum", "decision")
	for _, f := range []struct {
		key string
		dst *Duration
	}{{"petition", &w.Petition}, {"support", &w.Support}, {"forum", &w.Forum}, {"decision", &w.Decision}} {
		if v := o.need(f.key); v != nil {
			if d, ok := p.duration(v, o.at(f.key)); ok {
				if d == 0 {
					p.errf(v, o.at(f.key), "must be longer than 0")
				}
				*f.dst = d
			}
		}
	}
	return w
}

func (p *parser) forum(c *Charter, n *yaml.Node) {
	o := p.object(n, "forum", "body")
	v := o.need("body")
	if v == nil {
		return
	}
	id, ok := p.ident(v, o.at("body"), "body id")
	if !ok {
		return
	}
	c.Forum.Body = id
	p.bodyRef(v, o.at("body"), id, func(b *Body) string {
		if b.Kind != BodyForum {
			return fmt.Sprintf("body %q is of kind %s; the forum must be a body of kind forum", b.ID, b.Kind)
		}
		if !b.Open {
			return fmt.Sprintf("the forum body %q must be open (open: true): the forum is open to all participants", b.ID)
		}
		var missing []string
		for _, g := range p.c.Groups {
			if g.ID != "" && !slices.ContainsFunc(b.Seats, func(s Seat) bool { return s.Group == g.ID }) {
				missing = append(missing, g.ID)
			}
		}
		if len(missing) > 0 {
			return fmt.Sprintf("the forum body %q must seat every stakeholder group; it has no seat for %s", b.ID, strings.Join(missing, ", "))
		}
		return ""
	})
}

// appointmentCycles reports bodies that appoint each other in a circle. Each
// cycle is reported once, at the appointed_by field of its first body in the
// file.
func (p *parser) appointmentCycles(c *Charter) {
	next := map[string]string{}
	for _, b := range c.Bodies {
		if b.AppointedBy != "" {
			next[b.ID] = b.AppointedBy
		}
	}
	reported := map[string]bool{}
	for _, b := range c.Bodies {
		if b.ID == "" || reported[b.ID] {
			continue
		}
		chain := []string{b.ID}
		for cur := next[b.ID]; cur != ""; cur = next[cur] {
			if cur == b.ID {
				for _, id := range chain {
					reported[id] = true
				}
				at := p.appointer[b.ID]
				p.errf(at.n, at.path, "bodies appoint each other in a circle: %s → %s", strings.Join(chain, " → "), b.ID)
				break
			}
			if slices.Contains(chain, cur) {
				break // a cycle not through b, reported from its own first body
			}
			chain = append(chain, cur)
		}
	}
}
