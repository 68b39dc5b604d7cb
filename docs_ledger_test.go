package steward

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// TestEveryEventKindDocumented checks that docs/ledger.md describes every
// kind of event the appliers know, so that anyone replaying the public
// ledger can read what each entry means.
func TestEveryEventKindDocumented(t *testing.T) {
	doc, err := os.ReadFile("docs/ledger.md")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for kind := range appliers {
		if !strings.Contains(string(doc), "`"+kind+"`") {
			missing = append(missing, kind)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("event kind %s is not documented in docs/ledger.md", k)
	}
}
