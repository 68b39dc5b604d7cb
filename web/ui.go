package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/message"

	"steward"
	"steward/charter"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 January 2006")
	},
	"join": func(s []string) string {
		if len(s) == 0 {
			return "—"
		}
		return strings.Join(s, ", ")
	},
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12] + "…"
		}
		return s
	},
	"rule": func(r *charter.Rule) string { return r.String() },
	"indent": func(raw json.RawMessage) string {
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			return string(raw)
		}
		return b.String()
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// tree hands a sub-template its rows with the page, for translation.
	"tree": func(p *page, rows any) treeArgs { return treeArgs{P: p, Rows: rows} },
	"inc":  func(n int64) int64 { return n + 1 },
	"dec":  func(n int64) int64 { return n - 1 },
}

var pages = func() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		m[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return m
}()

// treeArgs are a sub-template's rows and the page they are shown on.
type treeArgs struct {
	P    *page
	Rows any
}

// errRendered tells form that the handler wrote the response itself.
var errRendered = errors.New("response rendered")

// flashes are the messages a redirect may ask the next page to show.
var flashes = map[string]string{
	"welcome":   "Welcome! Your registration is recorded in the ledger.",
	"saved":     "Profile saved.",
	"revoked":   "Token revoked.",
	"loggedout": "You are logged out.",
	"submitted": "Your change request is submitted and recorded in the ledger.",
	"recorded":  "Recorded in the ledger.",
	"confirmed": "Thank you: your confirmation is recorded in the ledger.",
}

// page is what every template gets.
type page struct {
	Title        string
	Nav          string
	InstanceName string
	Me           string
	CSRF         string
	Flash, Error string
	Checkpoint   *CheckpointInfo
	BaseURL      string
	Form         map[string]string
	Data         any
	Participants int
	Bodies       int
	Status       int // the HTTP status of an error page
	Lang, Dir    string
	Path         string // the request's path and query, for the language switcher
	tr           *message.Printer
}

func (s *Server) uiRoutes() {
	m := s.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", s.ui(s.home))
	m.HandleFunc("GET /charter", s.ui(s.charterPage))
	m.HandleFunc("GET /bodies", s.ui(s.bodiesPage))
	m.HandleFunc("GET /bodies/{body}", s.ui(s.bodyPage))
	m.HandleFunc("GET /participants", s.ui(s.participantsPage))
	m.HandleFunc("GET /participants/{handle}", s.ui(s.participantPage))
	m.HandleFunc("GET /tlds", s.ui(s.tldsPage))
	m.HandleFunc("GET /tlds/{name}", s.ui(s.tldPage))
	m.HandleFunc("GET /ledger", s.ui(s.ledgerPage))
	m.HandleFunc("GET /ledger/{seq}", s.ui(s.entryPage))
	m.HandleFunc("GET /register", s.ui(s.registerPage))
	m.HandleFunc("POST /register", s.form(s.registerPost))
	m.HandleFunc("GET /login", s.ui(s.loginPage))
	m.HandleFunc("POST /login", s.form(s.loginPost))
	m.HandleFunc("POST /logout", s.form(s.logoutPost))
	m.HandleFunc("GET /account", s.ui(s.accountPage))
	m.HandleFunc("POST /account/profile", s.form(s.profilePost))
	m.HandleFunc("POST /account/tokens", s.form(s.tokenPost))
	m.HandleFunc("POST /account/tokens/{id}/revoke", s.form(s.revokePost))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusNotFound, "error", &page{Title: "Page not found"}, nil)
	})
}

// uiHandler fills a page for a GET; it returns the template name.
type uiHandler func(r *http.Request, id *identity, p *page) (string, error)

func (s *Server) ui(h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.identify(r)
		p := &page{}
		p.Lang, p.Dir, p.tr = pickLanguage(r)
		name := "error"
		if err == nil {
			name, err = h(r, id, p)
		}
		if err != nil {
			p.Title = steward.ErrorMessage(err)
			eventOf(r.Context()).err = err
			s.render(w, r, status(steward.ErrorCode(err)), "error", p, id)
			return
		}
		s.render(w, r, http.StatusOK, name, p, id)
	}
}

