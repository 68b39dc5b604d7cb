package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestParamsAPI(t *testing.T) {
	f := newFixture(t)
	reg := map[string]any{
		"id": "test-codes", "title": "Test Codes", "max": 255, "experts": []string{bobHandle},
		"ranges": []map[string]any{
			{"first": 0, "last": 63, "procedure": "standards-action"},
			{"first": 64, "last": 127, "procedure": "expert-review"},
			{"first": 128, "last": 239, "procedure": "first-come-first-served"},
			{"first": 240, "last": 255, "procedure": "private-use"},
		},
	}
	if resp := f.as(aliceHandle).json(http.MethodPost, "/api/v1/params", reg); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a participant created a registry: %s", resp.Status)
	}
	if resp := f.as(opHandle).json(http.MethodPost, "/api/v1/params", reg); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %s %s", resp.Status, readBody(t, resp))
	}
	ask := func(value string) (int, map[string]any) {
		resp := f.as(aliceHandle).json(http.MethodPost, "/api/v1/params/test-codes/requests", map[string]any{"value": value, "description": "a test code"})
		var m map[string]any
		json.Unmarshal([]byte(readBody(t, resp)), &m)
		return resp.StatusCode, m
	}
	if code, q := ask("130"); code != http.StatusCreated || q["state"] != "assigned" {
		t.Errorf("FCFS: %d %v", code, q)
	}
	if code, _ := ask("250"); code != http.StatusBadRequest {
		t.Errorf("private use: %d", code)
	}
	if code, _ := ask("130"); code != http.StatusConflict {
		t.Errorf("taken: %d", code)
	}
	code, q := ask("70")
	if code != http.StatusCreated || q["state"] != "pending" {
		t.Fatalf("expert review: %d %v", code, q)
	}
	decide := "/api/v1/params/test-codes/requests/" + jsonNum(q["id"]) + "/decision"
	if resp := f.as(opHandle).json(http.MethodPost, decide, map[string]any{"approve": true}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the operator decided an expert review: %s", resp.Status)
	}
	if resp := f.as(bobHandle).json(http.MethodPost, decide, map[string]any{"approve": true}); resp.StatusCode != http.StatusOK {
		t.Errorf("the expert's decision: %s %s", resp.Status, readBody(t, resp))
	}
	var view struct {
		Values []struct{ Value string } `json:"values"`
	}
	resp := f.anon().get("/api/v1/params/test-codes")
	json.Unmarshal([]byte(readBody(t, resp)), &view)
	if len(view.Values) != 2 || view.Values[0].Value != "70" {
		t.Errorf("values %+v", view.Values)
	}
	x := f.anon().get("/api/v1/params/test-codes/export?format=xml")
	if body := readBody(t, x); x.Header.Get("Content-Type") != "application/xml" || !strings.Contains(body, "<registration_rule>Expert Review</registration_rule>") || !strings.Contains(body, "<value>130</value>") {
		t.Errorf("XML export:\n%s", body)
	}
	c := f.anon().get("/api/v1/params/test-codes/export?format=csv")
	if body := readBody(t, c); !strings.Contains(body, "70,a test code,,Expert Review,") {
		t.Errorf("CSV export:\n%s", body)
	}
	if r := f.anon().get("/api/v1/params/test-codes/export?format=pdf"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("format pdf: %s", r.Status)
	}
	if r := f.anon().get("/api/v1/params/nope"); r.StatusCode != http.StatusNotFound {
		t.Errorf("missing registry: %s", r.Status)
	}

	// The pages, and a request through the form.
	for _, p := range []string{"/params", "/params/test-codes"} {
		if r := f.anon().get(p); r.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", p, r.Status)
		}
	}
	alice := f.login(aliceHandle, testPassword)
	token := alice.csrf("/params/test-codes")
	r := alice.form("/params/test-codes/requests", url.Values{"csrf": {token}, "value": {"131"}, "description": {"by form"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("form: %s %s", r.Status, readBody(t, r))
	}
	if page := readBody(t, alice.get("/params/test-codes")); !strings.Contains(page, "by form") {
		t.Error("the requested value is not on the page")
	}
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }
