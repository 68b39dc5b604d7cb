package web

import (
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestTemplateStringsTranslated checks that every string a template hands
// to T has a row in i18n/ui.tsv, so that no page mixes languages.
func TestTemplateStringsTranslated(t *testing.T) {
	literal := regexp.MustCompile(`\.T "((?:[^"\\]|\\.)*)"`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v %v", files, err)
	}
	missing := map[string][]string{}
	for _, name := range files {
		src, err := fs.ReadFile(templateFS, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			key := strings.ReplaceAll(m[1], `\"`, `"`)
			if _, ok := translations["ar"][key]; !ok {
				missing[key] = append(missing[key], name)
			}
		}
	}
	keys := make([]string, 0, len(missing))
	for k := range missing {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("%q (in %s) has no row in i18n/ui.tsv", k, strings.Join(missing[k], ", "))
	}
}
