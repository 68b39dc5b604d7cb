package web_test

// Browser journeys: Debian's Chromium, driven by chromedp, against the
// server on a real loopback listener. Without Chromium the journeys skip,
// except under CI (CI non-empty), where scripts/test.sh installs it and
// its absence is a failure.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"steward"
	"steward/web"
)

// chromiumPath returns the browser to drive, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("STEWARD_TEST_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but there is no Chromium at %s (scripts/test.sh installs Debian's chromium): %v", p, err)
		}
		t.Skipf("no Chromium at %s; apt-get install chromium to run the browser journeys", p)
	}
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("browser journeys skipped in -short mode")
	}
	return p
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// tab's context, which ends after the timeout.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	profile := t.TempDir() // removed after the browser has exited
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// stepTimeout bounds each group of browser steps, so that a missing
// element fails the journey at once rather than at the end of the budget.
const stepTimeout = 20 * time.Second

// run runs browser steps, failing t with what was being done.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// focused describes the focused element.
type focused struct {
	Class, Text, Href string
	Visible           bool
}

// TestBrowserJourneys walks the main journeys of a new participant in a
// real browser: register, see oneself in the public lists and the ledger,
// log out and in again, make an API token, check one's ledger entry's
// inclusion proof, and use the keyboard.
func TestBrowserJourneys(t *testing.T) {
	// Not parallel: Chromium wants both cores while it starts.
	start := time.Now()
	ctx := newBrowser(t, 2*time.Minute)
	t.Logf("browser up after %v", time.Since(start))
	f := newFixture(t)
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	base := srv.URL
	const (
		handle   = "dana"
		password = "dana's long passphrase"
	)
	main := chromedp.CSS("main")

	t.Run("register", func(t *testing.T) {
		run(t, ctx, "fill the registration form",
			chromedp.Navigate(base+"/register"),
			chromedp.WaitVisible(chromedp.ID("handle")),
			chromedp.SendKeys(chromedp.ID("handle"), handle),
			chromedp.SendKeys(chromedp.ID("name"), "Dana Example"),
			chromedp.SetValue(chromedp.ID("group"), "technical-academic"),
			chromedp.SendKeys(chromedp.ID("affiliation"), "Universidad de Ejemplo"),
			chromedp.SetValue(chromedp.ID("region"), "latin-america-caribbean"),
			chromedp.Clear(chromedp.ID("languages")),
			chromedp.SendKeys(chromedp.ID("languages"), "es, pt-BR"),
			chromedp.SendKeys(chromedp.ID("email"), "dana@example.org"),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS(`main form[action="/register"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("p.flash")),
		)
		if loc := get(t, ctx, "location", chromedp.Location()); loc != base+"/account?flash=welcome" {
			t.Errorf("after registering at %s", loc)
		}
		if flash := get(t, ctx, "flash", chromedp.Text(chromedp.CSS("p.flash"))); !strings.Contains(flash, "Welcome!") {
			t.Errorf("flash %q", flash)
		}
		p, err := steward.LoadParticipant(f.ctx, f.store, handle)
		if err != nil {
			t.Fatal(err)
		}
		if p.Group != "technical-academic" || p.Region != "latin-america-caribbean" || strings.Join(p.Languages, ",") != "es,pt-BR" {
			t.Errorf("registered %+v", p)
		}
		if e := f.lastEntry(t); e.Kind != "participant.registered" || e.Actor != handle {
			t.Errorf("last entry %s by %s", e.Kind, e.Actor)
		}

		run(t, ctx, "participants", chromedp.Navigate(base+"/participants"), chromedp.WaitVisible(main))
		found := get(t, ctx, "participants row", chromedp.Evaluate[bool](`[...document.querySelectorAll("main tbody tr")].some(r =>
			r.cells[0].textContent.trim() === "dana" && r.cells[2].textContent.includes("technical-academic"))`))
		if !found {
			t.Errorf("/participants does not list dana")
		}
		run(t, ctx, "ledger", chromedp.Navigate(base+"/ledger"), chromedp.WaitVisible(main))
		found = get(t, ctx, "ledger row", chromedp.Evaluate[bool](`[...document.querySelectorAll("main tbody tr")].some(r =>
			r.cells[2].textContent.trim() === "dana" && r.cells[3].textContent.trim() === "participant.registered")`))
		if !found {
			t.Errorf("/ledger does not show dana's participant.registered entry")
		}
	})

	t.Run("logout-login", func(t *testing.T) {
		run(t, ctx, "log out",
			chromedp.Navigate(base+"/account"),
			chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS("p.flash")),
		)
		if flash := get(t, ctx, "flash", chromedp.Text(chromedp.CSS("p.flash"))); flash != "You are logged out." {
			t.Errorf("flash %q", flash)
		}
		run(t, ctx, "log in with a wrong password",
			chromedp.Navigate(base+"/login"),
			chromedp.SendKeys(chromedp.ID("handle"), handle),
			chromedp.SendKeys(chromedp.ID("password"), "not dana's passphrase"),
			chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)),
		)
		if msg := get(t, ctx, "alert", chromedp.Text(chromedp.CSS(`[role=alert]`))); msg != "unknown handle or wrong password" {
			t.Errorf("alert %q", msg)
		}
		if v := get(t, ctx, "handle kept", chromedp.Value(chromedp.ID("handle"))); v != handle {
			t.Errorf("handle field %q after the failed login", v)
		}
		if v := get(t, ctx, "password dropped", chromedp.Value(chromedp.ID("password"))); v != "" {
			t.Errorf("password field refilled")
		}
		run(t, ctx, "log in",
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("token-name")),
		)
		if loc := get(t, ctx, "location", chromedp.Location()); loc != base+"/account" {
			t.Errorf("after logging in at %s", loc)
		}
		// The session cookie is HttpOnly: scripts cannot read it.
		if c := get(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(c, "steward_session") {
			t.Errorf("document.cookie shows the session: %q", c)
		}
	})

	t.Run("api-token", func(t *testing.T) {
		run(t, ctx, "create a token",
			chromedp.Navigate(base+"/account"),
			chromedp.SendKeys(chromedp.ID("token-name"), "my script"),
			chromedp.Click(chromedp.CSS(`input[name=scopes][value=write]`)),
			chromedp.SetValue(chromedp.ID("ttl"), "7"),
			chromedp.Click(chromedp.CSS(`main form[action="/account/tokens"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("section.notice code")),
		)
		bearer := strings.TrimSpace(get(t, ctx, "bearer", chromedp.Text(chromedp.CSS("section.notice code"))))
		if !strings.HasPrefix(bearer, "stw_") {
			t.Fatalf("bearer %q", bearer)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var me web.Me
		err = json.NewDecoder(resp.Body).Decode(&me)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("/api/v1/me: %s %v", resp.Status, err)
		}
		if me.Handle != handle || me.Via != "token" || strings.Join(me.Scopes, ",") != "read,write" || me.Email != "dana@example.org" {
			t.Errorf("me %+v", me)
		}
		run(t, ctx, "reload the account page", chromedp.Navigate(base+"/account"), chromedp.WaitVisible(main))
		if body := get(t, ctx, "account", chromedp.Text(main)); strings.Contains(body, bearer) || !strings.Contains(body, "my script") {
			t.Errorf("the account page shows the bearer again, or not the token's name")
		}
	})

	t.Run("inclusion-proof", func(t *testing.T) {
		f.sign(t)
		var seq int64 = -1
		n := f.ledgerSize(t)
		raw, err := f.store.Entries(f.ctx, 0, n)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range raw {
			e, err := steward.DecodeEvent(d)
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind == "participant.registered" && e.Actor == handle {
				seq = int64(i)
			}
		}
		if seq < 0 {
			t.Fatal("no registration entry")
		}
		run(t, ctx, "entry page", chromedp.Navigate(fmt.Sprintf("%s/ledger/%d", base, seq)), chromedp.WaitVisible(chromedp.CSS("ol.hashes")))
		hashes := get(t, ctx, "proof hashes", chromedp.Evaluate[[]string](`[...document.querySelectorAll("ol.hashes li code")].map(c => c.textContent)`))
		resp := f.anon().get(fmt.Sprintf("/api/v1/log/proof/inclusion?index=%d&size=%d", seq, n))
		want := decodeJSON[web.InclusionProof](t, resp, http.StatusOK)
		if len(hashes) == 0 || strings.Join(hashes, " ") != strings.Join(want.Proof, " ") {
			t.Errorf("page lists %d hashes %v, want %v", len(hashes), hashes, want.Proof)
		}
		if text := get(t, ctx, "entry", chromedp.Text(main)); !strings.Contains(text, fmt.Sprintf("tree of %d entries", n)) || !strings.Contains(text, want.Root) {
			t.Errorf("the page does not name the tree and root the proof is for")
		}
	})

	t.Run("keyboard", func(t *testing.T) {
		for _, page := range []string{"/", "/register", "/ledger"} {
			run(t, ctx, "tab", chromedp.Navigate(base+page), chromedp.WaitVisible(main), chromedp.KeyEvent(kb.Tab))
			focus := get(t, ctx, "focus", chromedp.Evaluate[focused](`(() => { const a = document.activeElement, r = a.getBoundingClientRect();
				return {Class: a.className, Text: a.textContent.trim(), Href: a.getAttribute("href") || "",
					Visible: r.left >= 0 && r.top >= 0 && r.width > 0 && r.right <= innerWidth}; })()`))
			if focus.Class != "skip" || focus.Href != "#main" || focus.Text != "Skip to content" {
				t.Errorf("%s: the first Tab focuses %+v, want the skip link", page, focus)
			}
			if !focus.Visible {
				t.Errorf("%s: the focused skip link is off screen", page)
			}
			run(t, ctx, "follow the skip link", chromedp.KeyEvent(kb.Enter))
			if hash := get(t, ctx, "hash", chromedp.Evaluate[string](`location.hash`)); hash != "#main" {
				t.Errorf("%s: Enter on the skip link leads to %q", page, hash)
			}
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		run(t, ctx, "charter", chromedp.Navigate(base+"/charter"), chromedp.WaitVisible(main))
		buf := get(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		path := filepath.Join(t.TempDir(), "charter.png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("STEWARD_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "charter.png"), buf, 0o644)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("screenshot is not a PNG")
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width < 100 || cfg.Height < 100 {
			t.Errorf("screenshot %dx%d: %v", cfg.Width, cfg.Height, err)
		}
	})
	t.Logf("browser journeys took %v", time.Since(start).Round(time.Millisecond))
}
