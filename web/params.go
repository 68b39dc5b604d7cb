package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"steward"
	"steward/params"
)

// paramRoutes serves the protocol parameter registries: the JSON API under
// /api/v1/params, the pages under /params, and IANA's XML and CSV exports.
func (s *Server) paramRoutes(m *http.ServeMux) {
	m.Handle("GET /api/v1/params", s.api(s.apiParamRegistries))
	m.Handle("POST /api/v1/params", s.api(s.apiCreateParamRegistry))
	m.Handle("GET /api/v1/params/{id}", s.api(s.apiParamRegistry))
	m.HandleFunc("GET /api/v1/params/{id}/export", s.paramExport)
	m.Handle("POST /api/v1/params/{id}/requests", s.api(s.apiRequestParam))
	m.Handle("GET /api/v1/params/{id}/requests/{req}", s.api(s.apiParamRequest))
	m.Handle("POST /api/v1/params/{id}/requests/{req}/decision", s.api(s.apiDecideParam))
	m.HandleFunc("GET /params", s.ui(s.paramsPage))
	m.HandleFunc("GET /params/{id}", s.ui(s.paramPage))
	m.HandleFunc("POST /params/{id}/requests", s.form(s.paramRequestPost))
	m.HandleFunc("POST /params/{id}/requests/{req}/decision", s.form(s.paramDecisionPost))
}

func (s *Server) paramList(r *http.Request) (List[steward.ParamRegistry], error) {
	after, limit, err := pageParams(r, 200, 2000)
	if err != nil {
		return List[steward.ParamRegistry]{}, err
	}
	rs, err := steward.ListParamRegistries(r.Context(), s.cfg.Store, after, limit+1)
	if err != nil {
		return List[steward.ParamRegistry]{}, err
	}
	l := List[steward.ParamRegistry]{Items: rs}
	if l.Items == nil {
		l.Items = []steward.ParamRegistry{}
	}
	if len(rs) > limit {
		l.Items, l.Next = rs[:limit], rs[limit-1].ID
	}
	return l, nil
}

func (s *Server) apiParamRegistries(r *http.Request) (any, error) { return s.paramList(r) }

func (s *Server) apiCreateParamRegistry(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var reg steward.ParamRegistry
	if err := decode(r, &reg); err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.CreateParamRegistry(id.handle, reg))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

// ParamRegistryView is a registry with its values and requests.
type ParamRegistryView struct {
	Registry   *steward.ParamRegistry `json:"registry"`
	Values     []steward.ParamValue   `json:"values"`
	Requests   []steward.ParamRequest `json:"requests"`
	Procedures map[string]string      `json:"-"`
}

func (s *Server) paramView(r *http.Request) (*ParamRegistryView, error) {
	ctx := r.Context()
	reg, err := steward.LoadParamRegistry(ctx, s.cfg.Store, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	vals, err := steward.ParamValues(ctx, s.cfg.Store, reg.ID)
	if err != nil {
		return nil, err
	}
	reqs, err := steward.ParamRequests(ctx, s.cfg.Store, reg.ID, 0, 1000)
	if err != nil {
		return nil, err
	}
	if vals == nil {
		vals = []steward.ParamValue{}
	}
	if reqs == nil {
		reqs = []steward.ParamRequest{}
	}
	return &ParamRegistryView{Registry: reg, Values: vals, Requests: reqs, Procedures: steward.ProcedureNames}, nil
}

func (s *Server) apiParamRegistry(r *http.Request) (any, error) { return s.paramView(r) }

func paramRequestID(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("req"), 10, 64)
	if err != nil || n <= 0 {
		return 0, steward.Errorf(steward.EINVALID, "request id %q is not a positive number", r.PathValue("req"))
	}
	return n, nil
}

func (s *Server) apiParamRequest(r *http.Request) (any, error) {
	n, err := paramRequestID(r)
	if err != nil {
		return nil, err
	}
	q, err := steward.LoadParamRequest(r.Context(), s.cfg.Store, n)
	if err == nil && q.Registry != r.PathValue("id") {
		return nil, steward.Errorf(steward.ENOTFOUND, "request %d is not a request of registry %s", n, r.PathValue("id"))
	}
	return q, err
}

func (s *Server) apiRequestParam(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	var vr steward.ValueRequest
	if err := decode(r, &vr); err != nil {
		return nil, err
	}
	vr.Registry = r.PathValue("id")
	v, err := s.cfg.Store.Do(r.Context(), steward.RequestParamValue(id.handle, vr))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

func (s *Server) apiDecideParam(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	n, err := paramRequestID(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.apiParamRequest(r); err != nil {
		return nil, err
	}
	var d steward.Decision
	if err := decode(r, &d); err != nil {
		return nil, err
	}
	return s.cfg.Store.Do(r.Context(), steward.DecideParamRequest(id.handle, n, d))
}

// GET /api/v1/params/{id}/export?format=xml|csv: the registry in IANA's
// XML or CSV.
func (s *Server) paramExport(w http.ResponseWriter, r *http.Request) {
	v, err := s.paramView(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var b bytes.Buffer
	switch f := r.URL.Query().Get("format"); f {
	case "", "xml":
		err = params.WriteXML(&b, v.Registry, v.Values)
		w.Header().Set("Content-Type", "application/xml")
	case "csv":
		err = params.WriteCSV(&b, v.Registry, v.Values)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	default:
		s.problem(w, r, steward.Errorf(steward.EINVALID, "format %q: give xml or csv", f))
		return
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	_, _ = w.Write(b.Bytes())
}

func (s *Server) paramsPage(r *http.Request, id *identity, p *page) (string, error) {
	l, err := s.paramList(r)
	p.Title, p.Nav, p.Data = p.T("Protocol parameters"), "params", l
	return "params", err
}

func (s *Server) paramPage(r *http.Request, id *identity, p *page) (string, error) {
	v, err := s.paramView(r)
	if err != nil {
		return "", err
	}
	if f := r.URL.Query().Get("flash"); f != "" {
		p.Flash = map[string]string{"requested": "Your request is recorded.", "decided": "The decision is recorded."}[f]
	}
	p.Title, p.Nav, p.Data = v.Registry.Title, "params", v
	return "param", nil
}

func (s *Server) paramRequestPost(w http.ResponseWriter, r *http.Request, me *identity) (string, string, error) {
	if me == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in to request a value")
	}
	vr := steward.ValueRequest{Registry: r.PathValue("id"), Value: strings.TrimSpace(r.PostFormValue("value")), Description: r.PostFormValue("description")}
	for _, ref := range strings.Fields(r.PostFormValue("references")) {
		vr.References = append(vr.References, ref)
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.RequestParamValue(me.handle, vr)); err != nil {
		return "", "error", err
	}
	return "/params/" + vr.Registry + "?flash=requested", "", nil
}

func (s *Server) paramDecisionPost(w http.ResponseWriter, r *http.Request, me *identity) (string, string, error) {
	if me == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in first")
	}
	n, err := paramRequestID(r)
	if err != nil {
		return "", "error", err
	}
	if _, err := s.apiParamRequest(r); err != nil {
		return "", "error", err
	}
	d := steward.Decision{Approve: r.PostFormValue("decision") == "approve", Reason: r.PostFormValue("reason")}
	if _, err := s.cfg.Store.Do(r.Context(), steward.DecideParamRequest(me.handle, n, d)); err != nil {
		return "", "error", err
	}
	return "/params/" + r.PathValue("id") + "?flash=decided", "", nil
}
