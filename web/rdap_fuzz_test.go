package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"steward"
)

// FuzzRDAPQuery sends arbitrary lookups and searches: every answer is
// either a response or an RFC 9083 error body with a 4xx status, never a
// 5xx and never a panic.
func FuzzRDAPQuery(f *testing.F) {
	for _, s := range []string{
		"domain/org", "domain/%D1%80%D1%84", "domain/xn--p1ai.", "domain/a..b", "domain/-", "domain/" + strings.Repeat("a", 70),
		"domain/xn--zz", "domain/ORG", "domain/ex%00ample", "nameserver/ns1.org", "nameserver/_dmarc.x", "entity/alice",
		"entity/%FF", "entity/a*", "ip/192.0.2.1", "ip/192.0.2.0/24", "ip/2001:db8::/32", "ip/::ffff:1.2.3.4", "ip/1.2.3.4/",
		"ip/1.2.3.4/024", "ip/1.2.3.4/8/9", "ip/fe80::1%25lo", "autnum/0", "autnum/4294967295", "autnum/AS64496", "autnum/-1",
		"domains?name=ex*", "domains?name=*", "domains?name=%E2%82%AC*", "domains?name=.*", "nameservers?name=ns*",
		"nameservers?ip=::1", "entities?fn=Pub*", "entities?handle=**", "entities?fn=%00*", "help", "bootstrap/dns.json",
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	fx.do(f, steward.ImportRootZone(steward.ActorImport, rdapRoot()))
	f.Fuzz(func(t *testing.T, q string) {
		u, err := url.Parse("/rdap/" + q)
		if err != nil || !strings.HasPrefix(u.Path, "/rdap/") {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "http://steward.test/rdap/", nil)
		req.URL = u
		req.RemoteAddr = fx.nextAddr()
		rec := httptest.NewRecorder()
		fx.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d %s", q, rec.Code, rec.Body)
		}
		if rec.Code >= 300 && rec.Code < 400 {
			return // the mux cleans paths by redirecting
		}
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%q: %d, body is not JSON: %v", q, rec.Code, err)
		}
		if rec.Code >= 400 {
			if code, _ := body["errorCode"].(float64); int(code) != rec.Code {
				t.Fatalf("%q: %d with errorCode %v", q, rec.Code, body["errorCode"])
			}
		}
	})
}
