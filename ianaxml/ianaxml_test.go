package ianaxml_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steward"
	"steward/ianaxml"
	"steward/internal/testdata"
)

func files(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, n := range []string{"ipv4-address-space.xml", "ipv6-unicast-address-assignments.xml", "ipv6-address-space.xml"} {
		p := testdata.Shared("iana-registries", n)
		if _, err := os.Stat(p); err != nil {
			testdata.Missing(t, err)
		}
		out = append(out, p)
	}
	return append(out, filepath.Join("testdata", "as-numbers.xml"))
}

func parse(t testing.TB, path string) (*steward.IANAFile, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ianaxml.Parse(path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f, data
}

func ptrs(f *steward.IANAFile) []*steward.Block {
	out := make([]*steward.Block, len(f.Blocks))
	for i := range f.Blocks {
		out[i] = &f.Blocks[i]
	}
	return out
}

// TestRoundTrip writes each real registry back byte for byte.
func TestRoundTrip(t *testing.T) {
	for _, path := range files(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, data := parse(t, path)
			if err := steward.CheckNesting(ptrs(f)); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := ianaxml.Write(&out, &f.Registry, ptrs(f)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("written file differs from %s (%d bytes, want %d)", path, out.Len(), len(data))
			}
			// Written without the raw records, in IANA's layout, it reads
			// back to the same blocks.
			for i := range f.Blocks {
				f.Blocks[i].IANA.Raw = ""
			}
			out.Reset()
			if err := ianaxml.Write(&out, &f.Registry, ptrs(f)); err != nil {
				t.Fatal(err)
			}
			again, err := ianaxml.Parse("again", &out)
			if err != nil {
				t.Fatalf("%v\n%s", err, out.Bytes())
			}
			if len(again.Blocks) != len(f.Blocks) {
				t.Fatalf("re-read %d records, want %d", len(again.Blocks), len(f.Blocks))
			}
			for i := range f.Blocks {
				a, b := f.Blocks[i], again.Blocks[i]
				if a.Key() != b.Key() || a.Status != b.Status || a.Holder != b.Holder || a.Date != b.Date {
					t.Fatalf("record %d: %+v, re-read as %+v", i, a, b)
				}
			}
			var csvOut bytes.Buffer
			if err := ianaxml.WriteCSV(&csvOut, &f.Registry, ptrs(f)); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&csvOut).ReadAll()
			if err != nil || len(rows) != len(f.Blocks)+1 {
				t.Fatalf("CSV: %d rows, %v", len(rows), err)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	f, _ := parse(t, testdata.Shared("iana-registries", "ipv4-address-space.xml"))
	want := map[string]string{
		"1.0.0.0/8":   "allocated apnic",
		"3.0.0.0/8":   "allocated arin", // LEGACY, administered by ARIN
		"0.0.0.0/8":   "reserved ",      // local identification
		"224.0.0.0/8": "reserved ",      // multicast
		"17.0.0.0/8":  "assigned ",      // LEGACY, Apple
		"41.0.0.0/8":  "allocated afrinic",
	}
	for _, b := range f.Blocks {
		if w, ok := want[b.Label()]; ok {
			if got := b.Status + " " + b.Holder; got != w {
				t.Errorf("%s: %q; want %q", b.Label(), got, w)
			}
			delete(want, b.Label())
		}
	}
	if len(want) > 0 {
		t.Errorf("not found: %v", want)
	}
	as, _ := parse(t, filepath.Join("testdata", "as-numbers.xml"))
	if b := as.Blocks[1]; b.Label() != "AS1-AS1876" || b.Holder != "arin" || b.IANA.Registry != "as-numbers-1" {
		t.Errorf("as-numbers record 1: %+v", b)
	}
	if b := as.Blocks[len(as.Blocks)-1]; b.Status != "available" || b.IANA.Registry != "as-numbers-2" {
		t.Errorf("as-numbers last record: %+v", b)
	}
	v6, _ := parse(t, testdata.Shared("iana-registries", "ipv6-address-space.xml"))
	for _, b := range v6.Blocks {
		if b.Label() == "2000::/3" && (b.Registry != "ietf" || b.Holder != "iana") {
			t.Errorf("2000::/3: %+v", b)
		}
	}
}

func TestMalformed(t *testing.T) {
	head := `<?xml version='1.0' encoding='UTF-8'?>
<registry xmlns="http://www.iana.org/assignments" id="ipv4-address-space">
  <title>T</title>
`
	for _, tt := range []struct {
		name, text string
		line       int
		want       string
	}{
		{"syntax", head + "  <record><prefix>001/8</prefix>\n</registry>\n", 5, "element"},
		{"bad prefix", head + "  <record>\n<prefix>1.2.3/8</prefix><status>ALLOCATED</status></record>\n</registry>\n", 4, "not an address"},
		{"misaligned", head + "  <record>\n<prefix>10.0.0.1/8</prefix></record>\n</registry>\n", 4, "not aligned"},
		{"octet", head + "  <record><prefix>256/8</prefix></record>\n</registry>\n", 4, "first octet"},
		{"asn range", `<registry id="as-numbers"><registry id="as-numbers-1"><record><number>1-4294967296</number></record></registry></registry>`, 1, "out of range"},
		{"asn text", `<registry id="as-numbers"><registry id="as-numbers-1"><record><number>AS1</number></record></registry></registry>`, 1, "want N or N-M"},
		{"no prefix", head + "  <record><status>X</status></record>\n</registry>\n", 4, "without a prefix"},
		{"date", head + "  <record><prefix>001/8</prefix><date>2010</date></record>\n</registry>\n", 4, "date"},
		{"not a registry", "<html></html>", 1, "outside a <registry>"},
		{"empty", head + "</registry>\n", 5, "no number records"},
		{"other registry", `<registry id="dns-parameters"><record><number>1</number></record></registry>`, 1, "not a number registry"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ianaxml.Parse("f", strings.NewReader(tt.text))
			var pe *ianaxml.Error
			if !errors.As(err, &pe) || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.want) {
				t.Fatalf("Parse = %v; want line %d with %q", err, tt.line, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, path := range files(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 5000 {
			// The head and the first records, closed off.
			i := bytes.Index(data[3000:], []byte("</record>"))
			data = append(append([]byte(nil), data[:3000+i+9]...), "\n</registry>\n"...)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := ianaxml.Parse("fuzz", bytes.NewReader(data))
		if err != nil {
			var pe *ianaxml.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not an *ianaxml.Error", err)
			}
			return
		}
		var out bytes.Buffer
		if err := ianaxml.Write(&out, &rf.Registry, ptrs(rf)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("a parsed file does not write back as it was")
		}
	})
}
