package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"steward"
	"steward/numbers"
)

// numberRoutes serves the number registry: the address space and the AS
// numbers as trees with utilisation, a block's page with its history from
// the ledger, an AS number's record, the global policies' evaluation, and
// the same under /api/v1/numbers.
func (s *Server) numberRoutes(m *http.ServeMux) {
	s.numbers = numbers.NewLive(s.cfg.Store)
	m.Handle("GET /api/v1/numbers", s.api(s.apiNumbers))
	m.Handle("GET /api/v1/numbers/lookup", s.api(s.apiNumberLookup))
	m.Handle("GET /api/v1/numbers/asn/{asn}", s.api(s.apiASN))
	m.Handle("GET /api/v1/numbers/blocks/{family}/{range}/{registry}", s.api(s.apiBlock))
	m.Handle("GET /api/v1/numbers/policy", s.api(s.apiNumberPolicy))
	m.Handle("GET /api/v1/numbers/policy/evaluation", s.api(s.apiPolicyEvaluation))
	m.Handle("POST /api/v1/numbers/allocations", s.api(s.apiAllocate))
	m.Handle("POST /api/v1/numbers/returns", s.api(s.apiReturn))
	m.HandleFunc("GET /numbers", s.ui(s.numbersPage))
	m.HandleFunc("GET /numbers/lookup", s.ui(s.numberLookupPage))
	m.HandleFunc("GET /numbers/policy", s.ui(s.policyPage))
	m.HandleFunc("GET /numbers/as/{asn}", s.ui(s.asPage))
	m.HandleFunc("GET /numbers/{family}", s.ui(s.familyPage))
	m.HandleFunc("GET /numbers/{family}/{range}/{registry}", s.ui(s.blockPage))
}

// index returns the current number index.
func (s *Server) index(ctx context.Context) (*numbers.Index, error) {
	return s.numbers.Index(ctx)
}

// BlockView is a block as the API and the pages show it.
type BlockView struct {
	*steward.Block
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Prefixes []string `json:"prefixes,omitempty"`
	Size     string   `json:"size"`
	// Used is the fraction of the block delegated further, 0 to 1.
	Used     float64 `json:"used"`
	Children int     `json:"children"`
	Path     string  `json:"path"` // the block's page
}

// APIPath is the block's path in the JSON API.
func (v BlockView) APIPath() string {
	return "/api/v1/numbers/blocks/" + strings.TrimPrefix(v.Path, "/numbers/")
}

// UsedPercent is Used in percent, for the pages.
func (v BlockView) UsedPercent() string { return fmt.Sprintf("%.1f", 100*v.Used) }

// blockPath is the URL path of a block's page; the API's is /api/v1 +
// "/numbers/blocks/…".
func blockPath(b *steward.Block) string {
	return "/numbers/" + b.Family + "/" + url.PathEscape(b.First+"-"+b.Last) + "/" + url.PathEscape(b.Registry)
}

func view(ix *numbers.Index, b *steward.Block) BlockView {
	v := BlockView{Block: b, Key: b.Key(), Label: b.Label(), Size: b.Span().Size().String(), Path: blockPath(b)}
	if b.Family == steward.FamilyIPv6 && v.Size == "0" {
		v.Size = "340282366920938463463374607431768211456"
	}
	for _, p := range b.Prefixes() {
		v.Prefixes = append(v.Prefixes, p.String())
	}
	if ix != nil {
		v.Used = ix.Usage(v.Key).Fraction
		v.Children = len(ix.Children(v.Key))
	}
	return v
}

func views(ix *numbers.Index, bs []*steward.Block) []BlockView {
	out := make([]BlockView, 0, len(bs))
	for _, b := range bs {
		out = append(out, view(ix, b))
	}
	return out
}

// FamilySummary is one family's top of the tree.
type FamilySummary struct {
	Family string      `json:"family"`
	Blocks int         `json:"blocks"`
	Roots  []BlockView `json:"roots"`
}

