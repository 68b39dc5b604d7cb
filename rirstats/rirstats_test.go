package rirstats_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"steward"
	"steward/internal/testdata"
	"steward/rirstats"
)

// realFiles returns the real statistics files under shared/data.
func realFiles(t testing.TB) []string {
	t.Helper()
	dir := testdata.Shared("rir-stats")
	files, err := filepath.Glob(filepath.Join(dir, "delegated-*"))
	if err == nil && len(files) == 0 {
		err = os.ErrNotExist
	}
	if err != nil {
		testdata.Missing(t, err)
	}
	more, _ := filepath.Glob(filepath.Join(dir, "20c-rdap-samples", "delegated-*"))
	return append(files, more...)
}

// contentLines returns a file's lines as content: comments and blank lines
// dropped, trailing blanks and a trailing empty opaque id trimmed, records
// sorted.
func contentLines(data []byte) []string {
	var head, recs []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, " \t\r")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if n := strings.Count(l, "|"); n == 7 {
			l = strings.TrimSuffix(l, "|")
		}
		if strings.HasSuffix(l, "|summary") || strings.Count(l, "|") == 6 && !strings.Contains(l, "|*|") && len(recs) == 0 && len(head) == 0 && strings.HasPrefix(l, "2") {
			head = append(head, l)
			continue
		}
		recs = append(recs, l)
	}
	slices.Sort(recs)
	return append(head, recs...)
}

func TestRoundTripRealFiles(t *testing.T) {
	for _, path := range realFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := rirstats.Parse(path, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			blocks := make([]*steward.Block, len(f.Blocks))
			for i := range f.Blocks {
				blocks[i] = &f.Blocks[i]
			}
			if err := steward.CheckNesting(blocks); err != nil {
				t.Fatalf("the file's records do not nest: %v", err)
			}
			var out bytes.Buffer
			if err := rirstats.Write(&out, &f.Header, blocks); err != nil {
				t.Fatal(err)
			}
			want, got := contentLines(data), contentLines(out.Bytes())
			if !slices.Equal(want, got) {
				for i := range min(len(want), len(got)) {
					if want[i] != got[i] {
						t.Fatalf("line %d differs:\n got %q\nwant %q", i, got[i], want[i])
					}
				}
				t.Fatalf("got %d content lines, want %d", len(got), len(want))
			}
			// Parsing the written file gives the same records.
			again, err := rirstats.Parse("out", &out)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Blocks) != len(f.Blocks) || again.Header.Registry != f.Header.Registry {
				t.Fatalf("re-read %d records of %s, want %d of %s", len(again.Blocks), again.Header.Registry, len(f.Blocks), f.Header.Registry)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	const head = "2|apnic|20140701|2|19850701|20140630|+1000\napnic|*|ipv4|*|2|summary\n"
	for _, tt := range []struct {
		name, file string
		line       int
		want       string
	}{
		{"bad address", head + "apnic|JP|ipv4|1.2.3|256|20020801|allocated\napnic|JP|ipv4|1.2.4.0|256|20020801|allocated\n", 3, "not an IPv4 address"},
		{"bad count", head + "apnic|JP|ipv4|1.2.3.0|x|20020801|allocated\n", 3, "not a count"},
		{"zero count", head + "apnic|JP|ipv4|1.2.3.0|0|20020801|allocated\n", 3, "want 1"},
		{"past the end", head + "apnic|JP|ipv4|255.255.255.0|512|20020801|allocated\n", 3, "want 1"},
		{"misaligned ipv6", "apnic|JP|ipv6|2001:200::1|32|20020801|allocated\n", 1, "not aligned"},
		{"ipv6 length", "apnic|JP|ipv6|2001:200::|129|20020801|allocated\n", 1, "0 to 128"},
		{"asn out of range", "apnic|JP|asn|4294967295|2|20020801|allocated\n", 1, "4294967295"},
		{"asn not a number", "apnic|JP|asn|AS1|1|20020801|allocated\n", 1, "AS number"},
		{"status", "apnic|JP|asn|1|1|20020801|taken\n", 1, "status"},
		{"fields", "apnic|JP|asn|1|1|20020801\n", 1, "fields"},
		{"country", "apnic|jp|asn|1|1|20020801|allocated\n", 1, "country"},
		{"date", "apnic|JP|asn|1|1|2002-08-01|allocated\n", 1, "date"},
		{"type", "apnic|JP|ipv5|1|1|20020801|allocated\n", 1, "type"},
		{"other registry", "apnic|JP|asn|1|1|20020801|allocated\narin|US|asn|2|1|20020801|allocated\n", 2, "registry"},
		{"summary count", head + "apnic|JP|ipv4|1.2.3.0|256|20020801|allocated\n", 3, "summary counts 2"},
		{"no summary", "2|apnic|20140701|1|19850701|20140630|+1000\napnic|*|asn|*|0|summary\napnic|JP|ipv4|1.2.3.0|256|20020801|allocated\n", 3, "no ipv4 summary"},
		{"empty", "# nothing\n", 1, "not a statistics file"},
		{"bad offset", "2|apnic|20140701|0|19850701|20140630|+10:00\n", 1, "UTC offset"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rirstats.Parse("f", strings.NewReader(tt.file))
			var pe *rirstats.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v; want a *rirstats.Error", err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.want) {
				t.Fatalf("Parse = %v; want line %d and %q", err, tt.line, tt.want)
			}
		})
	}
}

func TestNonCIDRCountsKeepTheirRange(t *testing.T) {
	f, err := rirstats.Parse("f", strings.NewReader("ripencc|FR|ipv4|2.0.1.0|768|20100712|allocated\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := f.Blocks[0]
	if b.First != "2.0.1.0" || b.Last != "2.0.3.255" {
		t.Fatalf("range %s-%s; want 2.0.1.0-2.0.3.255", b.First, b.Last)
	}
	ps := b.Prefixes()
	if len(ps) != 2 || ps[0].String() != "2.0.1.0/24" || ps[1].String() != "2.0.2.0/23" {
		t.Fatalf("Prefixes = %v; want 2.0.1.0/24 2.0.2.0/23", ps)
	}
	if got := rirstats.Line(&b, false); got != "ripencc|FR|ipv4|2.0.1.0|768|20100712|allocated" {
		t.Fatalf("Line = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, path := range realFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		// Seed with the head of each real file: version, summaries and the
		// first records (the whole file is too large a seed).
		lines := strings.SplitAfter(string(data), "\n")
		f.Add([]byte(strings.Join(lines[:min(len(lines), 60)], "")))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := rirstats.Parse("fuzz", bytes.NewReader(data))
		if err != nil {
			var pe *rirstats.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *rirstats.Error", err)
			}
			return
		}
		blocks := make([]*steward.Block, len(sf.Blocks))
		for i := range sf.Blocks {
			blocks[i] = &sf.Blocks[i]
			if err := blocks[i].Normalize(); err != nil {
				t.Fatalf("parsed block does not normalize: %v", err)
			}
		}
		var out bytes.Buffer
		if err := rirstats.Write(&out, &sf.Header, blocks); err != nil {
			t.Fatal(err)
		}
		again, err := rirstats.Parse("again", &out)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, out.Bytes())
		}
		if len(again.Blocks) != len(sf.Blocks) {
			t.Fatalf("re-read %d records, want %d", len(again.Blocks), len(sf.Blocks))
		}
	})
}
