package steward

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Participant is a person's account: public profile in the state and the
// ledger; e-mail and password hash kept private (see [Tx.Secret]).
type Participant struct {
	Handle      string    `json:"handle"`
	Name        string    `json:"name"`
	Group       string    `json:"group"` // a stakeholder group of the charter
	Affiliation string    `json:"affiliation,omitempty"`
	Region      string    `json:"region"` // a region of the charter
	Languages   []string  `json:"languages"`
	Registered  time.Time `json:"registered"`
}

var handleRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

// ValidHandle reports whether h may be a participant's handle: 2 to 32
// characters, lowercase letters, digits and dashes, starting with a letter.
func ValidHandle(h string) bool { return handleRE.MatchString(h) }

// Validate checks the participant against the charter's groups and regions.
func (p *Participant) Validate(ctx context.Context, r StateReader) error {
	if !ValidHandle(p.Handle) {
		return Errorf(EINVALID, "handle %q: use 2 to 32 lowercase letters, digits and dashes, starting with a letter", p.Handle)
	}
	if n := utf8.RuneCountInString(p.Name); n == 0 || n > 100 || strings.TrimSpace(p.Name) != p.Name || !utf8.ValidString(p.Name) {
		return Errorf(EINVALID, "name: give 1 to 100 characters without leading or trailing spaces")
	}
	if utf8.RuneCountInString(p.Affiliation) > 200 {
		return Errorf(EINVALID, "affiliation: at most 200 characters")
	}
	c, err := CurrentCharter(ctx, r)
	if err != nil {
		return err
	}
	if _, ok := c.Group(p.Group); !ok {
		ids := make([]string, len(c.Groups))
		for i, g := range c.Groups {
			ids[i] = g.ID
		}
		return Errorf(EINVALID, "stakeholder group %q is not one of the charter's: %s", p.Group, strings.Join(ids, ", "))
	}
	if !c.HasRegion(p.Region) {
		return Errorf(EINVALID, "region %q is not one of the charter's: %s", p.Region, strings.Join(c.Regions, ", "))
	}
	if len(p.Languages) == 0 || len(p.Languages) > 10 {
		return Errorf(EINVALID, "languages: give 1 to 10 language tags, such as en or fr")
	}
	for i, l := range p.Languages {
		tag, err := language.Parse(l)
		if err != nil {
			return Errorf(EINVALID, "language %q is not a BCP 47 tag", l)
		}
		p.Languages[i] = tag.String()
	}
	return nil
}

type participantUpdated struct {
	Handle      string   `json:"handle"`
	Name        string   `json:"name"`
	Affiliation string   `json:"affiliation,omitempty"`
	Languages   []string `json:"languages"`
}

func participantKey(h string) string { return "participant/" + h }

func init() {
	register("participant.registered", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *Participant) error {
		if err := mustNotExist(ctx, w, participantKey(p.Handle)); err != nil {
			return err
		}
		p.Registered = e.Time
		return PutJSON(ctx, w, participantKey(p.Handle), p)
	}))
	register("participant.updated", applyJSON(func(ctx context.Context, w StateWriter, e *Event, u *participantUpdated) error {
		var p Participant
		if err := GetJSON(ctx, w, participantKey(u.Handle), &p); err != nil {
			return err
		}
		p.Name, p.Affiliation, p.Languages = u.Name, u.Affiliation, u.Languages
		return PutJSON(ctx, w, participantKey(p.Handle), p)
	}))
}

// Registration is what a new participant gives. PasswordHash is computed by
// the caller with [HashPassword], outside the write transaction, because
// hashing is deliberately slow.
type Registration struct {
	Participant
	Email        string
	PasswordHash string
}

// Register returns the command that registers a participant. The actor is
// the participant itself, or the init actor for demo and operator accounts.
func Register(actor string, reg Registration) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		p := reg.Participant
		p.Languages = slices.Clone(p.Languages)
		if err := p.Validate(ctx, tx); err != nil {
			return nil, err
		}
		email, err := normalizeEmail(reg.Email)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(reg.PasswordHash, "$argon2id$") {
			return nil, fmt.Errorf("register %s: password not hashed", p.Handle)
		}
		if _, err := tx.Get(ctx, participantKey(p.Handle)); err == nil {
			return nil, Errorf(ECONFLICT, "the handle %q is taken", p.Handle)
		} else if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		if _, err := tx.Secret(ctx, emailKey(email)); err == nil {
			return nil, Errorf(ECONFLICT, "an account with this e-mail address exists already")
		} else if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		if actor != ActorInit && actor != p.Handle {
			return nil, Errorf(EFORBIDDEN, "a participant registers only itself")
		}
		p.Registered = tx.Now()
		if _, err := tx.Emit(ctx, actor, "participant.registered", p); err != nil {
			return nil, err
		}
		for k, v := range map[string]string{
			passwordKey(p.Handle):  reg.PasswordHash,
			emailKey(email):        p.Handle,
			"email-of/" + p.Handle: email,
		} {
			if err := tx.PutSecret(ctx, k, []byte(v)); err != nil {
				return nil, err
			}
		}
		return &p, nil
	}
}

// UpdateProfile returns the command by which a participant changes its name,
// affiliation and languages.
func UpdateProfile(actor string, u Participant) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		cur, err := LoadParticipant(ctx, tx, u.Handle)
		if err != nil {
			return nil, err
		}
		if actor != u.Handle {
			return nil, Errorf(EFORBIDDEN, "only %s may change its profile", u.Handle)
		}
		next := *cur
		next.Name, next.Affiliation, next.Languages = u.Name, u.Affiliation, slices.Clone(u.Languages)
		if err := next.Validate(ctx, tx); err != nil {
			return nil, err
		}
		_, err = tx.Emit(ctx, actor, "participant.updated", participantUpdated{Handle: next.Handle, Name: next.Name, Affiliation: next.Affiliation, Languages: next.Languages})
		return &next, err
	}
}

func normalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > 254 {
		return "", Errorf(EINVALID, "e-mail address %q is not valid", s)
	}
	return strings.ToLower(a.Address), nil
}

func passwordKey(h string) string { return "password/" + h }
func emailKey(e string) string    { return "email/" + e }

// LoadParticipant reads a participant, or returns an ENOTFOUND error naming it.
func LoadParticipant(ctx context.Context, r StateReader, handle string) (*Participant, error) {
	return loadJSON[Participant](ctx, r, participantKey(handle), func() error { return Errorf(ENOTFOUND, "no participant %q", handle) })
}

// ListParticipants returns up to limit participants after the handle after.
func ListParticipants(ctx context.Context, r StateReader, after string, limit int) ([]Participant, error) {
	kvs, err := r.Scan(ctx, "participant/", afterKey("participant/", after), limit)
	if err != nil {
		return nil, err
	}
	return decodeAll[Participant](kvs)
}

func afterKey(prefix, after string) string {
	if after == "" {
		return ""
	}
	return prefix + after
}

func decodeAll[T any](kvs []KV) ([]T, error) {
	out := make([]T, len(kvs))
	for i, kv := range kvs {
		if err := unmarshalStrict(kv.Value, &out[i]); err != nil {
			return nil, fmt.Errorf("state %s: %w", kv.Key, err)
		}
	}
	return out, nil
}
