package steward_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDependencyRule enforces that the domain (the root package and the
// pure packages it uses) imports no database, HTTP or DNS package and no
// adapter: adapters import the domain, never the reverse.
func TestDependencyRule(t *testing.T) {
	forbidden := []string{"database/sql", "net/http", "github.com/miekg/dns", "modernc.org/sqlite", "github.com/jackc/pgx",
		"steward/sqlstore", "steward/sqlite", "steward/postgres", "steward/web", "steward/audit", "steward/cmd"}
	for _, dir := range []string{".", "charter", "ledger"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if p == bad || strings.HasPrefix(p, bad+"/") {
						t.Errorf("%s imports %s: the domain must not depend on it", f, p)
					}
				}
			}
		}
	}
}
