// Package web is steward's HTTP face: the server-rendered web UI, the JSON
// API under /api/v1/ (described by /api/v1/openapi.json), the log in the
// C2SP tlog-tiles layout under /log/, and Prometheus metrics at /metrics.
//
// Domain errors map to HTTP statuses in one place (status), and every API
// error is an RFC 9457 problem document.
package web

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
	"steward/numbers"
	"steward/rdap"
)

// Store is what the web needs of a store.
type Store interface {
	steward.StateReader
	steward.SecretReader
	Do(ctx context.Context, cmd steward.Command) (any, error)
	CreateSession(ctx context.Context, s steward.Session) error
	Session(ctx context.Context, id string, now time.Time) (*steward.Session, error)
	DeleteSession(ctx context.Context, id string, now time.Time) error
	LatestCheckpoint(ctx context.Context) ([]byte, error)
	Head(ctx context.Context) (int64, ledger.Digest, error)
	Tile(ctx context.Context, t tlog.Tile) ([]byte, error)
	Entries(ctx context.Context, start, end int64) ([][]byte, error)
	HashReader(ctx context.Context) tlog.HashReader
}

// Config configures a Server.
type Config struct {
	Store    Store
	Clock    steward.Clock
	Logger   *slog.Logger
	Gatherer prometheus.Gatherer // for /metrics; nil serves none
	// VerifierKey is the log's note verifier key, served at /log/key.
	VerifierKey string
	// SessionKey authenticates CSRF tokens; 32 random bytes.
	SessionKey []byte
	// InsecureCookies drops the Secure attribute from cookies, for plain
	// HTTP on a host other than localhost. Off by default.
	InsecureCookies bool
	// PasswordParams are the argon2id costs for new passwords.
	PasswordParams steward.PasswordParams
	// MaxBodyBytes limits request bodies; default 1 MiB.
	MaxBodyBytes int64
	// Published returns the published root zone's files, or nil before
	// there is one. Nil serves none.
	Published func() *Published
	// RDAP keeps the snapshot RDAP answers from current (serve runs it);
	// nil makes the server follow the ledger itself on each RDAP request.
	RDAP *rdap.Follower
	// RequestsChanged, if set, is called after every action on a change
	// request (to wake the workflow runner).
	RequestsChanged func()
}

// Server serves steward over HTTP.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	srv     *http.Server
	ln      net.Listener
	limiter *limiter
	metrics *httpMetrics
	rdapOwn *rdap.Follower
	forum   *forumState
	numbers *numbers.Live
}

// New builds a Server; it does no I/O.
func New(cfg Config) *Server {
	if cfg.Clock == nil {
		cfg.Clock = steward.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.PasswordParams == (steward.PasswordParams{}) {
		cfg.PasswordParams = steward.DefaultPasswordParams
	}
	if len(cfg.SessionKey) == 0 {
		cfg.SessionKey = make([]byte, 32)
		_, _ = rand.Read(cfg.SessionKey)
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "http"), mux: http.NewServeMux(), limiter: newLimiter(cfg.Clock)}
	s.routes()
	if cfg.Gatherer != nil {
		if reg, ok := cfg.Gatherer.(prometheus.Registerer); ok {
			s.metrics = newHTTPMetrics(reg)
		}
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	s.handler = s.logRequests(s.securityHeaders(cop.Handler(s.mux)))
	return s
}

// crossOriginDenied answers a request that http.CrossOriginProtection
// refuses: a problem document for the API, an error page for the UI.
func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	err := steward.Errorf(steward.EFORBIDDEN, "cross-origin request refused: this site accepts changes only from its own pages or from API clients")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.problem(w, r, err)
		return
	}
	eventOf(r.Context()).err = err
	s.render(w, r, http.StatusForbidden, "error", &page{Title: steward.ErrorMessage(err)}, nil)
}

// Handler returns the server's root handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Open listens on addr and serves in the background.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close shuts the server down, letting requests in flight finish within
// the context's deadline.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

