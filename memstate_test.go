package steward_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"steward"
)

// TestMemStateScan compares Scan with a brute-force filter over random
// keys, prefixes, cursors and limits, as keys come and go.
func TestMemStateScan(t *testing.T) {
	ctx := context.Background()
	st := steward.NewMemState()
	r := rand.New(rand.NewPCG(1, 2))
	want := map[string]bool{}
	for i := 0; i < 2000; i++ {
		k := fmt.Sprintf("%c/%d", 'a'+r.IntN(4), r.IntN(300))
		if r.IntN(4) == 0 {
			_ = st.Delete(ctx, k)
			delete(want, k)
		} else {
			_ = st.Put(ctx, k, []byte("v"))
			want[k] = true
		}
		if i%50 != 0 {
			continue
		}
		prefix := []string{"", "a/", "b/1", "d/2"}[r.IntN(4)]
		after := []string{"", "a/1", "b/150", "c/99", "z"}[r.IntN(5)]
		limit := []int{0, 1, 7, 1000}[r.IntN(4)]
		var keys []string
		for k := range want {
			if strings.HasPrefix(k, prefix) && k > after {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if limit > 0 && len(keys) > limit {
			keys = keys[:limit]
		}
		got, err := st.Scan(ctx, prefix, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(keys) {
			t.Fatalf("Scan(%q, %q, %d): %d records, want %d", prefix, after, limit, len(got), len(keys))
		}
		for j := range keys {
			if got[j].Key != keys[j] {
				t.Fatalf("Scan(%q, %q, %d)[%d] = %s, want %s", prefix, after, limit, j, got[j].Key, keys[j])
			}
		}
	}
}
