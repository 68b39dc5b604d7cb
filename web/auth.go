package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"steward"
)

const (
	sessionCookie = "steward_session"
	csrfCookie    = "steward_csrf" // anonymous visitors' CSRF binding
	sessionTTL    = 14 * 24 * time.Hour
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// identity is who a request acts for.
type identity struct {
	handle  string
	token   *steward.Token   // set when authenticated by an API token
	session *steward.Session // set when authenticated by a browser session
}

// can reports whether the identity's credentials carry scope. Sessions carry
// every scope.
func (id *identity) can(scope string) bool {
	return id != nil && (id.session != nil || id.token.HasScope(scope))
}

// identify returns the request's identity, or nil for an anonymous request.
// A bearer token that fails is an error, never silently anonymous.
func (s *Server) identify(r *http.Request) (*identity, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		bearer, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "use an Authorization: Bearer token")
		}
		t, err := steward.Authenticate(ctx, s.cfg.Store, s.cfg.Store, strings.TrimSpace(bearer), s.cfg.Clock.Now())
		if err != nil {
			return nil, err
		}
		eventOf(ctx).actor = t.Participant
		return &identity{handle: t.Participant, token: t}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := s.cfg.Store.Session(ctx, sessionID(c.Value), s.cfg.Clock.Now())
	if err != nil {
		if steward.ErrorCode(err) == steward.ENOTFOUND {
			return nil, nil // an expired or forged cookie is no session
		}
		return nil, err
	}
	eventOf(ctx).actor = sess.Participant
	return &identity{handle: sess.Participant, session: sess}, nil
}

// sessionID is the stored form of a session cookie's value.
func sessionID(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

func (s *Server) cookie(name, value string, ttl time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/",
		MaxAge: int(ttl.Seconds()), HttpOnly: true, Secure: !s.cfg.InsecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}

// startSession logs handle in: a new random session cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, handle string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	value := base64.RawURLEncoding.EncodeToString(b)
	now := s.cfg.Clock.Now()
	if err := s.cfg.Store.CreateSession(r.Context(), steward.Session{ID: sessionID(value), Participant: handle, Created: now, Expires: now.Add(sessionTTL)}); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(sessionCookie, value, sessionTTL))
	return nil
}

// endSession deletes the request's session, if it has one. clear also
// tells the browser to drop the cookie (not wanted when a new session's
// cookie follows at once).
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, clear bool) error {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	if err := s.cfg.Store.DeleteSession(r.Context(), sessionID(c.Value), s.cfg.Clock.Now()); err != nil {
		return err
	}
	if clear {
		http.SetCookie(w, s.cookie(sessionCookie, "", -time.Second))
	}
	return nil
}

// csrfToken returns the CSRF token for the request's binding: the session
// if there is one, else the anonymous CSRF cookie (set here if missing).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request, id *identity) string {
	if id != nil && id.session != nil {
		return s.csrfMAC("session:" + id.session.ID)
	}
	c, err := r.Cookie(csrfCookie)
	value := ""
	if err == nil && len(c.Value) == 43 {
		value = c.Value
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		value = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, s.cookie(csrfCookie, value, 24*time.Hour))
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: value})
	}
	return s.csrfMAC("anon:" + value)
}

func (s *Server) csrfMAC(binding string) string {
	m := hmac.New(sha256.New, s.cfg.SessionKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies the CSRF token of an unsafe request authenticated by a
// cookie (forms, or the API used from a browser session).
func (s *Server) checkCSRF(r *http.Request, id *identity, got string) error {
	var want string
	switch {
	case id != nil && id.token != nil:
		return nil // bearer tokens are not sent by browsers on their own
	case id != nil && id.session != nil:
		want = s.csrfMAC("session:" + id.session.ID)
	default:
		c, err := r.Cookie(csrfCookie)
		if err != nil {
			return steward.Errorf(steward.EFORBIDDEN, "missing CSRF cookie: reload the form and try again")
		}
		want = s.csrfMAC("anon:" + c.Value)
	}
	if got == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return steward.Errorf(steward.EFORBIDDEN, "invalid CSRF token: reload the form and try again")
	}
	return nil
}