// formHandler handles a POSTed form and returns where to go next, or an
// error to show on the page named by errPage with the form refilled.
type formHandler func(w http.ResponseWriter, r *http.Request, id *identity) (redirect string, errPage string, err error)

func (s *Server) form(h formHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.identify(r)
		if err == nil {
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				err = r.ParseMultipartForm(s.cfg.MaxBodyBytes)
			} else {
				err = r.ParseForm()
			}
		}
		if err == nil {
			err = s.checkCSRF(r, id, r.PostFormValue(csrfField))
		}
		errPage := "error"
		redirect := ""
		if err == nil {
			redirect, errPage, err = h(w, r, id)
		}
		if errors.Is(err, errRendered) {
			return
		}
		if err != nil {
			eventOf(r.Context()).err = err
			p := &page{Error: steward.ErrorMessage(err), Form: map[string]string{}}
			for k := range r.PostForm {
				if k != "password" && k != csrfField {
					p.Form[k] = r.PostFormValue(k)
				}
			}
			st := status(steward.ErrorCode(err))
			if errPage != "error" {
				name, perr := s.fillPage(r, id, errPage, p)
				if perr == nil {
					s.render(w, r, st, name, p, id)
					return
				}
			}
			p.Title = steward.ErrorMessage(err)
			s.render(w, r, st, "error", p, id)
			return
		}
		http.Redirect(w, r, redirect, http.StatusSeeOther)
	}
}

// fillPage re-runs a GET page's handler, to show a form again with errors.
func (s *Server) fillPage(r *http.Request, id *identity, name string, p *page) (string, error) {
	switch name {
	case "register":
		return s.registerPage(r, id, p)
	case "login":
		return s.loginPage(r, id, p)
	case "request-new":
		return s.newRequestPage(r, id, p)
	case "request":
		return s.requestPage(r, id, p)
	case "policy-new":
		return s.newPolicyPage(r, id, p)
	case "policy":
		return s.pdpPage(r, id, p)
	case "account":
		if id == nil {
			return "", steward.Errorf(steward.EUNAUTHORIZED, "log in first")
		}
		return s.accountPage(r, id, p)
	default:
		if h := s.forumPage(name); h != nil {
			return h(r, id, p)
		}
	}
	return "", fmt.Errorf("no page %s", name)
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, st int, name string, p *page, id *identity) {
	ctx := r.Context()
	p.Status = st
	if in, err := steward.LoadInstance(ctx, s.cfg.Store); err == nil {
		p.InstanceName = in.Name
	} else {
		p.InstanceName = "Steward"
	}
	if id != nil {
		p.Me = id.handle
	}
	p.CSRF = s.csrfToken(w, r, id)
	if cp, err := s.checkpoint(r); err == nil {
		p.Checkpoint = cp
	}
	if p.Form == nil {
		p.Form = map[string]string{}
	}
	if f, ok := flashes[r.URL.Query().Get("flash")]; ok && p.Flash == "" {
		p.Flash = f
	}
	p.Lang, p.Dir, p.tr = pickLanguage(r)
	p.Path = r.URL.RequestURI()
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(st)
	_, _ = w.Write(buf.Bytes())
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) home(r *http.Request, id *identity, p *page) (string, error) {
	info, err := s.instanceInfo(r)
	if err != nil {
		return "", err
	}
	p.Title, p.Data, p.BaseURL = p.T("Home"), info, baseURL(r)
	ps, err := s.cfg.Store.Scan(r.Context(), "participant/", "", 10000)
	if err != nil {
		return "", err
	}
	p.Participants = len(ps)
	c, err := steward.CurrentCharter(r.Context(), s.cfg.Store)
	if err != nil {
		return "", err
	}
	p.Bodies = len(c.Bodies)
	return "home", nil
}

