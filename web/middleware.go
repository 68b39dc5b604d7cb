package web

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"steward"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "steward_http_request_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.seconds)
	return m
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one structured log line per request and the metrics.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		ev := &requestEvent{}
		r = r.WithContext(withEvent(r.Context(), ev))
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if s.metrics != nil {
			s.metrics.requests.WithLabelValues(route, statusCode(sw.status)).Inc()
			s.metrics.seconds.WithLabelValues(route).Observe(d.Seconds())
		}
		level := slogLevel(sw.status)
		if !s.log.Enabled(r.Context(), level) {
			return // the line's attributes would cost allocations for nothing
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", sw.status,
			"bytes", sw.bytes, "seconds", d.Seconds(), "remote", r.RemoteAddr}
		if ev.actor != "" {
			attrs = append(attrs, "actor", ev.actor)
		}
		if ev.err != nil {
			attrs = append(attrs, "err", ev.err.Error())
		}
		s.log.Log(r.Context(), level, "request", attrs...)
	})
}

// statusCode is strconv.Itoa(code), without an allocation for the common
// codes.
func statusCode(code int) string {
	switch code {
	case http.StatusOK:
		return "200"
	case http.StatusNotFound:
		return "404"
	case http.StatusSeeOther:
		return "303"
	case http.StatusNotModified:
		return "304"
	case http.StatusBadRequest:
		return "400"
	}
	return strconv.Itoa(code)
}

// Header values every response carries, set without allocating: a header's
// value slice has length and capacity one, so a later Add appends to a
// copy, never to these.
var (
	hdrNosniff    = []string{"nosniff"}
	hdrSameOrigin = []string{"same-origin"}
	hdrDeny       = []string{"DENY"}
	hdrCSP        = []string{"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"}
)

// securityHeaders sets headers every response carries.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = hdrNosniff
		h["Referrer-Policy"] = hdrSameOrigin
		h["X-Frame-Options"] = hdrDeny
		h["Content-Security-Policy"] = hdrCSP
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// limiter is a per-client-address token bucket for endpoints that cost the
// server (password hashing) or invite guessing (login, registration).
type limiter struct {
	mu    sync.Mutex
	clock steward.Clock
	m     map[string]*rate.Limiter
	seen  map[string]time.Time
}

func newLimiter(c steward.Clock) *limiter {
	return &limiter{clock: c, m: map[string]*rate.Limiter{}, seen: map[string]time.Time{}}
}

// allow reports whether a request from addr may proceed: 10 at once, then
// one every 3 seconds.
func (l *limiter) allow(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) > 10000 { // forget idle clients
		for k, t := range l.seen {
			if now.Sub(t) > 10*time.Minute {
				delete(l.m, k)
				delete(l.seen, k)
			}
		}
	}
	lim, ok := l.m[host]
	if !ok {
		lim = rate.NewLimiter(rate.Every(3*time.Second), 10)
		l.m[host] = lim
	}
	l.seen[host] = now
	return lim.AllowN(now, 1)
}

func (s *Server) limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.limiter.allow(r.RemoteAddr) {
			w.Header().Set("Retry-After", "3")
			s.problem(w, r, &steward.Error{Code: "rate_limited", Message: "too many requests from your address; try again in a few seconds"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