// NumbersSummary is GET /api/v1/numbers.
type NumbersSummary struct {
	Families []FamilySummary `json:"families"`
}

func (s *Server) summary(ctx context.Context, families []string) (*NumbersSummary, error) {
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	out := &NumbersSummary{}
	for _, f := range families {
		out.Families = append(out.Families, FamilySummary{Family: f, Blocks: ix.Len(f), Roots: views(ix, ix.Roots(f))})
	}
	return out, nil
}

func (s *Server) apiNumbers(r *http.Request) (any, error) {
	return s.summary(r.Context(), steward.Families)
}

// Lookup is the blocks that hold a value, outermost first.
type Lookup struct {
	Query  string      `json:"query"`
	Family string      `json:"family"`
	Blocks []BlockView `json:"blocks"`
}

// parseQuery reads an address, prefix, range or AS number.
func parseQuery(q string) (string, steward.Span, error) {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > 100 {
		return "", steward.Span{}, steward.Errorf(steward.EINVALID, "q: give an IP address, a prefix or an AS number")
	}
	fam := steward.FamilyASN
	switch {
	case strings.Contains(q, ":"):
		fam = steward.FamilyIPv6
	case strings.Contains(q, "."):
		fam = steward.FamilyIPv4
	}
	t := q
	if fam == steward.FamilyASN {
		t = strings.TrimPrefix(strings.TrimPrefix(strings.ToUpper(q), "AS"), "AS")
		t = strings.ReplaceAll(t, "-AS", "-")
	}
	sp, err := steward.ParseSpan(fam, t)
	return fam, sp, err
}

func (s *Server) lookup(ctx context.Context, q string) (*Lookup, error) {
	fam, sp, err := parseQuery(q)
	if err != nil {
		return nil, err
	}
	ix, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	chain := ix.LookupSpan(fam, sp)
	if len(chain) == 0 {
		return nil, steward.Errorf(steward.ENOTFOUND, "no block of the registry holds %s", q)
	}
	return &Lookup{Query: q, Family: fam, Blocks: views(ix, chain)}, nil
}

func (s *Server) apiNumberLookup(r *http.Request) (any, error) {
	return s.lookup(r.Context(), r.URL.Query().Get("q"))
}

func (s *Server) apiASN(r *http.Request) (any, error) {
	return s.lookup(r.Context(), "AS"+strings.TrimPrefix(strings.ToUpper(r.PathValue("asn")), "AS"))
}

// BlockDetail is a block with its place in the tree and its history.
type BlockDetail struct {
	Block     BlockView   `json:"block"`
	Ancestors []BlockView `json:"ancestors"`
	Children  []BlockView `json:"children"`
	// More says the children were cut at the limit.
	More    bool           `json:"more,omitempty"`
	History []BlockHistory `json:"history"`
}

