package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"steward"
)

// created marks a result that answers 201 Created.
type created struct{ v any }

// noContent marks a result that answers 204 No Content.
type noContent struct{}

// api adapts a JSON handler: it writes the result as JSON (with an ETag on
// reads) or the error as a problem document.
func (s *Server) api(h func(*http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		st := http.StatusOK
		switch x := v.(type) {
		case created:
			st, v = http.StatusCreated, x.v
		case noContent:
			w.WriteHeader(http.StatusNoContent)
			return
		}
		body, err := json.Marshal(v)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		body = append(body, '\n')
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			sum := sha256.Sum256(body)
			etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
			w.Header().Set("ETag", etag)
			w.Header().Set("Cache-Control", "no-cache")
			if match := r.Header.Get("If-None-Match"); match != "" && (strings.TrimSpace(match) == "*" || strings.Contains(match, etag)) {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		} else {
			w.Header().Set("Cache-Control", "no-store")
		}
		w.WriteHeader(st)
		_, _ = w.Write(body)
	})
}

// require returns the request's identity, failing if there is none or its
// credentials lack scope. Unsafe requests from a browser session must carry
// the X-CSRF-Token header.
func (s *Server) require(r *http.Request, scope string) (*identity, error) {
	id, err := s.identify(r)
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, steward.Errorf(steward.EUNAUTHORIZED, "log in, or send an API token")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := s.checkCSRF(r, id, r.Header.Get(csrfHeader)); err != nil {
			return nil, err
		}
	}
	if !id.can(scope) {
		return nil, steward.Errorf(steward.EFORBIDDEN, "this token lacks the %q scope", scope)
	}
	return id, nil
}

// decode reads a JSON request body into v strictly: unknown fields, trailing
// data and wrong types are errors that name the problem.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") &&
		!(r.Method == http.MethodPatch && strings.HasPrefix(ct, "application/merge-patch+json")) {
		return &steward.Error{Code: "unsupported_media_type", Message: fmt.Sprintf("send a JSON body with Content-Type: application/json, not %s", ct)}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.Is(err, io.EOF):
			return steward.Errorf(steward.EINVALID, "the request body is empty; send a JSON object")
		case errors.As(err, &se):
			return steward.Errorf(steward.EINVALID, "malformed JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te) && te.Field == "":
			return steward.Errorf(steward.EINVALID, "the body must be a JSON object, not %s", te.Value)
		case errors.As(err, &te):
			return steward.Errorf(steward.EINVALID, "field %q: want %s, got %s", te.Field, jsonKind(te.Type.Kind()), te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return steward.Errorf(steward.EINVALID, "%s", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return steward.Errorf(steward.EINVALID, "malformed JSON: %v", err)
		}
	}
	// dec.More is not enough: it reports false for a trailing ] or } and
	// for a read error such as a body over the size limit.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return steward.Errorf(steward.EINVALID, "trailing data after the JSON object")
	}
	return nil
}

// jsonKind names a Go kind as JSON calls it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another type"
}

// pageParams reads the after and limit query parameters.
func pageParams(r *http.Request, def, max int) (after string, limit int, err error) {
	q := r.URL.Query()
	limit = def
	if l := q.Get("limit"); l != "" {
		limit, err = strconv.Atoi(l)
		if err != nil || limit < 1 || limit > max {
			return "", 0, steward.Errorf(steward.EINVALID, "limit: want a number from 1 to %d", max)
		}
	}
	return q.Get("after"), limit, nil
}

// List is a page of results. Next, when present, is the cursor to pass as
// after= for the following page.
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func intParam(r *http.Request, name string, min int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		v = r.PathValue(name)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		return 0, steward.Errorf(steward.EINVALID, "%s: want a whole number of at least %d, got %q", name, min, v)
	}
	return n, nil
}

// --- Instance and charter ---

