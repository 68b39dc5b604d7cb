package steward

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// API token scopes. A request authenticated by a token may do only what its
// scopes allow and what its participant may do; a browser session has every
// scope.
const (
	ScopeRead  = "read"  // read the participant's private data (e-mail, tokens)
	ScopeWrite = "write" // act as the participant: profile, submissions, posts
	ScopeVote  = "vote"  // cast votes in the participant's bodies
	ScopeAdmin = "admin" // operator actions, if the participant is an operator
)

// AllScopes lists the scopes in a stable order.
var AllScopes = []string{ScopeRead, ScopeWrite, ScopeVote, ScopeAdmin}

// Token is the public record of an API token. The secret part is known only
// to its holder; the instance keeps its SHA-256.
type Token struct {
	ID          string    `json:"id"`
	Participant string    `json:"participant"`
	Name        string    `json:"name"`
	Scopes      []string  `json:"scopes"`
	Issued      time.Time `json:"issued"`
	Expires     time.Time `json:"expires"`
}

// HasScope reports whether the token carries scope.
func (t *Token) HasScope(scope string) bool { return contains(t.Scopes, scope) }

type tokenRevoked struct {
	ID string `json:"id"`
}

func tokenKey(id string) string              { return "token/" + id }
func tokenSecretKey(id string) string        { return "token-hash/" + id }
func tokenIndexKey(handle, id string) string { return "token-of/" + handle + "/" + id }

func init() {
	register("token.issued", applyJSON(func(ctx context.Context, w StateWriter, e *Event, t *Token) error {
		if err := mustNotExist(ctx, w, tokenKey(t.ID)); err != nil {
			return err
		}
		t.Issued = e.Time
		if err := w.Put(ctx, tokenIndexKey(t.Participant, t.ID), []byte("{}")); err != nil {
			return err
		}
		return PutJSON(ctx, w, tokenKey(t.ID), t)
	}))
	register("token.revoked", applyJSON(func(ctx context.Context, w StateWriter, e *Event, t *tokenRevoked) error {
		var tok Token
		if err := GetJSON(ctx, w, tokenKey(t.ID), &tok); err != nil {
			return err
		}
		if err := w.Delete(ctx, tokenIndexKey(tok.Participant, tok.ID)); err != nil {
			return err
		}
		return w.Delete(ctx, tokenKey(t.ID))
	}))
}

// NewTokenSecret makes a fresh token: its ID and the full bearer string
// "stw_<id>_<secret>" to hand to the holder once.
func NewTokenSecret() (id, bearer string, err error) {
	b := make([]byte, 8+32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	id = hex.EncodeToString(b[:8])
	return id, "stw_" + id + "_" + base64.RawURLEncoding.EncodeToString(b[8:]), nil
}

// ParseBearer splits a bearer token into its ID and secret.
func ParseBearer(bearer string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(bearer, "stw_")
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return "", "", false
	}
	return id, secret, true
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return []byte(hex.EncodeToString(h[:]))
}

// IssueToken returns the command that records a new API token for actor.
// bearer comes from [NewTokenSecret]. ttl is the token's lifetime, at most a
// year.
func IssueToken(actor, id, bearer, name string, scopes []string, ttl time.Duration) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := LoadParticipant(ctx, tx, actor); err != nil {
			return nil, err
		}
		gotID, secret, ok := ParseBearer(bearer)
		if !ok || gotID != id {
			return nil, Errorf(EINVALID, "malformed token")
		}
		if n := utf8.RuneCountInString(name); n == 0 || n > 100 {
			return nil, Errorf(EINVALID, "token name: give 1 to 100 characters")
		}
		if len(scopes) == 0 {
			return nil, Errorf(EINVALID, "scopes: give at least one of %s", strings.Join(AllScopes, ", "))
		}
		var sc []string
		for _, s := range AllScopes { // keep a canonical order
			if contains(scopes, s) {
				sc = append(sc, s)
			}
		}
		for _, s := range scopes {
			if !contains(AllScopes, s) {
				return nil, Errorf(EINVALID, "unknown scope %q: want %s", s, strings.Join(AllScopes, ", "))
			}
		}
		if ttl <= 0 || ttl > 366*24*time.Hour {
			return nil, Errorf(EINVALID, "a token lives from 1 second to 366 days")
		}
		t := Token{ID: id, Participant: actor, Name: name, Scopes: sc, Expires: tx.Now().Add(ttl).Truncate(time.Second)}
		if _, err := tx.Emit(ctx, actor, "token.issued", t); err != nil {
			return nil, err
		}
		if err := tx.PutSecret(ctx, tokenSecretKey(id), hashSecret(secret)); err != nil {
			return nil, err
		}
		t.Issued = tx.Now()
		return &t, nil
	}
}