// CharterPage is the data of the charter page.
type CharterPage struct {
	Record  *steward.CharterRecord
	Charter *charter.Charter
}

func (s *Server) charterPage(r *http.Request, id *identity, p *page) (string, error) {
	cur, err := steward.CurrentCharterRecord(r.Context(), s.cfg.Store)
	if err != nil {
		return "", err
	}
	rec, err := steward.CharterVersion(r.Context(), s.cfg.Store, cur.Version)
	if err != nil {
		return "", err
	}
	c, err := parseCharter(rec)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Charter"), "charter", CharterPage{Record: rec, Charter: c}
	return "charter", nil
}

func (s *Server) bodiesPage(r *http.Request, id *identity, p *page) (string, error) {
	b, err := s.bodies(r, "")
	p.Title, p.Nav, p.Data = p.T("Bodies"), "bodies", b
	return "bodies", err
}

func (s *Server) bodyPage(r *http.Request, id *identity, p *page) (string, error) {
	b, err := s.bodies(r, r.PathValue("body"))
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = b[0].Name, "bodies", b[0]
	return "body", nil
}

func (s *Server) participantsPage(r *http.Request, id *identity, p *page) (string, error) {
	v, err := s.apiParticipants(r)
	p.Title, p.Nav, p.Data = p.T("Participants"), "participants", v
	return "participants", err
}

func (s *Server) participantPage(r *http.Request, id *identity, p *page) (string, error) {
	info, err := s.participantInfo(r, r.PathValue("handle"))
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = info.Name, "participants", info
	return "participant", nil
}

// LedgerPage is the data of the ledger page.
type LedgerPage struct {
	Checkpoint *CheckpointInfo
	Entries    []Entry
	Older      string
}

func (s *Server) ledgerPage(r *http.Request, id *identity, p *page) (string, error) {
	size, _, err := s.cfg.Store.Head(r.Context())
	if err != nil {
		return "", err
	}
	end := size
	if b := r.URL.Query().Get("before"); b != "" {
		if end, err = parseSeq(b); err != nil {
			return "", err
		}
		end = min(end, size)
	}
	start := max(0, end-50)
	lp := LedgerPage{}
	if cp, err := s.checkpoint(r); err == nil {
		lp.Checkpoint = cp
	}
	if start < end {
		es, err := s.entries(r, start, end)
		if err != nil {
			return "", err
		}
		for i := len(es) - 1; i >= 0; i-- { // newest first
			lp.Entries = append(lp.Entries, es[i])
		}
	}
	if start > 0 {
		lp.Older = strconv.FormatInt(start, 10)
	}
	p.Title, p.Nav, p.Data = p.T("Ledger"), "ledger", lp
	return "ledger", nil
}

func (s *Server) entryPage(r *http.Request, id *identity, p *page) (string, error) {
	seq, err := parseSeq(r.PathValue("seq"))
	if err != nil {
		return "", err
	}
	ep, err := s.entryProof(r, seq)
	if err != nil {
		return "", err
	}
	size, _, err := s.cfg.Store.Head(r.Context())
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Ledger entry %d", seq), "ledger", EntryPage{EntryProof: ep, HasNext: seq+1 < size}
	return "entry", nil
}

// EntryPage is the data of a ledger entry's page.
type EntryPage struct {
	*EntryProof
	HasNext bool
}

func (s *Server) registerPage(r *http.Request, id *identity, p *page) (string, error) {
	c, err := steward.CurrentCharter(r.Context(), s.cfg.Store)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Register"), "register", c
	return "register", nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

func (s *Server) registerPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if !s.limiter.allow(r.RemoteAddr) {
		return "", "register", &steward.Error{Code: "rate_limited", Message: "too many attempts from your address; wait a few seconds"}
	}
	f := r.PostFormValue
	req := RegisterRequest{Handle: f("handle"), Name: strings.TrimSpace(f("name")), Group: f("group"),
		Affiliation: strings.TrimSpace(f("affiliation")), Region: f("region"), Languages: splitList(f("languages")),
		Email: strings.TrimSpace(f("email")), Password: f("password")}
	if _, err := s.register(r, req); err != nil {
		return "", "register", err
	}
	if err := s.startSession(w, r, req.Handle); err != nil {
		return "", "register", err
	}
	return "/account?flash=welcome", "", nil
}