// InstanceInfo is the answer of GET /api/v1/instance.
type InstanceInfo struct {
	Instance   *steward.Instance      `json:"instance"`
	Charter    *steward.CharterRecord `json:"charter"`
	LedgerSize int64                  `json:"ledger_size"`
	Checkpoint string                 `json:"checkpoint,omitempty"`
	Key        string                 `json:"key"`
}

func (s *Server) instanceInfo(r *http.Request) (*InstanceInfo, error) {
	ctx := r.Context()
	in, err := steward.LoadInstance(ctx, s.cfg.Store)
	if err != nil {
		return nil, err
	}
	cr, err := steward.CurrentCharterRecord(ctx, s.cfg.Store)
	if err != nil {
		return nil, err
	}
	size, _, err := s.cfg.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	info := &InstanceInfo{Instance: in, Charter: cr, LedgerSize: size, Key: s.cfg.VerifierKey}
	if cp, err := s.cfg.Store.LatestCheckpoint(ctx); err == nil {
		info.Checkpoint = string(cp)
	}
	return info, nil
}

func (s *Server) apiInstance(r *http.Request) (any, error) { return s.instanceInfo(r) }

// CharterInfo is the answer of GET /api/v1/charter.
type CharterInfo struct {
	steward.CharterRecord
	Charter any `json:"charter"`
}

func (s *Server) apiCharter(r *http.Request) (any, error) {
	ctx := r.Context()
	cur, err := steward.CurrentCharterRecord(ctx, s.cfg.Store)
	if err != nil {
		return nil, err
	}
	return s.charterVersion(r, cur.Version)
}

func (s *Server) apiCharterVersion(r *http.Request) (any, error) {
	v, err := intParam(r, "version", 1)
	if err != nil {
		return nil, err
	}
	return s.charterVersion(r, int(v))
}

func (s *Server) charterVersion(r *http.Request, v int) (any, error) {
	rec, err := steward.CharterVersion(r.Context(), s.cfg.Store, v)
	if err != nil {
		if steward.ErrorCode(err) == steward.ENOTFOUND {
			return nil, steward.Errorf(steward.ENOTFOUND, "no charter version %d", v)
		}
		return nil, err
	}
	c, err := parseCharter(rec)
	if err != nil {
		return nil, err
	}
	return CharterInfo{CharterRecord: *rec, Charter: c}, nil
}

// CheckResult is the answer of POST /api/v1/charter/check.
type CheckResult struct {
	Valid  bool         `json:"valid"`
	Name   string       `json:"name,omitempty"`
	Hash   string       `json:"hash,omitempty"`
	Errors []CheckError `json:"errors"`
}

// CheckError is one error in a charter file.
type CheckError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (s *Server) apiCharterCheck(r *http.Request) (any, error) {
	text, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	return checkCharter("charter", text), nil
}

// --- Participants ---

// RegisterRequest is the body of POST /api/v1/participants.
type RegisterRequest struct {
	Handle      string   `json:"handle"`
	Name        string   `json:"name"`
	Group       string   `json:"group"`
	Affiliation string   `json:"affiliation"`
	Region      string   `json:"region"`
	Languages   []string `json:"languages"`
	Email       string   `json:"email"`
	Password    string   `json:"password"`
}

func (s *Server) register(r *http.Request, req RegisterRequest) (*steward.Participant, error) {
	hash, err := steward.HashPassword(req.Password, s.cfg.PasswordParams)
	if err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.Register(req.Handle, steward.Registration{
		Participant: steward.Participant{Handle: req.Handle, Name: req.Name, Group: req.Group,
			Affiliation: req.Affiliation, Region: req.Region, Languages: req.Languages},
		Email: req.Email, PasswordHash: hash,
	}))
	if err != nil {
		return nil, err
	}
	return v.(*steward.Participant), nil
}

func (s *Server) apiRegister(r *http.Request) (any, error) {
	var req RegisterRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	p, err := s.register(r, req)
	if err != nil {
		return nil, err
	}
	return created{p}, nil
}

