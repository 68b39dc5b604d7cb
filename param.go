package steward

import (
	"context"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Protocol parameter registries, as IANA keeps them (RFC 8126): a registry
// holds values (integers in a fixed space, or text such as names or
// addresses); its space is cut into ranges, each with a registration
// procedure. A request for a value follows its range's procedure:
//
//   - private use and experimental use: never assigned (RFC 8126 §4.1, §4.2);
//   - first come first served: granted at once if well formed and free;
//   - expert review and specification required: wait for a designated
//     expert of the registry;
//   - hierarchical allocation, RFC required, IETF review, standards action
//     and IESG approval: wait for the registry's approving body (a body of
//     the charter), or an operator if it names none.
//
// State keys: param/registry/ID, param/value/ID/VALUEKEY, param/request/SEQ.
// See docs/params.md.

// Registration procedures (RFC 8126 §4.1–4.10).
const (
	ProcPrivateUse      = "private-use"
	ProcExperimentalUse = "experimental-use"
	ProcHierarchical    = "hierarchical-allocation"
	ProcFCFS            = "first-come-first-served"
	ProcExpertReview    = "expert-review"
	ProcSpecRequired    = "specification-required"
	ProcRFCRequired     = "rfc-required"
	ProcIETFReview      = "ietf-review"
	ProcStandardsAction = "standards-action"
	ProcIESGApproval    = "iesg-approval"
)

// Procedures lists the registration procedures in RFC 8126's order.
var Procedures = []string{
	ProcPrivateUse, ProcExperimentalUse, ProcHierarchical, ProcFCFS, ProcExpertReview,
	ProcSpecRequired, ProcRFCRequired, ProcIETFReview, ProcStandardsAction, ProcIESGApproval,
}

// ProcedureNames are the procedures as IANA writes them.
var ProcedureNames = map[string]string{
	ProcPrivateUse: "Private Use", ProcExperimentalUse: "Experimental Use", ProcHierarchical: "Hierarchical Allocation",
	ProcFCFS: "First Come First Served", ProcExpertReview: "Expert Review", ProcSpecRequired: "Specification Required",
	ProcRFCRequired: "RFC Required", ProcIETFReview: "IETF Review", ProcStandardsAction: "Standards Action",
	ProcIESGApproval: "IESG Approval",
}

// ParseProcedures reads the procedures named in IANA's registration_rule
// text ("Expert Review, IESG Approval, or Standards Action"), in order.
// The RFC 5226 name "IETF Consensus" is read as IETF review.
func ParseProcedures(text string) []string {
	t := strings.ToLower(text)
	type hit struct {
		at   int
		proc string
	}
	var hits []hit
	for _, p := range Procedures {
		names := []string{strings.ToLower(ProcedureNames[p])}
		switch p {
		case ProcIETFReview:
			names = append(names, "ietf consensus")
		case ProcFCFS:
			names = append(names, "first-come first-served", "first-come, first-served", "fcfs")
		case ProcExperimentalUse:
			names = append(names, "experimental")
		}
		best := -1
		for _, n := range names {
			if i := strings.Index(t, n); i >= 0 && (best < 0 || i < best) {
				best = i
			}
		}
		if best >= 0 {
			hits = append(hits, hit{best, p})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.at - b.at })
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.proc
	}
	return out
}

