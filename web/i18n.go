package web

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The UI speaks the six official languages of the United Nations. Strings
// are looked up by their English text in a golang.org/x/text message
// catalogue (translations.go); a string without a translation shows in
// English. The language comes from the lang cookie (set by the switcher in
// the layout), else from Accept-Language.

// Languages are the UI's languages, in the switcher's order.
var Languages = []struct{ Tag, Name string }{
	{"ar", "العربية"}, {"zh", "中文"}, {"en", "English"}, {"fr", "Français"}, {"ru", "Русский"}, {"es", "Español"},
}

const langCookie = "lang"

var (
	langTags    = []language.Tag{language.English, language.Arabic, language.Chinese, language.French, language.Russian, language.Spanish}
	langMatcher = language.NewMatcher(langTags)
	uiCatalog   = func() catalog.Catalog {
		b := catalog.NewBuilder(catalog.Fallback(language.English))
		for lang, m := range translations {
			tag := language.MustParse(lang)
			for en, tr := range m {
				if err := b.SetString(tag, en, tr); err != nil {
					panic(err)
				}
			}
		}
		return b
	}()
	printers = func() map[string]*message.Printer {
		m := map[string]*message.Printer{}
		for _, t := range langTags {
			base, _ := t.Base()
			m[base.String()] = message.NewPrinter(t, message.Catalog(uiCatalog))
		}
		return m
	}()
)

// pickLanguage returns the request's language, its direction and printer.
func pickLanguage(r *http.Request) (lang, dir string, p *message.Printer) {
	lang = "en"
	if c, err := r.Cookie(langCookie); err == nil && printers[c.Value] != nil {
		lang = c.Value
	} else if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, _ := language.ParseAcceptLanguage(al)
		if len(tags) > 0 {
			_, i, conf := langMatcher.Match(tags...)
			if conf != language.No {
				base, _ := langTags[i].Base()
				lang = base.String()
			}
		}
	}
	dir = "ltr"
	if lang == "ar" {
		dir = "rtl"
	}
	return lang, dir, printers[lang]
}

// T translates a UI string into the page's language. Arguments are
// formatted into it as by fmt.Sprintf.
func (p *page) T(key string, args ...any) string {
	if p.tr == nil {
		p.tr = printers["en"]
	}
	return p.tr.Sprintf(key, args...)
}

// Langs lists the languages for the switcher, with the link to each.
func (p *page) Langs() []struct{ Tag, Name, Href string } {
	out := make([]struct{ Tag, Name, Href string }, len(Languages))
	for i, l := range Languages {
		out[i].Tag, out[i].Name = l.Tag, l.Name
		out[i].Href = "/lang?set=" + l.Tag + "&next=" + url.QueryEscape(p.Path)
	}
	return out
}

// GET /lang?set=TAG&next=PATH: remember the language and go back.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	tag := r.URL.Query().Get("set")
	if printers[tag] != nil {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: tag, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: !s.cfg.InsecureCookies, SameSite: http.SameSiteLaxMode})
	}
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