func (s *Server) apiParticipants(r *http.Request) (any, error) {
	after, limit, err := pageParams(r, 100, 1000)
	if err != nil {
		return nil, err
	}
	ps, err := steward.ListParticipants(r.Context(), s.cfg.Store, after, limit+1)
	if err != nil {
		return nil, err
	}
	l := List[steward.Participant]{Items: ps}
	if l.Items == nil {
		l.Items = []steward.Participant{}
	}
	if len(ps) > limit { // one more than asked for: there is a next page
		l.Items = ps[:limit]
		l.Next = ps[limit-1].Handle
	}
	return l, nil
}

// ParticipantInfo is a participant with its roles and seats.
type ParticipantInfo struct {
	steward.Participant
	Roles []steward.Grant  `json:"roles"`
	Seats []steward.Member `json:"seats"`
	Chair []string         `json:"chairs"`
}

func (s *Server) participantInfo(r *http.Request, handle string) (*ParticipantInfo, error) {
	ctx := r.Context()
	p, err := steward.LoadParticipant(ctx, s.cfg.Store, handle)
	if err != nil {
		return nil, err
	}
	info := &ParticipantInfo{Participant: *p, Roles: []steward.Grant{}, Seats: []steward.Member{}, Chair: []string{}}
	if info.Roles, err = steward.Roles(ctx, s.cfg.Store, handle); err != nil {
		return nil, err
	}
	if info.Roles == nil {
		info.Roles = []steward.Grant{}
	}
	c, err := steward.CurrentCharter(ctx, s.cfg.Store)
	if err != nil {
		return nil, err
	}
	for _, b := range c.Bodies {
		m, err := steward.LoadMember(ctx, s.cfg.Store, b.ID, handle)
		if err == nil {
			info.Seats = append(info.Seats, *m)
		} else if steward.ErrorCode(err) != steward.ENOTFOUND {
			return nil, err
		}
		if ch, err := steward.Chair(ctx, s.cfg.Store, b.ID); err != nil {
			return nil, err
		} else if ch == handle {
			info.Chair = append(info.Chair, b.ID)
		}
	}
	return info, nil
}

func (s *Server) apiParticipant(r *http.Request) (any, error) {
	return s.participantInfo(r, r.PathValue("handle"))
}

// ProfileUpdate is the body of PATCH /api/v1/participants/{handle}; absent
// fields keep their value.
type ProfileUpdate struct {
	Name        *string   `json:"name"`
	Affiliation *string   `json:"affiliation"`
	Languages   *[]string `json:"languages"`
}

func (s *Server) apiUpdateParticipant(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	var u ProfileUpdate
	if err := decode(r, &u); err != nil {
		return nil, err
	}
	// Merge inside the transaction, so that concurrent updates of different
	// fields do not undo each other.
	return s.cfg.Store.Do(r.Context(), func(ctx context.Context, tx steward.Tx) (any, error) {
		p, err := steward.LoadParticipant(ctx, tx, r.PathValue("handle"))
		if err != nil {
			return nil, err
		}
		if u.Name != nil {
			p.Name = *u.Name
		}
		if u.Affiliation != nil {
			p.Affiliation = *u.Affiliation
		}
		if u.Languages != nil {
			p.Languages = *u.Languages
		}
		return steward.UpdateProfile(id.handle, *p)(ctx, tx)
	})
}

func (s *Server) apiRoles(r *http.Request) (any, error) {
	handle := r.PathValue("handle")
	if _, err := steward.LoadParticipant(r.Context(), s.cfg.Store, handle); err != nil {
		return nil, err
	}
	g, err := steward.Roles(r.Context(), s.cfg.Store, handle)
	if g == nil {
		g = []steward.Grant{}
	}
	return g, err
}

// RoleRequest is the body of POST /api/v1/participants/{handle}/roles.
type RoleRequest struct {
	Role  string `json:"role"`
	Scope string `json:"scope,omitempty"`
}