// ParamRegistry is a protocol parameter registry.
type ParamRegistry struct {
	ID    string `json:"id"`              // IANA's id, e.g. "dns-parameters-4"
	Title string `json:"title"`           // e.g. "Resource Record (RR) TYPEs"
	Group string `json:"group,omitempty"` // id of the registry it is part of, if any
	// Max is the largest value of an integer registry (255, 65535, …);
	// 0 makes a text registry (names, addresses).
	Max uint64 `json:"max,omitempty"`
	// Ranges cut an integer registry's space 0..Max; every value lies in
	// exactly one. A text registry has no ranges and one Procedure.
	Ranges    []ParamRange `json:"ranges,omitempty"`
	Procedure string       `json:"procedure,omitempty"`
	// Rule is IANA's registration_rule text, kept for the export.
	Rule string `json:"rule,omitempty"`
	// Experts are the designated experts: participant handles, or names
	// for a registry imported from IANA.
	Experts []string `json:"experts,omitempty"`
	// Approver is the body of the charter whose member approves requests
	// that need an approval other than an expert's; "" means an operator.
	Approver   string    `json:"approver,omitempty"`
	References []string  `json:"references,omitempty"` // "type:data", as IANA's xref: "rfc:rfc8126"
	Note       string    `json:"note,omitempty"`
	Created    time.Time `json:"created,omitzero"`
	Updated    time.Time `json:"updated,omitzero"`
}

// ParamRange is a range of an integer registry with its procedure.
type ParamRange struct {
	First     uint64 `json:"first"`
	Last      uint64 `json:"last"`
	Procedure string `json:"procedure"`
	Note      string `json:"note,omitempty"`
}

// ParamValue is an assigned (or reserved) value of a registry.
type ParamValue struct {
	Registry string `json:"registry"`
	// Value is the value: decimal for an integer registry, else its text.
	// Last, if set, makes the record a range of values First..Last (IANA
	// records reserved blocks so).
	Value       string   `json:"value"`
	Last        string   `json:"last,omitempty"`
	Description string   `json:"description"`
	References  []string `json:"references,omitempty"`
	Registrant  string   `json:"registrant,omitempty"` // the participant who asked for it
	Date        string   `json:"date,omitempty"`       // YYYY-MM-DD
	Request     int64    `json:"request,omitempty"`    // the request that assigned it
}