// BlockHistory is one ledger entry that changed a block.
type BlockHistory struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"`
	Source string    `json:"source,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Status string    `json:"status,omitempty"`
	Holder string    `json:"holder,omitempty"`
}

const maxChildren = 1000

func (s *Server) blockDetail(r *http.Request) (*BlockDetail, error) {
	fam := r.PathValue("family")
	if fam != steward.FamilyIPv4 && fam != steward.FamilyIPv6 && fam != steward.FamilyASN {
		return nil, steward.Errorf(steward.ENOTFOUND, "no number family %q: ipv4, ipv6 or asn", fam)
	}
	sp, err := steward.ParseSpan(fam, r.PathValue("range"))
	if err != nil {
		return nil, err
	}
	key := steward.BlockKey(fam, sp, r.PathValue("registry"))
	ix, err := s.index(r.Context())
	if err != nil {
		return nil, err
	}
	b := ix.Block(key)
	if b == nil {
		return nil, steward.Errorf(steward.ENOTFOUND, "no block %s recorded by %s", r.PathValue("range"), r.PathValue("registry"))
	}
	d := &BlockDetail{Block: view(ix, b), Ancestors: []BlockView{}, History: []BlockHistory{}}
	chain := ix.LookupSpan(fam, sp)
	for _, a := range chain {
		if a == b {
			break
		}
		d.Ancestors = append(d.Ancestors, view(ix, a))
	}
	kids := ix.Children(key)
	if len(kids) > maxChildren {
		kids, d.More = kids[:maxChildren], true
	}
	d.Children = views(ix, kids)
	for _, seq := range b.Events {
		h, err := s.blockHistory(r.Context(), seq, key)
		if err != nil {
			return nil, err
		}
		d.History = append(d.History, h)
	}
	return d, nil
}

// blockHistory reads ledger entry seq and says what it did to the block at
// key.
func (s *Server) blockHistory(ctx context.Context, seq int64, key string) (BlockHistory, error) {
	es, err := s.cfg.Store.Entries(ctx, seq, seq+1)
	if err != nil {
		return BlockHistory{}, err
	}
	if len(es) != 1 {
		return BlockHistory{}, fmt.Errorf("ledger entry %d missing", seq)
	}
	e, err := steward.DecodeEvent(es[0])
	if err != nil {
		return BlockHistory{}, err
	}
	h := BlockHistory{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Kind: e.Kind}
	verb := e.Kind[strings.IndexByte(e.Kind, '.')+1:]
	switch verb {
	case "recorded", "updated":
		var p steward.BlocksPayload
		if e.DecodePayload(&p) == nil {
			h.Source = p.Source
			for i := range p.Blocks {
				if p.Blocks[i].Key() == key {
					h.Status, h.Holder = p.Blocks[i].Status, p.Blocks[i].Holder
				}
			}
		}
	case "allocated":
		var p steward.AllocatedPayload
		if e.DecodePayload(&p) == nil {
			if p.Block.Key() == key {
				h.Status, h.Holder = p.Block.Status, p.Block.Holder
			} else {
				h.Status, h.Reason = steward.StatusAvailable, "remainder of the pool after allocating "+p.Block.Label()
			}
		}
	case "returned":
		var p steward.ReturnedPayload
		if e.DecodePayload(&p) == nil {
			h.Status, h.Reason = steward.StatusAvailable, p.Reason
			if p.Recovered {
				h.Kind += " (recovered)"
			}
		}
	}
	return h, nil
}

func (s *Server) apiBlock(r *http.Request) (any, error) { return s.blockDetail(r) }

func (s *Server) apiNumberPolicy(r *http.Request) (any, error) {
	p, err := steward.LoadNumberPolicies(r.Context(), s.cfg.Store)
	return &p, err
}

func (s *Server) evaluation(r *http.Request) (*steward.PolicyReport, error) {
	at := s.cfg.Clock.Now()
	if v := r.URL.Query().Get("at"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return nil, steward.Errorf(steward.EINVALID, "at: want YYYY-MM-DD")
		}
		at = t
	}
	ix, err := s.index(r.Context())
	if err != nil {
		return nil, err
	}
	var all []*steward.Block
	for _, f := range steward.Families {
		ix.Blocks(f, func(b *steward.Block, _ int) bool {
			all = append(all, b)
			return true
		})
	}
	p, err := steward.LoadNumberPolicies(r.Context(), s.cfg.Store)
	if err != nil {
		return nil, err
	}
	return steward.EvaluatePolicies(p, all, at), nil
}

func (s *Server) apiPolicyEvaluation(r *http.Request) (any, error) { return s.evaluation(r) }

// AllocationRequest is the body of POST /api/v1/numbers/allocations.
type AllocationRequest struct {
	Block    string            `json:"block"` // a prefix, range or AS numbers
	Registry string            `json:"registry"`
	Holder   string            `json:"holder"`
	Status   string            `json:"status"`
	Country  string            `json:"country"`
	Name     string            `json:"name"`
	Date     string            `json:"date"`
	Contacts []steward.Contact `json:"contacts"`
}

func (s *Server) apiAllocate(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var req AllocationRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	fam, sp, err := parseQuery(req.Block)
	if err != nil {
		return nil, err
	}
	if req.Status == "" {
		req.Status = steward.StatusAllocated
	}
	b := steward.Block{Family: fam, First: steward.FormatNumber(fam, sp.First), Last: steward.FormatNumber(fam, sp.Last), Registry: req.Registry,
		Holder: req.Holder, Status: req.Status, Country: req.Country, Name: req.Name, Date: req.Date, Contacts: req.Contacts}
	v, err := s.cfg.Store.Do(r.Context(), steward.AllocateBlock(id.handle, b))
	if err != nil {
		return nil, err
	}
	s.numbers.Refresh()
	return created{v}, nil
}

// ReturnRequest is the body of POST /api/v1/numbers/returns.
type ReturnRequest struct {
	Block     string `json:"block"`
	Registry  string `json:"registry"`
	Reason    string `json:"reason"`
	Recovered bool   `json:"recovered"`
}

func (s *Server) apiReturn(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var req ReturnRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	fam, sp, err := parseQuery(req.Block)
	if err != nil {
		return nil, err
	}
	ref := steward.BlockRef{Family: fam, First: steward.FormatNumber(fam, sp.First), Last: steward.FormatNumber(fam, sp.Last), Registry: req.Registry}
	v, err := s.cfg.Store.Do(r.Context(), steward.ReturnBlock(id.handle, ref, req.Reason, req.Recovered))
	if err != nil {
		return nil, err
	}
	s.numbers.Refresh()
	return v, nil
}

// --- Pages ---

func (s *Server) numbersPage(r *http.Request, id *identity, p *page) (string, error) {
	sum, err := s.summary(r.Context(), steward.Families)
	p.Title, p.Nav, p.Data = p.T("Number resources"), "numbers", sum
	return "numbers", err
}

// FamilyPage is the tree of one family's top-level blocks.
type FamilyPage struct {
	FamilySummary
	Name string
}

var familyNames = map[string]string{steward.FamilyIPv4: "IPv4 address space", steward.FamilyIPv6: "IPv6 address space", steward.FamilyASN: "AS numbers"}

func (s *Server) familyPage(r *http.Request, id *identity, p *page) (string, error) {
	f := r.PathValue("family")
	if familyNames[f] == "" {
		return "", steward.Errorf(steward.ENOTFOUND, "no number family %q: ipv4, ipv6 or asn", f)
	}
	sum, err := s.summary(r.Context(), []string{f})
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = familyNames[f], "numbers", FamilyPage{FamilySummary: sum.Families[0], Name: familyNames[f]}
	return "numfamily", nil
}

func (s *Server) blockPage(r *http.Request, id *identity, p *page) (string, error) {
	d, err := s.blockDetail(r)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = d.Block.Label+" ("+d.Block.Registry+")", "numbers", d
	return "numblock", nil
}

func (s *Server) numberLookupPage(r *http.Request, id *identity, p *page) (string, error) {
	q := r.URL.Query().Get("q")
	l, err := s.lookup(r.Context(), q)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = q, "numbers", l
	return "numlookup", nil
}

func (s *Server) asPage(r *http.Request, id *identity, p *page) (string, error) {
	q := "AS" + strings.TrimPrefix(strings.ToUpper(r.PathValue("asn")), "AS")
	l, err := s.lookup(r.Context(), q)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = q, "numbers", l
	return "numlookup", nil
}

func (s *Server) policyPage(r *http.Request, id *identity, p *page) (string, error) {
	rep, err := s.evaluation(r)
	p.Title, p.Nav, p.Data = p.T("Global number policies"), "numbers", rep
	return "numpolicy", err
}
