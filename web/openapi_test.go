package web_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// apiRoute is one method and path pattern of the JSON API.
type apiRoute struct{ method, path string }

func (r apiRoute) String() string { return r.method + " " + r.path }

// sourceRoutes parses the package's Go files and returns every pattern
// registered with Handle or HandleFunc under /api/v1/.
func sourceRoutes(t *testing.T) []apiRoute {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var routes []apiRoute
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			pattern, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			method, path, ok := strings.Cut(pattern, " ")
			if !ok {
				return true // a pattern for every method, such as the /api/ fallback
			}
			if strings.HasPrefix(path, "/api/v1/") {
				routes = append(routes, apiRoute{method, path})
			}
			return true
		})
	}
	return routes
}

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type openAPIParam struct {
	Name string `json:"name"`
	In   string `json:"in"`
}

// undocumented are API routes deliberately absent from openapi.json, with
// the reason. Keep it short: every other route must be documented.
var undocumented = map[string]string{}

// TestOpenAPI checks that openapi.json is valid JSON, that it documents
// every API route the server registers, and documents no route that does
// not exist.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		t.Fatalf("openapi.json: version %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}

	f := newFixture(t)
	served := readBody(t, f.anon().get("/api/v1/openapi.json"))
	if served != string(raw) {
		t.Errorf("GET /api/v1/openapi.json does not serve openapi.json")
	}

	routes := sourceRoutes(t)
	if len(routes) < 20 {
		t.Fatalf("found only %d API routes in the source: %v", len(routes), routes)
	}
	documented := map[apiRoute]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" || m == "summary" || m == "description" {
				continue
			}
			documented[apiRoute{strings.ToUpper(m), path}] = true
		}
	}
	for _, r := range routes {
		if _, ok := undocumented[r.String()]; ok {
			continue
		}
		if !documented[r] {
			t.Errorf("route %s is registered in server.go but missing from openapi.json", r)
		}
	}
	for r := range documented {
		if !slices.Contains(routes, r) {
			t.Errorf("openapi.json documents %s, which the server does not register", r)
		}
	}
	for r := range undocumented {
		if !slices.ContainsFunc(routes, func(x apiRoute) bool { return x.String() == r }) {
			t.Errorf("undocumented lists %s, which is no longer a route", r)
		}
	}

	// The source's routes are the mux's: each reaches a handler of its own,
	// not the /api/ fallback nor a 405.
	c := f.as(opHandle)
	wildcard := regexp.MustCompile(`\{[a-z]+\}`)
	for _, r := range routes {
		path := wildcard.ReplaceAllStringFunc(r.path, func(w string) string {
			switch w {
			case "{version}", "{seq}":
				return "0"
			default:
				return "zzz"
			}
		})
		resp := c.do(r.method, path, strings.NewReader("{}"), "Content-Type", "application/json")
		body := readBody(t, resp)
		if resp.StatusCode == http.StatusMethodNotAllowed || strings.Contains(body, "no such API endpoint") {
			t.Errorf("%s (as %s %s) is not routed: %s %s", r, r.method, path, resp.Status, body)
		}
	}

	// Every path parameter is declared and every $ref resolves.
	for path, ops := range doc.Paths {
		want := wildcard.FindAllString(path, -1)
		var pathLevel []openAPIParam
		if p, ok := ops["parameters"]; ok {
			if err := json.Unmarshal(p, &pathLevel); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
		}
		for m, op := range ops {
			if m == "parameters" {
				continue
			}
			var o struct {
				Parameters []openAPIParam             `json:"parameters"`
				Responses  map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil {
				t.Fatalf("%s %s: %v", m, path, err)
			}
			for _, w := range want {
				name := strings.Trim(w, "{}")
				if !slices.ContainsFunc(append(o.Parameters, pathLevel...), func(p openAPIParam) bool { return p.Name == name && p.In == "path" }) {
					t.Errorf("%s %s does not declare the path parameter %s", m, path, name)
				}
			}
			if len(o.Responses) == 0 {
				t.Errorf("%s %s has no responses", m, path)
			}
		}
	}
	for _, m := range regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if _, ok := doc.Components.Schemas[m[1]]; !ok {
			t.Errorf("$ref to missing schema %s", m[1])
		}
	}
}
