package charter

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

const manual = "../docs/charter.md"

// presetOrder is the order of the presets in the manual's comparison table.
var presetOrder = []string{"wgig-model-1", "wgig-model-2", "wgig-model-3", "wgig-model-4", "iana-2016", "community"}

// presetTable renders the manual's comparison table of the presets: for
// each decision kind, which bodies approve it (in order) and which advise.
func presetTable(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("| Decision |")
	for _, name := range presetOrder {
		fmt.Fprintf(&b, " %s |", name)
	}
	b.WriteString("\n|---|")
	for range presetOrder {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	var charters []*Charter
	for _, name := range presetOrder {
		charters = append(charters, mustPreset(t, name))
	}
	for _, k := range DecisionKinds() {
		if k == KindPetition {
			continue
		}
		fmt.Fprintf(&b, "| `%s` |", k)
		for _, c := range charters {
			cell := "—"
			if d, ok := c.Decision(k); ok {
				if len(d.Approval) > 0 {
					cell = strings.Join(d.Approval, " → ")
				}
				if len(d.Advice) > 0 {
					cell += "; advice: " + strings.Join(d.Advice, ", ")
				}
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "| petitions |")
	for _, c := range charters {
		cell := "—"
		if n := len(c.Petitions); n > 0 {
			cell = fmt.Sprintf("%d powers", n)
		}
		fmt.Fprintf(&b, " %s |", cell)
	}
	b.WriteString("\n")
	return b.String()
}

// TestManual checks that every complete charter in the manual parses and
// that its comparison table matches the presets.
func TestManual(t *testing.T) {
	data, err := os.ReadFile(manual)
	if err != nil {
		t.Fatalf("reading the manual: %v", err)
	}
	text := string(data)
	n := 0
	for i, block := range strings.Split(text, "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if !strings.HasPrefix(block, "charter: 1\n") {
			continue // a fragment
		}
		n++
		if _, err := Parse(fmt.Sprintf("charter.md yaml block %d", i+1), []byte(block)); err != nil {
			t.Errorf("yaml block %d does not parse:\n%v", i+1, err)
		}
	}
	if n == 0 {
		t.Error("the manual has no complete charter example")
	}
	if table := presetTable(t); !strings.Contains(text, table) {
		t.Errorf("the manual's comparison table is out of date; it should read:\n\n%s", table)
	}
	if ex := strings.Join(workedExample().Reasons, "\n"); !strings.Contains(text, "```\n"+ex+"\n```") {
		t.Errorf("the manual does not quote the worked example's reasons:\n%s", ex)
	}
	for _, k := range DecisionKinds() {
		if !strings.Contains(text, "`"+k+"`") {
			t.Errorf("the manual does not mention decision kind %s", k)
		}
	}
}
