package rootzone

import (
	"context"
	"os"
	"steward/internal/testdata"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward"
)

var rootZoneFile = testdata.RootZoneFile

func parseFile(t *testing.T) (*steward.RootZoneImport, *Stats) {
	t.Helper()
	f, err := os.Open(rootZoneFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	imp, st, err := Parse("root.zone", f)
	if err != nil {
		t.Fatal(err)
	}
	return imp, st
}

func TestParseRealRootZone(t *testing.T) {
	imp, st := parseFile(t)
	// Counts from the file: 1,480 NSEC records, one per owner, less the apex, are 1,479 TLDs.
	if st.TLDs != 1479 || st.DS != 1622 || st.Skipped != 2+2849+1480 {
		t.Errorf("stats %+v", st)
	}
	if len(imp.Apex.NS) != 13 || imp.Apex.MName != "a.root-servers.net." || imp.Apex.NSTTL != 518400 || len(imp.Apex.Glue) != 13 {
		t.Errorf("apex %+v", imp.Apex)
	}
	var org *steward.TLD
	for i := range imp.TLDs {
		if imp.TLDs[i].Name == "org" {
			org = &imp.TLDs[i]
		}
	}
	if org == nil || len(org.NS) != 6 || len(org.DS) == 0 || len(org.Glue) == 0 {
		t.Fatalf("org = %+v", org)
	}
	for _, tl := range imp.TLDs {
		if err := tl.Normalize(); err != nil {
			t.Errorf("TLD %s does not validate: %v", tl.Name, err)
		}
	}
}

// TestRoundTrip parses the real root zone and builds it again: every NS,
// DS, A and AAAA record of the file is in the built zone and nothing else.
func TestRoundTrip(t *testing.T) {
	imp, _ := parseFile(t)
	for i := range imp.TLDs {
		if err := imp.TLDs[i].Normalize(); err != nil {
			t.Fatal(err)
		}
	}
	if err := imp.Apex.Normalize(); err != nil {
		t.Fatal(err)
	}
	z, err := Build(&imp.Apex, imp.TLDs, 2023051100)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	f, _ := os.Open(rootZoneFile)
	defer f.Close()
	zp := dns.NewZoneParser(f, ".", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr.Header().Rrtype {
		case dns.TypeNS, dns.TypeDS, dns.TypeA, dns.TypeAAAA, dns.TypeSOA:
			want[strings.ToLower(rr.String())] = true
		}
	}
	got := map[string]bool{}
	for _, rr := range z.Records() {
		got[strings.ToLower(rr.String())] = true
	}
	for s := range want {
		if !got[s] {
			t.Errorf("missing from the built zone: %s", s)
		}
	}
	for s := range got {
		if !want[s] {
			t.Errorf("not in the file: %s", s)
		}
	}
	// Deterministic.
	z2, _ := Build(&imp.Apex, imp.TLDs, 2023051100)
	a, b := z.Records(), z2.Records()
	for i := range a {
		if a[i].String() != b[i].String() {
			t.Fatalf("two builds differ at record %d", i)
		}
	}
}

func TestParseErrors(t *testing.T) {
	head := ".\t86400\tIN\tSOA\ta.root-servers.net. nstld.verisign-grs.com. 2023051100 1800 900 604800 86400\n.\t518400\tIN\tNS\ta.root-servers.net.\n"
	for _, tc := range []struct {
		name, text string
		line       int
		msg        string
	}{
		{"txt", head + "example.\t3600\tIN\tTXT\t\"hello\"\n", 3, "TXT at example."},
		{"deep NS", head + "a.example.\t3600\tIN\tNS\tns.example.\n", 3, "delegates only top-level domains"},
		{"syntax", head + "org.\t172800\tIN\tNS\n", 3, "without a name server"},
		{"bad token", head + "org.\t172800\tIN\tNS\ta.org. extra\n", 3, "extra"},
		{"bad DS", head + "org. 172800 IN NS a.org.\norg.\t86400\tIN\tDS\t1 8 2 ZZ\n", 4, "not hexadecimal"},
		{"DS without NS", head + "org.\t86400\tIN\tDS\t26974 8 2 4FEDE294C53F438A158C41D39489CD78A86BEB0D8A0AEAFF14745C0D16E1DE32\n", 3, "no NS records"},
		{"class", head + "org.\t172800\tCH\tNS\ta.org.\n", 3, "IN records only"},
		{"include", head + "$INCLUDE /etc/passwd\n", 3, "not allowed"},
		{"multiline syntax", head + "org. 172800 IN NS a.org.\n\nx. 1 IN SOA (\n a. b. 1 2 3\n 4 nonsense )\n", 7, "nonsense"},
		{"unbalanced", head + "x. 1 IN SOA ( a. b. 1 2 3 4 5\n", 3, "never closed"},
		{"no SOA", ".\t518400\tIN\tNS\ta.root-servers.net.\n", 1, "no SOA"},
		{"second SOA", head + head, 3, "second SOA"},
		{"glue at TLD", head + "org.\t172800\tIN\tA\t192.0.2.1\n", 3, "glue belongs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imp, _, err := Parse("z", strings.NewReader(tc.text))
			if err == nil {
				t.Fatalf("parsed: %+v", imp)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %v is not a *rootzone.Error", err)
			}
			if e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("error %q at line %d, want line %d mentioning %q", e.Msg, e.Line, tc.line, tc.msg)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(".\t86400\tIN\tSOA\ta.root-servers.net. nstld.verisign-grs.com. 1 2 3 4 5\n.\t1\tIN\tNS\ta.\norg. 1 IN NS a.org.\na.org. 1 IN A 192.0.2.1\n")
	f.Add("$TTL 1\n$ORIGIN .\n. SOA a. b. ( 1 2\n 3 4 5 )\n  NS a.\n")
	f.Add("x. 1 IN SOA (")
	f.Fuzz(func(t *testing.T, text string) {
		imp, _, err := Parse("fuzz", strings.NewReader(text))
		if err != nil {
			if e, ok := err.(*Error); ok && e.Line < 1 {
				t.Errorf("error without a line: %v", err)
			}
			return
		}
		// Whatever parses either normalizes or is refused cleanly, and
		// builds without panicking when it normalizes.
		if imp.Apex.Normalize() != nil {
			return
		}
		for i := range imp.TLDs {
			if imp.TLDs[i].Normalize() != nil {
				return
			}
		}
		_, _ = Build(&imp.Apex, imp.TLDs, 1)
	})
}

// TestImportCommand imports the real root zone into an in-memory state
// twice: the second import changes nothing.
func TestImportCommand(t *testing.T) {
	imp, _ := parseFile(t)
	tx := newTx()
	v, err := steward.ImportRootZone(steward.ActorImport, *imp)(context.Background(), tx)
	if err != nil {
		t.Fatal(err)
	}
	c := v.(*steward.ImportCounts)
	if c.Added != 1479 || !c.ApexSet || c.Changed != 0 || c.Removed != 0 {
		t.Errorf("first import: %+v", c)
	}
	n := tx.n
	v, err = steward.ImportRootZone(steward.ActorImport, *imp)(context.Background(), tx)
	if err != nil {
		t.Fatal(err)
	}
	if c := v.(*steward.ImportCounts); c.Unchanged != 1479 || c.Added+c.Changed+c.Removed != 0 || c.ApexSet || tx.n != n {
		t.Errorf("second import changed something: %+v, %d events", c, tx.n-n)
	}
	// One TLD fewer and one changed.
	imp.TLDs = imp.TLDs[1:]
	imp.TLDs[0].NS = imp.TLDs[0].NS[:len(imp.TLDs[0].NS)-1]
	imp.TLDs[0].Glue = nil
	v, err = steward.ImportRootZone(steward.ActorImport, *imp)(context.Background(), tx)
	if err != nil {
		t.Fatal(err)
	}
	if c := v.(*steward.ImportCounts); c.Removed != 1 || c.Changed != 1 {
		t.Errorf("third import: %+v", c)
	}
}

// tx is a minimal steward.Tx over a MemState.
type tx struct {
	st *steward.MemState
	n  int
}

func newTx() *tx { return &tx{st: steward.NewMemState()} }

func (t *tx) Get(ctx context.Context, k string) ([]byte, error) { return t.st.Get(ctx, k) }
func (t *tx) Scan(ctx context.Context, p, a string, l int) ([]steward.KV, error) {
	return t.st.Scan(ctx, p, a, l)
}
func (t *tx) Now() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
func (t *tx) Emit(ctx context.Context, actor, kind string, payload any) (*steward.Event, error) {
	e, err := steward.NewEvent(int64(t.n), t.Now(), actor, kind, payload)
	if err != nil {
		return nil, err
	}
	t.n++
	return e, steward.Apply(ctx, t.st, e)
}
func (t *tx) Secret(context.Context, string) ([]byte, error)  { return nil, steward.ErrNotFound }
func (t *tx) PutSecret(context.Context, string, []byte) error { return nil }
