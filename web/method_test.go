package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMethods checks 405 with Allow on known API paths, 404 on unknown
// ones, and ETags on HEAD and If-None-Match: *.
func TestMethods(t *testing.T) {
	f := newFixture(t)
	c := f.anon().on(t)
	resp := c.do(http.MethodPut, "/api/v1/instance", strings.NewReader("{}"), "Content-Type", "application/json")
	checkProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed", "PUT")
	if allow := resp.Header.Get("Allow"); allow != "GET" {
		t.Errorf("Allow = %q, want GET", allow)
	}
	resp = c.do(http.MethodDelete, "/api/v1/participants", nil)
	checkProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed")
	if allow := resp.Header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow = %q, want GET, POST", allow)
	}
	checkProblem(t, c.get("/api/v1/nothing-here"), http.StatusNotFound, "not_found")

	resp = c.do(http.MethodHead, "/api/v1/instance", nil)
	readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		t.Errorf("HEAD: %s, ETag %q", resp.Status, resp.Header.Get("ETag"))
	}
	resp = c.get("/api/v1/instance", "If-None-Match", "*")
	readBody(t, resp)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: * gave %s", resp.Status)
	}
}