func (s *Server) apiGrantRole(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var req RoleRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	g := steward.Grant{Participant: r.PathValue("handle"), Role: req.Role, Scope: req.Scope}
	if _, err := s.cfg.Store.Do(r.Context(), steward.GrantRole(id.handle, g)); err != nil {
		return nil, err
	}
	return created{g}, nil
}

func (s *Server) apiRevokeRole(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	g := steward.Grant{Participant: r.PathValue("handle"), Role: r.PathValue("role"), Scope: r.URL.Query().Get("scope")}
	if _, err := s.cfg.Store.Do(r.Context(), steward.RevokeRole(id.handle, g)); err != nil {
		return nil, err
	}
	return noContent{}, nil
}

// --- Bodies ---

// BodyInfo is a body of the charter with its current members.
type BodyInfo struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Kind      string           `json:"kind"`
	Charter   any              `json:"charter"`
	Chair     string           `json:"chair,omitempty"`
	Members   []steward.Member `json:"members"`
	SeatCount int              `json:"seat_count"`
}

func (s *Server) bodies(r *http.Request, only string) ([]BodyInfo, error) {
	ctx := r.Context()
	c, err := steward.CurrentCharter(ctx, s.cfg.Store)
	if err != nil {
		return nil, err
	}
	var out []BodyInfo
	for i := range c.Bodies {
		b := &c.Bodies[i]
		if only != "" && b.ID != only {
			continue
		}
		ms, err := steward.Members(ctx, s.cfg.Store, b.ID)
		if err != nil {
			return nil, err
		}
		if ms == nil {
			ms = []steward.Member{}
		}
		ch, err := steward.Chair(ctx, s.cfg.Store, b.ID)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, st := range b.Seats {
			n += st.Count
		}
		out = append(out, BodyInfo{ID: b.ID, Name: b.Name, Kind: string(b.Kind), Charter: b, Chair: ch, Members: ms, SeatCount: n})
	}
	if only != "" && len(out) == 0 {
		return nil, steward.Errorf(steward.ENOTFOUND, "the charter has no body %q", only)
	}
	return out, nil
}

func (s *Server) apiBodies(r *http.Request) (any, error) { return s.bodies(r, "") }

func (s *Server) apiBody(r *http.Request) (any, error) {
	b, err := s.bodies(r, r.PathValue("body"))
	if err != nil {
		return nil, err
	}
	return b[0], nil
}

// SeatRequest is the body of POST /api/v1/bodies/{body}/members.
type SeatRequest struct {
	Participant string `json:"participant"`
	Capacity    string `json:"capacity,omitempty"`
}

func (s *Server) apiSeat(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var req SeatRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.SeatMember(id.handle, r.PathValue("body"), req.Participant, req.Capacity))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

func (s *Server) apiUnseat(r *http.Request) (any, error) {
	handle := r.PathValue("handle")
	scope := steward.ScopeAdmin
	id, err := s.identify(r)
	if err != nil {
		return nil, err
	}
	if id != nil && id.handle == handle {
		scope = steward.ScopeWrite // resigning one's own seat
	}
	if id, err = s.require(r, scope); err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.UnseatMember(id.handle, r.PathValue("body"), handle, r.URL.Query().Get("reason"))); err != nil {
		return nil, err
	}
	return noContent{}, nil
}

// ChairRequest is the body of PUT /api/v1/bodies/{body}/chair.
type ChairRequest struct {
	Participant string `json:"participant"`
}

func (s *Server) apiSetChair(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	var req ChairRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.SetChair(id.handle, r.PathValue("body"), req.Participant)); err != nil {
		return nil, err
	}
	return req, nil
}

// --- Tokens ---

// TokenRequest is the body of POST /api/v1/tokens. Without a session or a
// token, handle and password authenticate the request.
type TokenRequest struct {
	Handle   string   `json:"handle,omitempty"`
	Password string   `json:"password,omitempty"`
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"`
	TTLDays  int      `json:"ttl_days"`
}