// RevokeToken returns the command that revokes a token of actor's (or any
// token, for an operator).
func RevokeToken(actor, id string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		var t Token
		if err := GetJSON(ctx, tx, tokenKey(id), &t); err != nil {
			return nil, Errorf(ENOTFOUND, "no token %q", id)
		}
		if t.Participant != actor {
			if err := requireOperator(ctx, tx, actor, "revoke another participant's token"); err != nil {
				return nil, err
			}
		}
		if _, err := tx.Emit(ctx, actor, "token.revoked", tokenRevoked{ID: id}); err != nil {
			return nil, err
		}
		return nil, tx.PutSecret(ctx, tokenSecretKey(id), nil)
	}
}

// SecretReader reads private data outside a transaction.
type SecretReader interface {
	Secret(ctx context.Context, key string) ([]byte, error)
}

// Authenticate checks a bearer token and returns its record, or an
// EUNAUTHORIZED error that does not say which part was wrong.
func Authenticate(ctx context.Context, r StateReader, s SecretReader, bearer string, now time.Time) (*Token, error) {
	bad := Errorf(EUNAUTHORIZED, "invalid or expired token")
	id, secret, ok := ParseBearer(bearer)
	if !ok {
		return nil, bad
	}
	want, err := s.Secret(ctx, tokenSecretKey(id))
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, bad
		}
		return nil, err
	}
	if subtle.ConstantTimeCompare(want, hashSecret(secret)) != 1 {
		return nil, bad
	}
	var t Token
	if err := GetJSON(ctx, r, tokenKey(id), &t); err != nil {
		return nil, bad
	}
	if !now.Before(t.Expires) {
		return nil, bad
	}
	return &t, nil
}

// CheckLogin checks a participant's password. It returns EUNAUTHORIZED for
// an unknown handle or a wrong password alike, and spends the time of a
// check with the default cost either way.
func CheckLogin(ctx context.Context, s SecretReader, handle, password string) error {
	return CheckLoginCost(ctx, s, handle, password, DefaultPasswordParams)
}

// CheckLoginCost is CheckLogin for an instance whose passwords are hashed
// with p: an unknown handle costs the same time as a real account.
func CheckLoginCost(ctx context.Context, s SecretReader, handle, password string, p PasswordParams) error {
	bad := Errorf(EUNAUTHORIZED, "unknown handle or wrong password")
	h, err := s.Secret(ctx, passwordKey(handle))
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			// Spend the same time as a real check, so the answer's timing
			// does not tell which handles exist.
			CheckPassword(dummyHash(p), password)
			return bad
		}
		return err
	}
	if !CheckPassword(string(h), password) {
		return bad
	}
	return nil
}

var dummyHashes sync.Map // PasswordParams -> string

func dummyHash(p PasswordParams) string {
	if h, ok := dummyHashes.Load(p); ok {
		return h.(string)
	}
	h, _ := HashPassword("not a real password", p)
	dummyHashes.Store(p, h)
	return h
}

// Email returns a participant's e-mail address (private).
func Email(ctx context.Context, s SecretReader, handle string) (string, error) {
	b, err := s.Secret(ctx, "email-of/"+handle)
	return string(b), err
}

// Tokens lists the tokens of a participant.
func Tokens(ctx context.Context, r StateReader, handle string) ([]Token, error) {
	kvs, err := ScanAll(ctx, r, "token-of/"+handle+"/")
	if err != nil {
		return nil, err
	}
	mine := make([]Token, 0, len(kvs))
	for _, kv := range kvs {
		var t Token
		if err := GetJSON(ctx, r, tokenKey(kv.Key[strings.LastIndexByte(kv.Key, '/')+1:]), &t); err != nil {
			return nil, err
		}
		mine = append(mine, t)
	}
	return mine, nil
}
