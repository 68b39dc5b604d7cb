package web

import (
	"bytes"
	"html/template"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// Forum texts are untrusted markdown. goldmark renders them (raw HTML in
// the source is dropped, as goldmark does without WithUnsafe) and
// bluemonday's user-generated-content policy sanitises the result, so that
// nothing but ordinary formatting, links and images reaches the page.

var (
	md = goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
	sanitiser = func() *bluemonday.Policy {
		p := bluemonday.UGCPolicy()
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(false)
		p.RequireNoReferrerOnLinks(true)
		return p
	}()
)

// renderMarkdown turns untrusted markdown into safe HTML.
func renderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark does not fail on any input; show the text escaped if it does.
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(sanitiser.SanitizeBytes(buf.Bytes())) //nolint:gosec // sanitised above
}

// mdCache keeps rendered texts by a caller's key (which must change with
// the text), so that popular thread pages do not render the same posts
// again. It forgets everything when it holds too much.
type mdCache struct {
	mu sync.Mutex
	m  map[string]template.HTML
}

const mdCacheMax = 20000

func (c *mdCache) render(key, src string) template.HTML {
	c.mu.Lock()
	h, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return h
	}
	h = renderMarkdown(src)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= mdCacheMax {
		c.m = make(map[string]template.HTML, 1024)
	}
	c.m[key] = h
	c.mu.Unlock()
	return h
}