// ParamRequest is a request for a value.
type ParamRequest struct {
	ID          int64     `json:"id"` // the ledger entry of the request
	Registry    string    `json:"registry"`
	Value       string    `json:"value"`
	Description string    `json:"description"`
	References  []string  `json:"references,omitempty"`
	Requester   string    `json:"requester"`
	Procedure   string    `json:"procedure"`
	State       string    `json:"state"` // pending, assigned, rejected
	Decider     string    `json:"decider,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Requested   time.Time `json:"requested,omitzero"`
	Decided     time.Time `json:"decided,omitzero"`
}

// Request states.
const (
	ParamPending  = "pending"
	ParamAssigned = "assigned"
	ParamRejected = "rejected"
)

var (
	paramIDRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)
	paramRefRE = regexp.MustCompile(`^[a-z0-9-]+:[^\s\x00-\x1f]{1,200}$`)
)

func paramRegistryKey(id string) string { return "param/registry/" + id }
func paramValuePrefix(id string) string { return "param/value/" + id + "/" }
func paramRequestKey(seq int64) string  { return fmt.Sprintf("param/request/%012d", seq) }

// valueKey is the state key of a value: integers zero-padded so that keys
// sort as numbers, text hex-encoded.
func (r *ParamRegistry) valueKey(v string) string {
	if r.Max > 0 {
		n, _ := strconv.ParseUint(v, 10, 64)
		return paramValuePrefix(r.ID) + fmt.Sprintf("%020d", n)
	}
	return paramValuePrefix(r.ID) + "x" + hex.EncodeToString([]byte(v))
}

// Validate checks a registry: its id, title, ranges (covering 0..Max with
// no gap or overlap), procedures and references.
func (r *ParamRegistry) Validate() error {
	if !paramIDRE.MatchString(r.ID) {
		return Errorf(EINVALID, "registry id %q: use 1 to 100 lowercase letters, digits, '.', '_' and '-'", r.ID)
	}
	if r.Group != "" && !paramIDRE.MatchString(r.Group) {
		return Errorf(EINVALID, "registry %s: group %q is not a registry id", r.ID, r.Group)
	}
	if n := utf8.RuneCountInString(r.Title); n == 0 || n > 300 || !utf8.ValidString(r.Title) {
		return Errorf(EINVALID, "registry %s: give a title of 1 to 300 characters", r.ID)
	}
	if r.Max == 0 {
		if len(r.Ranges) > 0 {
			return Errorf(EINVALID, "registry %s: a text registry (max 0) has no ranges: give its procedure", r.ID)
		}
		if !slices.Contains(Procedures, r.Procedure) {
			return Errorf(EINVALID, "registry %s: procedure %q is not one of RFC 8126's: %s", r.ID, r.Procedure, strings.Join(Procedures, ", "))
		}
	} else {
		if r.Procedure != "" {
			return Errorf(EINVALID, "registry %s: an integer registry gives a procedure per range, not procedure", r.ID)
		}
		if len(r.Ranges) == 0 {
			return Errorf(EINVALID, "registry %s: give the ranges of 0 to %d with their procedures", r.ID, r.Max)
		}
		var next uint64
		for i, g := range r.Ranges {
			if !slices.Contains(Procedures, g.Procedure) {
				return Errorf(EINVALID, "registry %s: range %d-%d: procedure %q is not one of RFC 8126's: %s", r.ID, g.First, g.Last, g.Procedure, strings.Join(Procedures, ", "))
			}
			if g.First != next || g.Last < g.First || g.Last > r.Max || (i > 0 && next == 0) {
				return Errorf(EINVALID, "registry %s: range %d-%d: ranges must follow each other from 0 to %d without gaps or overlaps", r.ID, g.First, g.Last, r.Max)
			}
			next = g.Last + 1
		}
		if r.Ranges[len(r.Ranges)-1].Last != r.Max {
			return Errorf(EINVALID, "registry %s: the ranges end at %d, not at %d", r.ID, r.Ranges[len(r.Ranges)-1].Last, r.Max)
		}
	}
	for _, ref := range r.References {
		if !paramRefRE.MatchString(ref) {
			return Errorf(EINVALID, "registry %s: reference %q: write TYPE:DATA, as rfc:rfc8126", r.ID, ref)
		}
	}
	return nil
}

// procedureOf returns the procedure that governs value v (canonical).
func (r *ParamRegistry) procedureOf(v string) string {
	if r.Max == 0 {
		return r.Procedure
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	for _, g := range r.Ranges {
		if g.First <= n && n <= g.Last {
			return g.Procedure
		}
	}
	return ""
}

// canonicalValue checks a requested value and returns its canonical text.
func (r *ParamRegistry) canonicalValue(v string) (string, error) {
	if r.Max > 0 {
		if v == "" || len(v) > 20 || strings.TrimLeft(v, "0123456789") != "" {
			return "", Errorf(EINVALID, "registry %s: value %q is not a number from 0 to %d", r.ID, v, r.Max)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > r.Max {
			return "", Errorf(EINVALID, "registry %s: value %q is not a number from 0 to %d", r.ID, v, r.Max)
		}
		return strconv.FormatUint(n, 10), nil
	}
	if v == "" || len(v) > 200 || !utf8.ValidString(v) || strings.TrimSpace(v) != v {
		return "", Errorf(EINVALID, "registry %s: value %q: give 1 to 200 bytes of text without leading or trailing spaces", r.ID, v)
	}
	for _, c := range v {
		if c < ' ' || c == 0x7f {
			return "", Errorf(EINVALID, "registry %s: value %q holds a control character", r.ID, v)
		}
	}
	return v, nil
}

func (v *ParamValue) normalize(r *ParamRegistry) error {
	c, err := r.canonicalValue(v.Value)
	if err != nil {
		return err
	}
	v.Value, v.Registry = c, r.ID
	if v.Last != "" {
		if r.Max == 0 {
			v.Last, err = r.canonicalValue(v.Last)
		} else if v.Last, err = r.canonicalValue(v.Last); err == nil {
			a, _ := strconv.ParseUint(v.Value, 10, 64)
			b, _ := strconv.ParseUint(v.Last, 10, 64)
			if b < a {
				err = Errorf(EINVALID, "registry %s: value range %s-%s ends before it starts", r.ID, v.Value, v.Last)
			}
		}
		if err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(v.Description) > 1000 || !utf8.ValidString(v.Description) {
		return Errorf(EINVALID, "registry %s: value %s: a description has at most 1,000 characters", r.ID, v.Value)
	}
	for _, ref := range v.References {
		if !paramRefRE.MatchString(ref) {
			return Errorf(EINVALID, "registry %s: value %s: reference %q: write TYPE:DATA, as rfc:rfc8126", r.ID, v.Value, ref)
		}
	}
	return nil
}

type paramRecorded struct {
	Registry string       `json:"registry"`
	Values   []ParamValue `json:"values"`
}

type paramAssigned struct {
	Value ParamValue `json:"value"`
}

type paramRejected struct {
	Request int64  `json:"request"`
	Reason  string `json:"reason"`
}

func init() {
	register("param.registry-created", applyJSON(func(ctx context.Context, w StateWriter, e *Event, r *ParamRegistry) error {
		if err := r.Validate(); err != nil {
			return err
		}
		if err := mustNotExist(ctx, w, paramRegistryKey(r.ID)); err != nil {
			return err
		}
		r.Created, r.Updated = e.Time, e.Time
		return PutJSON(ctx, w, paramRegistryKey(r.ID), r)
	}))
	putValue := func(ctx context.Context, w StateWriter, e *Event, v ParamValue) error {
		reg, err := LoadParamRegistry(ctx, w, v.Registry)
		if err != nil {
			return err
		}
		if err := v.normalize(reg); err != nil {
			return err
		}
		key := reg.valueKey(v.Value)
		if err := mustNotExist(ctx, w, key); err != nil {
			return err
		}
		if v.Date == "" {
			v.Date = e.Time.UTC().Format(time.DateOnly)
		}
		reg.Updated = e.Time
		if err := PutJSON(ctx, w, paramRegistryKey(reg.ID), reg); err != nil {
			return err
		}
		return PutJSON(ctx, w, key, v)
	}
	register("param.recorded", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *paramRecorded) error {
		for _, v := range p.Values {
			if v.Registry != p.Registry {
				return fmt.Errorf("value %s names registry %s, not %s", v.Value, v.Registry, p.Registry)
			}
			if err := putValue(ctx, w, e, v); err != nil {
				return err
			}
		}
		return nil
	}))
	register("param.requested", applyJSON(func(ctx context.Context, w StateWriter, e *Event, q *ParamRequest) error {
		if q.State != ParamPending || q.ID != 0 {
			return fmt.Errorf("a request is recorded pending, without an id")
		}
		q.ID, q.Requested = e.Seq, e.Time
		return PutJSON(ctx, w, paramRequestKey(q.ID), q)
	}))
	decide := func(ctx context.Context, w StateWriter, e *Event, id int64, state, reason string) error {
		var q ParamRequest
		if err := GetJSON(ctx, w, paramRequestKey(id), &q); err != nil {
			return fmt.Errorf("request %d: %w", id, err)
		}
		if q.State != ParamPending {
			return fmt.Errorf("request %d is %s already", id, q.State)
		}
		q.State, q.Decider, q.Reason, q.Decided = state, e.Actor, reason, e.Time
		return PutJSON(ctx, w, paramRequestKey(id), q)
	}
	register("param.assigned", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *paramAssigned) error {
		if p.Value.Request != 0 {
			if err := decide(ctx, w, e, p.Value.Request, ParamAssigned, ""); err != nil {
				return err
			}
		}
		return putValue(ctx, w, e, p.Value)
	}))
	register("param.rejected", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *paramRejected) error {
		return decide(ctx, w, e, p.Request, ParamRejected, p.Reason)
	}))
}

// LoadParamRegistry reads a registry, or ENOTFOUND naming it.
func LoadParamRegistry(ctx context.Context, r StateReader, id string) (*ParamRegistry, error) {
	return loadJSON[ParamRegistry](ctx, r, paramRegistryKey(id), func() error { return Errorf(ENOTFOUND, "no protocol parameter registry %q", id) })
}

// ListParamRegistries returns up to limit registries after the id after.
func ListParamRegistries(ctx context.Context, r StateReader, after string, limit int) ([]ParamRegistry, error) {
	kvs, err := r.Scan(ctx, "param/registry/", afterKey("param/registry/", after), limit)
	if err != nil {
		return nil, err
	}
	return decodeAll[ParamRegistry](kvs)
}

// ParamValues returns every value of a registry, in value order.
func ParamValues(ctx context.Context, r StateReader, id string) ([]ParamValue, error) {
	return listJSON[ParamValue](ctx, r, paramValuePrefix(id))
}

// LoadParamRequest reads a request.
func LoadParamRequest(ctx context.Context, r StateReader, id int64) (*ParamRequest, error) {
	return loadJSON[ParamRequest](ctx, r, paramRequestKey(id), func() error { return Errorf(ENOTFOUND, "no parameter request %d", id) })
}

// ParamRequests returns the requests of a registry ("" for all), newest
// last, at most limit after the request id after.
func ParamRequests(ctx context.Context, r StateReader, registry string, after int64, limit int) ([]ParamRequest, error) {
	var out []ParamRequest
	cursor := ""
	if after > 0 {
		cursor = paramRequestKey(after)
	}
	for len(out) < limit {
		kvs, err := r.Scan(ctx, "param/request/", cursor, 500)
		if err != nil {
			return nil, err
		}
		qs, err := decodeAll[ParamRequest](kvs)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			if (registry == "" || q.Registry == registry) && len(out) < limit {
				out = append(out, q)
			}
		}
		if len(kvs) < 500 {
			break
		}
		cursor = kvs[len(kvs)-1].Key
	}
	return out, nil
}

// CreateParamRegistry returns the command by which an operator (or an
// import) creates a registry.
func CreateParamRegistry(actor string, reg ParamRegistry) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if actor != ActorImport {
			if err := requireOperator(ctx, tx, actor, "create a protocol parameter registry"); err != nil {
				return nil, err
			}
		}
		reg.Ranges, reg.Experts, reg.References = slices.Clone(reg.Ranges), slices.Clone(reg.Experts), slices.Clone(reg.References)
		reg.Created, reg.Updated = time.Time{}, time.Time{}
		if err := reg.Validate(); err != nil {
			return nil, err
		}
		if reg.Approver != "" {
			c, err := CurrentCharter(ctx, tx)
			if err != nil {
				return nil, err
			}
			if _, ok := c.Body(reg.Approver); !ok {
				return nil, Errorf(EINVALID, "registry %s: approver %q is not a body of the charter", reg.ID, reg.Approver)
			}
		}
		if _, err := LoadParamRegistry(ctx, tx, reg.ID); err == nil {
			return nil, Errorf(ECONFLICT, "registry %s exists already", reg.ID)
		}
		if _, err := tx.Emit(ctx, actor, "param.registry-created", reg); err != nil {
			return nil, err
		}
		return &reg, nil
	}
}

// RecordParamValues returns the command that records values a registry
// already holds (an import of IANA's registry): each must be free.
func RecordParamValues(actor, registry string, values []ParamValue) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if actor != ActorImport {
			if err := requireOperator(ctx, tx, actor, "record protocol parameter values"); err != nil {
				return nil, err
			}
		}
		reg, err := LoadParamRegistry(ctx, tx, registry)
		if err != nil {
			return nil, err
		}
		vs := slices.Clone(values)
		seen := map[string]bool{}
		for i := range vs {
			vs[i].Registry, vs[i].Request, vs[i].Registrant = registry, 0, ""
			if err := vs[i].normalize(reg); err != nil {
				return nil, err
			}
			if seen[vs[i].Value] {
				return nil, Errorf(EINVALID, "registry %s: value %s is given twice", registry, vs[i].Value)
			}
			seen[vs[i].Value] = true
			if taken, err := valueTaken(ctx, tx, reg, vs[i].Value); err != nil {
				return nil, err
			} else if taken != "" {
				return nil, Errorf(ECONFLICT, "registry %s: value %s is taken (%s)", registry, vs[i].Value, taken)
			}
		}
		// Events stay under the ledger's entry size.
		for start := 0; start < len(vs); start += 100 {
			if _, err := tx.Emit(ctx, actor, "param.recorded", paramRecorded{Registry: registry, Values: vs[start:min(len(vs), start+100)]}); err != nil {
				return nil, err
			}
		}
		return len(vs), nil
	}
}

// valueTaken returns what holds value v in the registry: "" if it is free.
func valueTaken(ctx context.Context, r StateReader, reg *ParamRegistry, v string) (string, error) {
	if _, err := r.Get(ctx, reg.valueKey(v)); err == nil {
		return "assigned", nil
	} else if ErrorCode(err) != ENOTFOUND {
		return "", err
	}
	if reg.Max == 0 {
		return "", nil
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	vals, err := ParamValues(ctx, r, reg.ID)
	if err != nil {
		return "", err
	}
	for _, x := range vals {
		if x.Last == "" {
			continue
		}
		a, _ := strconv.ParseUint(x.Value, 10, 64)
		b, _ := strconv.ParseUint(x.Last, 10, 64)
		if a <= n && n <= b {
			return "inside " + x.Value + "-" + x.Last + ", " + x.Description, nil
		}
	}
	return "", nil
}

// ValueRequest is what a participant asks for.
type ValueRequest struct {
	Registry    string   `json:"registry"`
	Value       string   `json:"value"`
	Description string   `json:"description"`
	References  []string `json:"references,omitempty"`
}

// RequestParamValue returns the command by which a participant asks for a
// value. The request is refused if the value is malformed, taken, asked
// for in another pending request, or in a private or experimental use
// range. First come first served values are assigned at once; others wait
// for DecideParamRequest. It returns the request.
func RequestParamValue(actor string, vr ValueRequest) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := LoadParticipant(ctx, tx, actor); err != nil {
			return nil, Errorf(EFORBIDDEN, "only a participant may request a protocol parameter")
		}
		reg, err := LoadParamRegistry(ctx, tx, vr.Registry)
		if err != nil {
			return nil, err
		}
		v := ParamValue{Registry: reg.ID, Value: vr.Value, Description: strings.TrimSpace(vr.Description), References: slices.Clone(vr.References), Registrant: actor}
		if err := v.normalize(reg); err != nil {
			return nil, err
		}
		if v.Description == "" {
			return nil, Errorf(EINVALID, "registry %s: describe what value %s is for", reg.ID, v.Value)
		}
		proc := reg.procedureOf(v.Value)
		switch proc {
		case ProcPrivateUse, ProcExperimentalUse:
			return nil, Errorf(EINVALID, "registry %s: %s is in a %s range, whose values are used without registration and never assigned (RFC 8126 §4.1, §4.2)", reg.ID, v.Value, ProcedureNames[proc])
		case ProcSpecRequired:
			if len(v.References) == 0 {
				return nil, Errorf(EINVALID, "registry %s: %s needs a specification: give a reference to it", reg.ID, v.Value)
			}
		}
		if taken, err := valueTaken(ctx, tx, reg, v.Value); err != nil {
			return nil, err
		} else if taken != "" {
			return nil, Errorf(ECONFLICT, "registry %s: value %s is taken (%s)", reg.ID, v.Value, taken)
		}
		pending, err := ParamRequests(ctx, tx, reg.ID, 0, 1<<30)
		if err != nil {
			return nil, err
		}
		for _, q := range pending {
			if q.State == ParamPending && q.Value == v.Value {
				return nil, Errorf(ECONFLICT, "registry %s: value %s is asked for in pending request %d", reg.ID, v.Value, q.ID)
			}
		}
		q := ParamRequest{Registry: reg.ID, Value: v.Value, Description: v.Description, References: v.References, Requester: actor, Procedure: proc, State: ParamPending}
		e, err := tx.Emit(ctx, actor, "param.requested", q)
		if err != nil {
			return nil, err
		}
		q.ID, q.Requested = e.Seq, e.Time
		if proc == ProcFCFS {
			v.Request = q.ID
			if _, err := tx.Emit(ctx, actor, "param.assigned", paramAssigned{Value: v}); err != nil {
				return nil, err
			}
			q.State, q.Decider, q.Decided = ParamAssigned, actor, e.Time
		}
		return &q, nil
	}
}

// Decision is an approver's answer to a pending request.
type Decision struct {
	Approve bool   `json:"approve"`
	Reason  string `json:"reason,omitempty"`
}

// DecideParamRequest returns the command by which the approver a request's
// procedure names decides it: a designated expert for expert review and
// specification required; a member of the registry's approving body (an
// operator if it names none) for the others. A rejection needs a reason.
func DecideParamRequest(actor string, id int64, d Decision) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		q, err := LoadParamRequest(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if q.State != ParamPending {
			return nil, Errorf(ECONFLICT, "request %d is %s already", id, q.State)
		}
		reg, err := LoadParamRegistry(ctx, tx, q.Registry)
		if err != nil {
			return nil, err
		}
		if err := mayDecide(ctx, tx, reg, q.Procedure, actor); err != nil {
			return nil, err
		}
		reason := strings.TrimSpace(d.Reason)
		if !d.Approve {
			if reason == "" || utf8.RuneCountInString(reason) > 2000 {
				return nil, Errorf(EINVALID, "give the reason for rejecting request %d (at most 2,000 characters)", id)
			}
			if _, err := tx.Emit(ctx, actor, "param.rejected", paramRejected{Request: id, Reason: reason}); err != nil {
				return nil, err
			}
			q.State, q.Decider, q.Reason = ParamRejected, actor, reason
			return q, nil
		}
		if taken, err := valueTaken(ctx, tx, reg, q.Value); err != nil {
			return nil, err
		} else if taken != "" {
			return nil, Errorf(ECONFLICT, "registry %s: value %s was taken meanwhile (%s): reject the request", reg.ID, q.Value, taken)
		}
		v := ParamValue{Registry: reg.ID, Value: q.Value, Description: q.Description, References: q.References, Registrant: q.Requester, Request: id}
		if _, err := tx.Emit(ctx, actor, "param.assigned", paramAssigned{Value: v}); err != nil {
			return nil, err
		}
		q.State, q.Decider = ParamAssigned, actor
		return q, nil
	}
}

// mayDecide checks that actor may decide requests of the procedure.
func mayDecide(ctx context.Context, r StateReader, reg *ParamRegistry, proc, actor string) error {
	switch proc {
	case ProcExpertReview, ProcSpecRequired:
		if slices.Contains(reg.Experts, actor) {
			return nil
		}
		return Errorf(EFORBIDDEN, "only a designated expert of registry %s (%s) decides %s requests", reg.ID, strings.Join(reg.Experts, ", "), ProcedureNames[proc])
	}
	if reg.Approver == "" {
		return requireOperator(ctx, r, actor, "approve "+ProcedureNames[proc]+" requests of registry "+reg.ID)
	}
	if _, err := LoadMember(ctx, r, reg.Approver, actor); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EFORBIDDEN, "only a member of %s approves %s requests of registry %s", reg.Approver, ProcedureNames[proc], reg.ID)
		}
		return err
	}
	return nil
}
