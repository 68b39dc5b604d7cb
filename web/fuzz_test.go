package web_test

import (
	"net/http"
	"strings"
	"testing"
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
