package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"steward/rdap"
	"steward/web"
)

// BenchmarkRDAPLookup is one ip or autnum lookup through the whole HTTP
// handler (middleware included), answered from the snapshot of a follower
// as serve runs it, over AFRINIC's real statistics. Distinct objects are
// rendered once and then served from memory; bench/rdap.sh measures the
// same over loopback under wrk.
func BenchmarkRDAPLookup(b *testing.B) {
	f := numbersFixtureTB(b, newFixture(b))
	fol := rdap.NewFollower(rdap.FollowerConfig{Source: f.store})
	if _, err := fol.Update(context.Background()); err != nil {
		b.Fatal(err)
	}
	h := web.New(web.Config{Store: f.store, Clock: f.clock, Logger: discardLogger, RDAP: fol}).Handler()
	var paths []string
	for i := range 1024 {
		paths = append(paths, fmt.Sprintf("/rdap/autnum/%d", 36864+i%1024))
	}
	paths = append(paths, "/rdap/ip/2001:4200::1", "/rdap/ip/41.0.0.1", "/rdap/ip/102.0.0.1")
	b.ResetTimer()
	for i := range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://steward.test"+paths[i%len(paths)], nil))
	}
}
