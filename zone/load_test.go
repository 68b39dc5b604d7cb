package zone

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"steward/zonegen"
)

// TestLoadParallel: a large file in canonical order is read in chunks
// (here of 8 KiB, so that names and records fall on every kind of edge)
// into the same zone as the sequential reader gives; files the chunked
// reader does not take (names out of order, a name's records apart) are
// read by the sequential reader all the same.
func TestLoadParallel(t *testing.T) {
	defer func(n int) { chunkSize = n }(chunkSize)
	chunkSize = 8 << 10

	var gen bytes.Buffer
	if _, err := zonegen.Generate(&gen, zonegen.Options{Delegations: 1500, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	// Signed-looking records and types the reader hands to miekg/dns.
	extra := `.	86400	IN	NSEC	aaa. NS SOA RRSIG NSEC DNSKEY ZONEMD
.	86400	IN	RRSIG	SOA 13 0 86400 20240201000000 20240101000000 12345 . dGVzdHNpZ25hdHVyZXRlc3RzaWduYXR1cmV0ZXN0c2lnbmF0dXJldGVzdHNpZ24=
.	86400	IN	DNSKEY	257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
.	86400	IN	ZONEMD	2024010100 1 1 ` + strings.Repeat("AB", 48) + `
x.example-steward.	3600	IN	TXT	"hello world" "two"
y.example-steward.	3600	IN	AAAA	::ffff:192.0.2.1
y.example-steward.	3600	IN	A	1.2.3.4
`
	want, err := loadParsed(strings.NewReader(gen.String()+extra), "gen.zone", ".")
	if err != nil {
		t.Fatal(err)
	}
	var canonical bytes.Buffer
	if err := want.Write(&canonical); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(canonical.String(), "\n")
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		text     string
		parallel bool
	}{
		{"canonical", canonical.String(), true},
		{"CRLF and blank lines", strings.ReplaceAll(canonical.String(), "\n", "\r\n\n"), true},
		{"a name's records apart", strings.Join(slices.Concat(lines[:1], lines[2:], lines[1:2]), ""), false},
		{"generated order", gen.String() + extra, false},
		{"reversed", strings.Join(slices.Concat(lines[:1], reversed(lines[1:])), ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(file, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, perr := loadParallel(f, 0, int64(len(tc.text)))
			if (perr == nil) != tc.parallel {
				t.Errorf("read in chunks: %v, want %v", perr == nil, tc.parallel)
			}
			z, err := Load(f, file, ".")
			if err != nil {
				t.Fatal(err)
			}
			// The sequential reader keeps a name's records of a type in
			// the order read: the same zone as from that text.
			want, err := loadParsed(strings.NewReader(tc.text), file, ".")
			if err != nil {
				t.Fatal(err)
			}
			if d := sameZone(z, want); d != "" {
				t.Fatalf("zone differs: %s", d)
			}
			if !slices.Equal(z.Names(), want.Names()) || z.Serial != want.Serial {
				t.Fatal("names or serial differ")
			}
			for _, n := range want.Names() {
				if !z.HasName(n) || !slices.Equal(z.Types(n), want.Types(n)) {
					t.Fatalf("%s: types %v, want %v", n, z.Types(n), want.Types(n))
				}
			}
		})
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
