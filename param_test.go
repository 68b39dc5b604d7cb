package steward_test

import (
	"testing"

	"steward"
)

// paramRegistry is an 8-bit registry cut as RFC 8126 §4.11's example:
// 0-63 standards action, 64-127 expert review, 128-191 first come first
// served, 192-223 specification required, 224-239 experimental use,
// 240-255 private use.
func paramRegistry() steward.ParamRegistry {
	return steward.ParamRegistry{ID: "test-codes", Title: "Test Codes", Max: 255, Experts: []string{"erin"},
		Ranges: []steward.ParamRange{
			{First: 0, Last: 63, Procedure: steward.ProcStandardsAction},
			{First: 64, Last: 127, Procedure: steward.ProcExpertReview},
			{First: 128, Last: 191, Procedure: steward.ProcFCFS},
			{First: 192, Last: 223, Procedure: steward.ProcSpecRequired},
			{First: 224, Last: 239, Procedure: steward.ProcExperimentalUse},
			{First: 240, Last: 255, Procedure: steward.ProcPrivateUse},
		}}
}

func TestParamRegistryValidate(t *testing.T) {
	m, _ := newInstance(t, "community")
	for name, mod := range map[string]func(r *steward.ParamRegistry){
		"gap":       func(r *steward.ParamRegistry) { r.Ranges[1].First = 65 },
		"overlap":   func(r *steward.ParamRegistry) { r.Ranges[1].First = 63 },
		"short":     func(r *steward.ParamRegistry) { r.Ranges = r.Ranges[:5] },
		"procedure": func(r *steward.ParamRegistry) { r.Ranges[0].Procedure = "ask nicely" },
		"id":        func(r *steward.ParamRegistry) { r.ID = "Bad Id" },
		"title":     func(r *steward.ParamRegistry) { r.Title = "" },
		"text+rng":  func(r *steward.ParamRegistry) { r.Max = 0 },
		"ref":       func(r *steward.ParamRegistry) { r.References = []string{"RFC 8126"} },
		"approver":  func(r *steward.ParamRegistry) { r.Approver = "no-such-body" },
	} {
		r := paramRegistry()
		mod(&r)
		_, err := m.do(t, steward.CreateParamRegistry("op", r))
		wantCode(t, err, steward.EINVALID)
		_ = name
	}
	register(t, m, "erin", "technical-academic", "europe")
	_, err := m.do(t, steward.CreateParamRegistry("erin", paramRegistry()))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.CreateParamRegistry("op", paramRegistry()))
	_, err = m.do(t, steward.CreateParamRegistry("op", paramRegistry()))
	wantCode(t, err, steward.ECONFLICT)
}

func TestParamRequests(t *testing.T) {
	m, _ := newInstance(t, "community")
	register(t, m, "erin", "technical-academic", "europe")
	register(t, m, "rita", "private-sector", "africa")
	m.must(t, steward.CreateParamRegistry("op", paramRegistry()))
	ask := func(who, value string, refs ...string) (*steward.ParamRequest, error) {
		v, err := m.do(t, steward.RequestParamValue(who, steward.ValueRequest{Registry: "test-codes", Value: value, Description: "for " + who, References: refs}))
		if err != nil {
			return nil, err
		}
		return v.(*steward.ParamRequest), nil
	}

	// First come first served: assigned at once.
	q, err := ask("rita", "130")
	if err != nil || q.State != steward.ParamAssigned || q.Procedure != steward.ProcFCFS {
		t.Fatalf("FCFS: %+v, %v", q, err)
	}
	_, err = ask("erin", "130")
	wantCode(t, err, steward.ECONFLICT)

	// Private and experimental use are never assigned.
	for _, v := range []string{"240", "255", "230"} {
		_, err = ask("rita", v)
		wantCode(t, err, steward.EINVALID)
	}
	// Malformed values.
	for _, v := range []string{"256", "-1", "0x10", "", "1e2"} {
		_, err = ask("rita", v)
		wantCode(t, err, steward.EINVALID)
	}
	// Specification required needs a reference.
	_, err = ask("rita", "200")
	wantCode(t, err, steward.EINVALID)

	// Expert review waits for the designated expert.
	q, err = ask("rita", "070")
	if err != nil || q.State != steward.ParamPending || q.Value != "70" {
		t.Fatalf("expert review: %+v, %v", q, err)
	}
	_, err = ask("erin", "70")
	wantCode(t, err, steward.ECONFLICT) // asked for already
	_, err = m.do(t, steward.DecideParamRequest("op", q.ID, steward.Decision{Approve: true}))
	wantCode(t, err, steward.EFORBIDDEN) // an operator is not the expert
	_, err = m.do(t, steward.DecideParamRequest("erin", q.ID, steward.Decision{Approve: false}))
	wantCode(t, err, steward.EINVALID) // a rejection gives its reason
	m.must(t, steward.DecideParamRequest("erin", q.ID, steward.Decision{Approve: true}))
	_, err = m.do(t, steward.DecideParamRequest("erin", q.ID, steward.Decision{Approve: true}))
	wantCode(t, err, steward.ECONFLICT)

	// Standards action waits for the approval the registry names: an
	// operator here.
	q, err = ask("rita", "5", "rfc:rfc9999")
	if err != nil || q.State != steward.ParamPending {
		t.Fatalf("standards action: %+v, %v", q, err)
	}
	_, err = m.do(t, steward.DecideParamRequest("erin", q.ID, steward.Decision{Approve: true}))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.DecideParamRequest("op", q.ID, steward.Decision{Approve: false, Reason: "no such RFC"}))
	if q, _ := steward.LoadParamRequest(t.Context(), m, q.ID); q.State != steward.ParamRejected || q.Decider != "op" {
		t.Errorf("rejected request: %+v", q)
	}

	vals, err := steward.ParamValues(t.Context(), m, "test-codes")
	if err != nil || len(vals) != 2 || vals[0].Value != "70" || vals[1].Value != "130" || vals[1].Registrant != "rita" {
		t.Errorf("values %+v, %v", vals, err)
	}

	// Recorded ranges (IANA's reserved blocks) hold their values.
	m.must(t, steward.RecordParamValues("op", "test-codes", []steward.ParamValue{{Value: "150", Last: "159", Description: "Reserved"}}))
	_, err = ask("rita", "155")
	wantCode(t, err, steward.ECONFLICT)
}