func (s *Server) loginPage(r *http.Request, id *identity, p *page) (string, error) {
	p.Title, p.Nav = p.T("Log in"), "login"
	return "login", nil
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if !s.limiter.allow(r.RemoteAddr) {
		return "", "login", &steward.Error{Code: "rate_limited", Message: "too many attempts from your address; wait a few seconds"}
	}
	handle := strings.TrimSpace(r.PostFormValue("handle"))
	if err := steward.CheckLoginCost(r.Context(), s.cfg.Store, handle, r.PostFormValue("password"), s.cfg.PasswordParams); err != nil {
		return "", "login", err
	}
	if err := s.endSession(w, r, false); err != nil {
		return "", "login", err
	}
	if err := s.startSession(w, r, handle); err != nil {
		return "", "login", err
	}
	return "/account", "", nil
}

func (s *Server) logoutPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := s.endSession(w, r, true); err != nil {
		return "", "error", err
	}
	return "/?flash=loggedout", "", nil
}

// AccountPage is the data of the account page.
type AccountPage struct {
	Me        *steward.Participant
	Email     string
	Tokens    []steward.Token
	Scopes    []string
	NewBearer string
}

func (s *Server) accountPage(r *http.Request, id *identity, p *page) (string, error) {
	if id == nil {
		return "", steward.Errorf(steward.EUNAUTHORIZED, "log in to see your account")
	}
	ctx := r.Context()
	me, err := steward.LoadParticipant(ctx, s.cfg.Store, id.handle)
	if err != nil {
		return "", err
	}
	email, _ := steward.Email(ctx, s.cfg.Store, id.handle)
	ts, err := steward.Tokens(ctx, s.cfg.Store, id.handle)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Your account"), "account", AccountPage{Me: me, Email: email, Tokens: ts, Scopes: steward.AllScopes}
	return "account", nil
}

func (s *Server) profilePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if id == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in first")
	}
	me, err := steward.LoadParticipant(r.Context(), s.cfg.Store, id.handle)
	if err != nil {
		return "", "account", err
	}
	me.Name = strings.TrimSpace(r.PostFormValue("name"))
	me.Affiliation = strings.TrimSpace(r.PostFormValue("affiliation"))
	me.Languages = splitList(r.PostFormValue("languages"))
	if _, err := s.cfg.Store.Do(r.Context(), steward.UpdateProfile(id.handle, *me)); err != nil {
		return "", "account", err
	}
	return "/account?flash=saved", "", nil
}

func (s *Server) tokenPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if id == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in first")
	}
	days, err := strconv.Atoi(r.PostFormValue("ttl_days"))
	if err != nil {
		return "", "account", steward.Errorf(steward.EINVALID, "lifetime: give a number of days")
	}
	v, err := s.issueToken(r, id.handle, strings.TrimSpace(r.PostFormValue("name")), r.PostForm["scopes"], days)
	if err != nil {
		return "", "account", err
	}
	// Show the bearer once, on the page answering this POST, never in a URL.
	p := &page{}
	if _, err := s.accountPage(r, id, p); err != nil {
		return "", "account", err
	}
	ap := p.Data.(AccountPage)
	ap.NewBearer = v.(created).v.(IssuedToken).Bearer
	p.Data, p.Flash = ap, "Token created."
	s.render(w, r, http.StatusOK, "account", p, id)
	return "", "", errRendered
}

func (s *Server) revokePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if id == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in first")
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.RevokeToken(id.handle, r.PathValue("id"))); err != nil {
		return "", "account", err
	}
	return "/account?flash=revoked", "", nil
}
