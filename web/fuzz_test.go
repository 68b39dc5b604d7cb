package web_test

import (
	"net/http"
	"strings"
	"testing"

	"steward"
)

// FuzzAPIJSON posts arbitrary bodies to the JSON writes that anyone, or
// any participant, may send: registration and a profile update with a
// valid token. Whatever the body, the answer is never a 5xx and the server
// never panics; a refusal is a problem document.
func FuzzAPIJSON(f *testing.F) {
	seeds := []string{
		`{"handle":"carol","name":"Carol","group":"civil-society","region":"europe","languages":["en"],"email":"carol@example.org","password":"correct horse battery"}`,
		`{"handle":"dave","name":"Dave","group":"government","affiliation":"Ministry","region":"africa","languages":["fr","ar-EG"],"email":"dave@example.org","password":"0123456789"}`,
		`{"name":"Alice Liddell"}`,
		`{"affiliation":"Wonderland","languages":["en-GB","sw"]}`,
		`{"languages":null,"name":null}`,
		`{}`,
		``,
		`null`,
		`[]`,
		`"string"`,
		`{"handle":`,
		`{"handle":"carol"}}`,
		`{"handle":"carol"} {"handle":"dave"}`,
		`{"nickname":"x"}`,
		`{"languages":"en"}`,
		`{"languages":["en","en","en","en","en","en","en","en","en","en","en"]}`,
		`{"languages":["\u0000"]}`,
		`{"name":"\ud800"}`,
		`{"name":"` + strings.Repeat("é", 101) + `"}`,
		`{"handle":"eve","name":"Eve","group":"civil-society","region":"europe","languages":["en"],"email":"\"e v e\"@example.org","password":"correct horse battery"}`,
		`{"handle":"zoë","email":"zoë@example.org","password":"` + strings.Repeat("p", 2000) + `"}`,
		`{"name":1e999}`,
		`{"handle":"a","handle":"b"}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	fx := newFixture(f)
	anon := fx.anon()
	alice := fx.as(aliceHandle)
	f.Fuzz(func(t *testing.T, body string) {
		for _, r := range []struct {
			c            *client
			method, path string
		}{
			{anon, http.MethodPost, "/api/v1/participants"},
			{alice, http.MethodPatch, "/api/v1/participants/alice"},
		} {
			resp := r.c.on(t).do(r.method, r.path, strings.NewReader(body), "Content-Type", "application/json")
			got := readBody(t, resp)
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s with %q: %s %s", r.method, r.path, body, resp.Status, got)
			}
			if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %s with %q: %s is not a problem document", r.method, r.path, body, resp.Status)
			}
		}
	})
}

// FuzzRequestJSON submits arbitrary change requests, and actions on them,
// as a TLD's contact. Whatever the body, the answer is never a 5xx; a
// refusal is a problem document, and a refused submission writes nothing
// but, where it is a security event, its refusal.
func FuzzRequestJSON(f *testing.F) {
	for _, s := range []string{
		`{"kind":"tld.delegate","tld":"fresh","change":{"ns":["ns1.fresh.","ns2.fresh."],"glue":[{"name":"ns1.fresh.","addrs":["192.0.2.1"]}],"manager":"M","contacts":["alice"]}}`,
		`{"kind":"tld.update-ns","tld":"example","change":{"ns":["a.example.net."]}}`,
		`{"kind":"tld.update-ds","tld":"example","change":{"ds":[{"key_tag":1,"algorithm":13,"digest_type":2,"digest":"ABCD"}]}}`,
		`{"kind":"tld.update-ds","tld":"example","change":{"ds":[{"key_tag":70000,"algorithm":13}]}}`,
		`{"kind":"tld.transfer","tld":"example","change":{"manager":"","contacts":[]}}`,
		`{"kind":"tld.remove","tld":"."}`,
		`{"kind":"tld.delegate","tld":"xn--","change":{"ns":["-.-."],"glue":[{"name":"x","addrs":["::ffff:1.2.3.4","1.2.3.4.5"]}]}}`,
		`{"kind":"tld.update-contacts","tld":"example","change":{"contacts":["alice","ALICE","` + strings.Repeat("a", 100) + `"]}}`,
		`{"body":"members","vote":"yes","text":"fine"}`,
		`{"vote":"maybe"}`,
		`{"kind":null}`, `[]`, ``, `{`,
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	fx.do(f, steward.ImportRootZone(steward.ActorImport, steward.RootZoneImport{
		Apex: steward.Apex{MName: "a.root.example.", RName: "hostmaster.example.", Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400, SOATTL: 86400,
			NS: []string{"a.root.example."}, NSTTL: 518400, DelegationTTL: 172800, DSTTL: 86400, Glue: []steward.Glue{{Name: "a.root.example.", Addrs: []string{"192.0.2.53"}}}},
		TLDs: []steward.TLD{{Name: "example", NS: []string{"ns1.example.net.", "ns2.example.net."}}},
	}))
	fx.do(f, steward.GrantRole(opHandle, steward.Grant{Participant: aliceHandle, Role: steward.RoleResourceContact, Scope: "tld:example"}))
	alice := fx.as(aliceHandle)
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/api/v1/requests", "/api/v1/requests/1/vote", "/api/v1/requests/1/withdraw"} {
			resp := alice.on(t).do(http.MethodPost, path, strings.NewReader(body), "Content-Type", "application/json")
			got := readBody(t, resp)
			if resp.StatusCode >= 500 {
				t.Fatalf("POST %s with %q: %s %s", path, body, resp.Status, got)
			}
			if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("POST %s with %q: %s is not a problem document", path, body, resp.Status)
			}
		}
	})
}
