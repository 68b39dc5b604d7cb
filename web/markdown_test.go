package web

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var allowedTags = map[string]bool{}

func init() {
	for _, t := range strings.Fields("p br strong em del code pre blockquote ul ol li a img h1 h2 h3 h4 h5 h6 hr table thead tbody tr th td input span div sup sub dl dt dd abbr cite q s b i u small mark ins kbd samp var tt figure figcaption caption col colgroup tfoot details summary bdi bdo big center rp rt ruby wbr time area map meter progress") {
		allowedTags[t] = true
	}
}

// FuzzMarkdown renders arbitrary markdown, as posted by anyone: it never
// panics, and what comes out has no script, no event handler, no
// javascript: or data: link, no frame, style or form, and only tags
// bluemonday's UGC policy allows.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"# Title\n\n*em* **strong** `code` [link](https://example.org) ![img](https://example.org/a.png)",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"<a href=\"javascript:alert(1)\">x</a>",
		"<iframe src=//evil.example></iframe>",
		"<style>body{display:none}</style>",
		"<form action=//evil><input name=x></form>",
		"```html\n<script>alert(1)</script>\n```",
		"> quote\n>> nested\n\n- [ ] task\n- [x] done",
		"| a | b |\n|---|---|\n| <b onclick=x>1</b> | 2 |",
		"[a]: javascript:alert(1)\n\n[a]",
		"<svg><script>alert(1)</script></svg>",
		"<<<<>>>>**__**__``~~",
		"\x00\xff\xfe",
		strings.Repeat("[", 10000),
		strings.Repeat("> ", 5000) + "deep",
		strings.Repeat("*a **b ", 3000),
		"https://example.org/<script>",
		"<div style=\"background:url(javascript:alert(1))\">x</div>",
	} {
		f.Add(s)
	}
	bad := regexp.MustCompile(`(?i)javascript:|vbscript:|data:text`)
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 16000 {
			return
		}
		out := string(renderMarkdown(src))
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			if !allowedTags[tok.Data] {
				t.Fatalf("tag <%s> in the output of %q:\n%s", tok.Data, src, out)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") || a.Key == "style" || a.Key == "srcdoc" || a.Key == "formaction" {
					t.Fatalf("attribute %s on <%s> in the output of %q", a.Key, tok.Data, src)
				}
				if (a.Key == "href" || a.Key == "src") && bad.MatchString(strings.ReplaceAll(a.Val, " ", "")) {
					t.Fatalf("%s=%q in the output of %q", a.Key, a.Val, src)
				}
			}
		}
	})
}

func TestMarkdownRenders(t *testing.T) {
	for src, want := range map[string]string{
		"**bold**":                        "<strong>bold</strong>",
		"[x](https://example.org)":        `<a href="https://example.org" rel="nofollow noreferrer">x</a>`,
		"> quoted":                        "<blockquote>",
		"| a |\n|---|\n| 1 |":             "<table>",
		"<script>alert(1)</script>\n\nhi": "hi",
	} {
		if got := string(renderMarkdown(src)); !strings.Contains(got, want) || strings.Contains(got, "<script") {
			t.Errorf("renderMarkdown(%q) = %q, want %q in it", src, got, want)
		}
	}
}
