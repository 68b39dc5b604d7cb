package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"steward/web"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resp := f.anon().get("/healthz")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || body != "ok\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("healthz: %s %q %q", resp.Status, resp.Header.Get("Content-Type"), body)
	}
}

// TestMetrics checks that /metrics is served only with a Gatherer, and then
// counts requests by route pattern (not by raw path).
func TestMetrics(t *testing.T) {
	t.Parallel()
	t.Run("without-gatherer", func(t *testing.T) {
		f := newFixture(t)
		resp := f.anon().get("/metrics")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "steward_http_requests_total") {
			t.Errorf("/metrics without a gatherer: %s", resp.Status)
		}
	})
	t.Run("with-gatherer", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		f := newFixture(t, func(c *web.Config) { c.Gatherer = reg })
		c := f.anon()
		readBody(t, c.get("/api/v1/participants/alice"))
		readBody(t, c.get("/api/v1/participants/ghost"))
		resp := c.get("/metrics")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("/metrics: %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`steward_http_requests_total{code="200",route="GET /api/v1/participants/{handle}"} 1`,
			`steward_http_requests_total{code="404",route="GET /api/v1/participants/{handle}"} 1`,
			`steward_http_request_seconds_bucket{route="GET /api/v1/participants/{handle}"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(body, "ghost") {
			t.Errorf("/metrics labels hold a raw path")
		}
	})
}

// TestSecurityHeaders checks the headers every response carries.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, p := range []string{"/", "/api/v1/instance", "/log/checkpoint", "/no-such-page", "/static/style.css"} {
		resp := f.anon().get(p)
		readBody(t, resp)
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "same-origin",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %s %q, want %q", p, h, got, want)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
}
