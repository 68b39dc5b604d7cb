package charter

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics and that every error it returns
// has a position.
func FuzzParse(f *testing.F) {
	for _, name := range PresetNames() {
		data, err := Preset(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(baseCharter))
	for _, tc := range badCases {
		f.Add([]byte(applyEdits(f, tc.edits...)))
	}
	f.Add([]byte(""))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("charter: 1\n---\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err == nil {
			if c == nil || len(c.Hash) != 64 || c.Version != Version {
				t.Fatalf("Parse succeeded with %+v", c)
			}
			return
		}
		if c != nil {
			t.Fatal("Parse returned both a charter and an error")
		}
		var list ErrorList
		var one *Error
		switch {
		case errors.As(err, &list):
			if len(list) == 0 {
				t.Fatal("empty ErrorList")
			}
			for _, e := range list {
				if e.Line < 1 || e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error without a position: %#v", e)
				}
			}
		case errors.As(err, &one):
			if one.Line < 1 || one.File != "fuzz.yaml" || one.Msg == "" {
				t.Fatalf("error without a position: %#v", one)
			}
		default:
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}
