package params_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"steward"
	"steward/internal/testdata"
	"steward/params"
)

// gsmp is the GSMPv3 Model Type registry's layout, RFC 8126 §4.11's live
// example of ranges with different procedures.
const gsmp = `<?xml version='1.0' encoding='UTF-8'?>
<registry xmlns="http://www.iana.org/assignments" id="gsmpv3-model">
  <title>General Switch Management Protocol v3 (GSMPv3) Model Type</title>
  <xref type="rfc" data="rfc3292"/>
  <range><value>0</value><registration_rule>IETF Review</registration_rule></range>
  <range><value>1-200</value><registration_rule>RFC Required</registration_rule></range>
  <range><value>201-255</value><registration_rule>Reserved for Private Use</registration_rule></range>
  <record date="2002-06-01"><value>0</value><description>Standard model</description><xref type="rfc" data="rfc3292"/></record>
  <record><value>1-200</value><description>Unassigned</description></record>
</registry>
`

func TestParseRanges(t *testing.T) {
	regs, err := params.Parse("gsmp.xml", strings.NewReader(gsmp))
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 1 {
		t.Fatalf("%d registries", len(regs))
	}
	r := regs[0]
	want := []steward.ParamRange{
		{First: 0, Last: 0, Procedure: steward.ProcIETFReview, Note: "IETF Review"},
		{First: 1, Last: 200, Procedure: steward.ProcRFCRequired, Note: "RFC Required"},
		{First: 201, Last: 255, Procedure: steward.ProcPrivateUse, Note: "Reserved for Private Use"},
	}
	if r.Registry.Max != 255 || !cmp.Equal(r.Registry.Ranges, want) {
		t.Errorf("max %d, ranges %+v", r.Registry.Max, r.Registry.Ranges)
	}
	if len(r.Values) != 1 || r.Values[0].Value != "0" || r.Values[0].References[0] != "rfc:rfc3292" || r.Values[0].Date != "2002-06-01" {
		t.Errorf("values %+v", r.Values)
	}

	// What WriteXML writes reads back the same.
	var b bytes.Buffer
	if err := params.WriteXML(&b, &r.Registry, r.Values); err != nil {
		t.Fatal(err)
	}
	again, err := params.Parse("again.xml", &b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	for i := range want {
		want[i].Note = steward.ProcedureNames[want[i].Procedure]
	}
	if !cmp.Equal(again[0].Registry.Ranges, want) || !cmp.Equal(again[0].Values, r.Values) {
		t.Errorf("round trip: %+v %+v", again[0].Registry.Ranges, again[0].Values)
	}
	b.Reset()
	if err := params.WriteCSV(&b, &r.Registry, r.Values); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "Value,Description,Reference,Registration Procedure,Date\r\n0,Standard model,[RFC3292],IETF Review,2002-06-01\r\n" {
		t.Errorf("CSV:\n%s", got)
	}
}

// IANA's real multicast address registry: sixteen sub-registries of
// addresses, each with its registration rule.
func TestParseRealRegistry(t *testing.T) {
	f, err := os.Open(testdata.Shared("iana-registries", "multicast-addresses.xml"))
	if err != nil {
		testdata.Missing(t, err)
	}
	defer f.Close()
	regs, err := params.Parse("multicast-addresses.xml", f)
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) < 10 {
		t.Fatalf("%d registries", len(regs))
	}
	first := regs[0]
	if first.Registry.ID != "multicast-addresses-1" || first.Registry.Group != "multicast-addresses" || first.Registry.Max != 0 ||
		first.Registry.Procedure != steward.ProcExpertReview || first.Values[0].Value != "224.0.0.0" {
		t.Errorf("first registry: %+v, %d values", first.Registry, len(first.Values))
	}
	n := 0
	for _, r := range regs {
		n += len(r.Values)
		if err := r.Registry.Validate(); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d registries, %d values", len(regs), n)
}

func FuzzParse(f *testing.F) {
	f.Add(gsmp)
	f.Add(`<registry id="x"><title>T</title><record><value>a</value><description>d</description></record></registry>`)
	f.Add(`<registry id="x"><title>T</title><range><value>5-1</value></range></registry>`)
	f.Add(`<registry id="x"><registry id="y"><title>Y</title><record><value>18446744073709551615</value></record></registry></registry>`)
	f.Add(`<registry`)
	f.Fuzz(func(t *testing.T, s string) {
		regs, err := params.Parse("fuzz.xml", strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range regs {
			if err := r.Registry.Validate(); err != nil {
				t.Fatalf("accepted an invalid registry: %v", err)
			}
			var b bytes.Buffer
			if err := params.WriteXML(&b, &r.Registry, r.Values); err != nil {
				t.Fatal(err)
			}
		}
	})
}