func (s *Server) routes() {
	m := s.mux
	// The log, C2SP tlog-tiles.
	m.HandleFunc("GET /log/checkpoint", s.logCheckpoint)
	m.HandleFunc("GET /log/key", s.logKey)
	m.HandleFunc("GET /log/tile/", s.logTile)

	// The published root zone.
	m.HandleFunc("GET /zone/{file}", s.zoneFile)

	// The JSON API.
	m.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	m.Handle("GET /api/v1/instance", s.api(s.apiInstance))
	m.Handle("GET /api/v1/charter", s.api(s.apiCharter))
	m.Handle("GET /api/v1/charter/versions/{version}", s.api(s.apiCharterVersion))
	m.Handle("POST /api/v1/charter/check", s.api(s.apiCharterCheck))
	m.Handle("GET /api/v1/participants", s.api(s.apiParticipants))
	m.Handle("POST /api/v1/participants", s.limited(s.api(s.apiRegister)))
	m.Handle("GET /api/v1/participants/{handle}", s.api(s.apiParticipant))
	m.Handle("PATCH /api/v1/participants/{handle}", s.api(s.apiUpdateParticipant))
	m.Handle("GET /api/v1/participants/{handle}/roles", s.api(s.apiRoles))
	m.Handle("POST /api/v1/participants/{handle}/roles", s.api(s.apiGrantRole))
	m.Handle("DELETE /api/v1/participants/{handle}/roles/{role}", s.api(s.apiRevokeRole))
	m.Handle("GET /api/v1/bodies", s.api(s.apiBodies))
	m.Handle("GET /api/v1/bodies/{body}", s.api(s.apiBody))
	m.Handle("POST /api/v1/bodies/{body}/members", s.api(s.apiSeat))
	m.Handle("DELETE /api/v1/bodies/{body}/members/{handle}", s.api(s.apiUnseat))
	m.Handle("PUT /api/v1/bodies/{body}/chair", s.api(s.apiSetChair))
	m.Handle("POST /api/v1/tokens", s.limited(s.api(s.apiIssueToken)))
	m.Handle("GET /api/v1/tokens", s.api(s.apiTokens))
	m.Handle("DELETE /api/v1/tokens/{id}", s.api(s.apiRevokeToken))
	m.Handle("GET /api/v1/me", s.api(s.apiMe))
	m.Handle("GET /api/v1/log/checkpoint", s.api(s.apiCheckpoint))
	m.Handle("GET /api/v1/log/entries", s.api(s.apiEntries))
	m.Handle("GET /api/v1/log/entries/{seq}", s.api(s.apiEntry))
	m.Handle("GET /api/v1/log/proof/inclusion", s.api(s.apiInclusionProof))
	m.Handle("GET /api/v1/log/proof/consistency", s.api(s.apiConsistencyProof))
	m.Handle("GET /api/v1/state", s.api(s.apiState))
	m.Handle("GET /api/v1/tlds", s.api(s.apiTLDs))
	m.Handle("GET /api/v1/tlds/{name}", s.api(s.apiTLD))
	m.Handle("GET /api/v1/zone/apex", s.api(s.apiApex))
	s.requestRoutes(m)
	s.policyRoutes(m)
	m.Handle("/api/", s.api(s.apiFallback))

	// Operations.
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	if g := s.cfg.Gatherer; g != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}

	s.rdapRoutes(m)
	s.numberRoutes(m)
	s.paramRoutes(m)

	// The web UI.
	s.uiRoutes()
	s.forumRoutes(m)
}

//go:embed openapi.json
var openAPIDoc []byte

// GET /api/v1/openapi.json: the OpenAPI description of the JSON API.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDoc)
}

// apiFallback answers API requests no route matched: 405 with an Allow
// header if the path exists for other methods, else 404.
func (s *Server) apiFallback(r *http.Request) (any, error) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		return nil, &methodNotAllowed{allow: strings.Join(allow, ", "), method: r.Method}
	}
	return nil, steward.Errorf(steward.ENOTFOUND, "no such API endpoint")
}

// methodNotAllowed is the error of a request whose path exists for other
// methods.
type methodNotAllowed struct{ allow, method string }

func (e *methodNotAllowed) Error() string { return e.method + " not allowed" }
