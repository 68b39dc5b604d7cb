package web

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// i18n/ui.tsv holds the UI strings: one line per string, the English text
// first, then its Arabic, Chinese, French, Russian and Spanish translations,
// separated by tabs. Lines starting with # are comments.
//
//go:embed i18n/ui.tsv
var uiTSV string

var translations = parseTranslations(uiTSV)

var verbRE = regexp.MustCompile(`%(\[\d\])?[a-z]`)

// parseTranslations reads ui.tsv. A malformed line, or a translation whose
// formatting verbs differ in number from the English, panics at start-up
// (and so fails every test).
func parseTranslations(src string) map[string]map[string]string {
	langs := []string{"ar", "zh", "fr", "ru", "es"}
	out := map[string]map[string]string{}
	for _, l := range langs {
		out[l] = map[string]string{}
	}
	for i, line := range strings.Split(src, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 1+len(langs) {
			panic(fmt.Sprintf("i18n/ui.tsv:%d: %d fields, want %d", i+1, len(f), 1+len(langs)))
		}
		n := len(verbRE.FindAllString(f[0], -1))
		for j, l := range langs {
			if got := len(verbRE.FindAllString(f[j+1], -1)); got != n || f[j+1] == "" {
				panic(fmt.Sprintf("i18n/ui.tsv:%d: the %s text has %d formatting verbs, want %d", i+1, l, got, n))
			}
			out[l][f[0]] = f[j+1]
		}
	}
	return out
}
