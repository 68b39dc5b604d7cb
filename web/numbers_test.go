package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"steward"
	"steward/web"
)

func TestNumbersAPIAndPages(t *testing.T) {
	f := numbersFixture(t)
	c := f.anon()
	sum := decodeJSON[web.NumbersSummary](t, c.get("/api/v1/numbers"), http.StatusOK)
	if len(sum.Families) != 3 || sum.Families[0].Family != "ipv4" || sum.Families[0].Blocks != 5302 {
		t.Fatalf("summary: %+v", sum.Families)
	}
	// An AFRINIC IPv6 record under IANA's /23: the chain and the tree.
	l := decodeJSON[web.Lookup](t, c.get("/api/v1/numbers/lookup?q="+url.QueryEscape("2001:4200::1")), http.StatusOK)
	if len(l.Blocks) != 2 || l.Blocks[0].Registry != "iana" || l.Blocks[1].Registry != "afrinic" {
		t.Fatalf("lookup: %+v", l.Blocks)
	}
	top := l.Blocks[0]
	d := decodeJSON[web.BlockDetail](t, c.get(top.APIPath()), http.StatusOK)
	if d.Block.Label != "2001:4200::/23" || len(d.Children) == 0 || d.Block.Used <= 0 || len(d.History) != 1 || d.History[0].Source != "iana:test" {
		t.Fatalf("block: %+v children %d history %+v", d.Block, len(d.Children), d.History)
	}
	kid := decodeJSON[web.BlockDetail](t, c.get(d.Children[0].APIPath()), http.StatusOK)
	if len(kid.Ancestors) != 1 || kid.Ancestors[0].Key != top.Key {
		t.Fatalf("child's ancestors: %+v", kid.Ancestors)
	}
	as := decodeJSON[web.Lookup](t, c.get("/api/v1/numbers/asn/AS1228"), http.StatusOK)
	if len(as.Blocks) != 1 || as.Blocks[0].Label != "AS1228" || as.Blocks[0].Country != "ZA" {
		t.Fatalf("AS1228: %+v", as.Blocks)
	}
	rep := decodeJSON[steward.PolicyReport](t, c.get("/api/v1/numbers/policy/evaluation?at=2024-01-05"), http.StatusOK)
	if len(rep.Grants) != 15 || rep.Policies.ASN.BlockSize != 1024 {
		t.Fatalf("evaluation: %d grants, %+v", len(rep.Grants), rep.Policies.ASN)
	}
	// Bad input.
	checkProblem(t, c.get("/api/v1/numbers/lookup?q=1.2.3"), http.StatusBadRequest, steward.EINVALID, "not an ipv4 address")
	checkProblem(t, c.get("/api/v1/numbers/asn/4294967296"), http.StatusBadRequest, steward.EINVALID, "out of range")
	checkProblem(t, c.get("/api/v1/numbers/lookup?q=AS64500"), http.StatusNotFound, steward.ENOTFOUND)
	checkProblem(t, c.get("/api/v1/numbers/blocks/ipv5/1-2/iana"), http.StatusNotFound, steward.ENOTFOUND)
	checkProblem(t, c.get("/api/v1/numbers/policy/evaluation?at=tomorrow"), http.StatusBadRequest, steward.EINVALID)
	// Pages.
	for path, want := range map[string]string{
		"/numbers":                   "Number resources",
		"/numbers/ipv6":              "2001:4200::/23",
		top.Path:                     "Inside it",
		"/numbers/lookup?q=41.0.0.1": "afrinic",
		"/numbers/as/1228":           "AS1228",
		"/numbers/policy":            "ipv4-recovered",
	} {
		resp := c.get(path)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: %s, lacks %q", path, resp.Status, want)
		}
	}
	if resp := c.get("/numbers/lookup?q=zzz"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("lookup of zzz: %s", resp.Status)
	}
}

func TestNumbersAllocateAPI(t *testing.T) {
	f := numbersFixture(t)
	_, admin := f.issueToken(t, opHandle, steward.ScopeAdmin)
	_, write := f.issueToken(t, opHandle, steward.ScopeWrite)
	// Find an available /24 of AFRINIC's.
	var avail string
	sum := decodeJSON[web.NumbersSummary](t, f.anon().get("/api/v1/numbers"), http.StatusOK)
	for _, b := range sum.Families[0].Roots {
		if b.Registry == "afrinic" && b.Status == "available" && len(b.Prefixes) == 1 && strings.HasSuffix(b.Prefixes[0], "/24") {
			avail = b.Prefixes[0]
			break
		}
	}
	if avail == "" {
		t.Fatal("no available /24")
	}
	req := web.AllocationRequest{Block: avail, Registry: "afrinic", Holder: "ORG-WEB", Status: "allocated", Country: "KE"}
	checkProblem(t, f.withBearer(write).json(http.MethodPost, "/api/v1/numbers/allocations", req), http.StatusForbidden, steward.EFORBIDDEN, `"admin" scope`)
	before := f.ledgerSize(t)
	bad := req
	bad.Block = strings.TrimSuffix(avail, "/24") + "/23"
	checkProblem(t, f.withBearer(admin).json(http.MethodPost, "/api/v1/numbers/allocations", bad), http.StatusBadRequest, steward.EINVALID)
	if f.ledgerSize(t) != before {
		t.Fatal("a refused allocation changed the ledger")
	}
	decodeJSON[steward.AllocatedPayload](t, f.withBearer(admin).json(http.MethodPost, "/api/v1/numbers/allocations", req), http.StatusCreated)
	l := decodeJSON[web.Lookup](t, f.anon().get("/api/v1/numbers/lookup?q="+url.QueryEscape(avail)), http.StatusOK)
	if got := l.Blocks[len(l.Blocks)-1]; got.Holder != "ORG-WEB" || got.Status != "allocated" {
		t.Fatalf("after allocating: %+v", got)
	}
	decodeJSON[steward.ReturnedPayload](t, f.withBearer(admin).json(http.MethodPost, "/api/v1/numbers/returns", web.ReturnRequest{Block: avail, Registry: "afrinic", Reason: "test"}), http.StatusOK)
	d := decodeJSON[web.BlockDetail](t, f.anon().get(l.Blocks[len(l.Blocks)-1].APIPath()), http.StatusOK)
	if d.Block.Status != "available" || len(d.History) != 2 || d.History[1].Reason != "test" {
		t.Fatalf("after returning: %+v %+v", d.Block, d.History)
	}
}
