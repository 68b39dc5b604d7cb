// Package testdata reads the real public data that tests check steward
// against (../shared/data beside the repository): zone files, above all the
// real root zone, parsed once per test binary.
package testdata

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Shared returns the path of a file under ../shared/data, wherever the
// calling test runs.
func Shared(elem ...string) string {
	_, file, _, _ := runtime.Caller(0) // …/internal/testdata/testdata.go
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return filepath.Join(append([]string{root, "..", "shared", "data"}, elem...)...)
}

// RootZoneFile is the real root zone of 11 May 2023, signed with NSEC.
var RootZoneFile = Shared("root-zone", "root.zone.2023051100")

// Missing skips a test whose shared data is missing, except under CI
// (env CI set), where the data is always there and the test fails.
func Missing(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("shared test data missing: %v", err)
	}
	tb.Skipf("shared test data missing: %v", err)
}

// ReadZone parses a zone file with miekg/dns, failing the test on any
// error (and skipping it, outside CI, when the file does not exist).
func ReadZone(tb testing.TB, path, origin string) []dns.RR {
	tb.Helper()
	rrs, err := parseZone(path, origin)
	if errors.Is(err, fs.ErrNotExist) {
		Missing(tb, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return rrs
}

func parseZone(path, origin string) ([]dns.RR, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, origin, path)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	return rrs, zp.Err()
}

var (
	rootOnce sync.Once
	rootRRs  []dns.RR
	rootErr  error
)

// RootZone returns the records of the real root zone, DNSSEC records and
// all, parsed once and copied for each caller, who may modify them.
func RootZone(tb testing.TB) []dns.RR {
	tb.Helper()
	rootOnce.Do(func() { rootRRs, rootErr = parseZone(RootZoneFile, ".") })
	if errors.Is(rootErr, fs.ErrNotExist) {
		Missing(tb, rootErr)
	}
	if rootErr != nil {
		tb.Fatal(rootErr)
	}
	// A copy for each caller: packing a record writes its header, and
	// tests that run in parallel would write the same records.
	out := make([]dns.RR, len(rootRRs))
	for i, rr := range rootRRs {
		out[i] = dns.Copy(rr)
	}
	return out
}