// IssuedToken is the answer of POST /api/v1/tokens: the only time the
// bearer string is shown.
type IssuedToken struct {
	steward.Token
	Bearer string `json:"bearer"`
}

func (s *Server) apiIssueToken(r *http.Request) (any, error) {
	var req TokenRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	id, err := s.identify(r)
	if err != nil {
		return nil, err
	}
	var handle string
	switch {
	case id == nil:
		if err := steward.CheckLoginCost(r.Context(), s.cfg.Store, req.Handle, req.Password, s.cfg.PasswordParams); err != nil {
			return nil, err
		}
		handle = req.Handle
	default:
		if id, err = s.require(r, steward.ScopeRead); err != nil {
			return nil, err
		}
		for _, sc := range req.Scopes {
			if !id.can(sc) {
				return nil, steward.Errorf(steward.EFORBIDDEN, "a token cannot grant the %q scope it lacks", sc)
			}
		}
		handle = id.handle
	}
	if req.TTLDays == 0 {
		req.TTLDays = 90
	}
	return s.issueToken(r, handle, req.Name, req.Scopes, req.TTLDays)
}

func (s *Server) issueToken(r *http.Request, handle, name string, scopes []string, days int) (any, error) {
	tid, bearer, err := steward.NewTokenSecret()
	if err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.IssueToken(handle, tid, bearer, name, scopes, time.Duration(days)*24*time.Hour))
	if err != nil {
		return nil, err
	}
	return created{IssuedToken{Token: *v.(*steward.Token), Bearer: bearer}}, nil
}

func (s *Server) apiTokens(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeRead)
	if err != nil {
		return nil, err
	}
	ts, err := steward.Tokens(r.Context(), s.cfg.Store, id.handle)
	if ts == nil {
		ts = []steward.Token{}
	}
	return ts, err
}

func (s *Server) apiRevokeToken(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeRead)
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.RevokeToken(id.handle, r.PathValue("id"))); err != nil {
		return nil, err
	}
	return noContent{}, nil
}

// Me is the answer of GET /api/v1/me.
type Me struct {
	ParticipantInfo
	Email  string   `json:"email"`
	Scopes []string `json:"scopes"`
	Via    string   `json:"via"` // "session" or "token"
}

func (s *Server) apiMe(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeRead)
	if err != nil {
		return nil, err
	}
	info, err := s.participantInfo(r, id.handle)
	if err != nil {
		return nil, err
	}
	email, err := steward.Email(r.Context(), s.cfg.Store, id.handle)
	if err != nil && steward.ErrorCode(err) != steward.ENOTFOUND {
		return nil, err
	}
	me := Me{ParticipantInfo: *info, Email: email, Scopes: steward.AllScopes, Via: "session"}
	if id.token != nil {
		me.Scopes, me.Via = id.token.Scopes, "token"
	}
	return me, nil
}

// --- State ---

// StateRecord is one record of the public state.
type StateRecord struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

func (s *Server) apiState(r *http.Request) (any, error) {
	after, limit, err := pageParams(r, 100, 1000)
	if err != nil {
		return nil, err
	}
	prefix := r.URL.Query().Get("prefix")
	if prefix != "" && !steward.ValidKey(prefix) {
		return nil, steward.Errorf(steward.EINVALID, "prefix: printable ASCII without spaces")
	}
	kvs, err := s.cfg.Store.Scan(r.Context(), prefix, after, limit+1)
	if err != nil {
		return nil, err
	}
	next := ""
	if len(kvs) > limit {
		kvs, next = kvs[:limit], kvs[limit-1].Key
	}
	l := List[StateRecord]{Items: make([]StateRecord, len(kvs)), Next: next}
	for i, kv := range kvs {
		l.Items[i] = StateRecord{Key: kv.Key, Value: kv.Value}
	}
	return l, nil
}
