package steward

import (
	"context"
	"encoding/json"
)

// MailMode is how a participant wants the forum's e-mail: what they follow
// and mentions of them.
type MailMode string

const (
	// MailDigest: mentions at once, what they follow in a daily digest
	// (the default).
	MailDigest MailMode = "digest"
	// MailImmediate: mentions and what they follow, each at once.
	MailImmediate MailMode = "immediate"
	// MailMentions: only mentions, at once.
	MailMentions MailMode = "mentions"
	// MailNone: no forum e-mail at all.
	MailNone MailMode = "none"
)

// MailModes lists the modes, the default first.
var MailModes = []MailMode{MailDigest, MailImmediate, MailMentions, MailNone}

// forumMailSet is the payload of forum.mail-set.
type forumMailSet struct {
	Mode MailMode `json:"mode"`
}

func forumMailKey(handle string) string { return "forum/mail/" + handle }

func init() {
	register("forum.mail-set", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *forumMailSet) error {
		if p.Mode == MailDigest {
			return w.Delete(ctx, forumMailKey(e.Actor))
		}
		return PutJSON(ctx, w, forumMailKey(e.Actor), p)
	}))
}

// SetForumMail returns the command by which a participant chooses how the
// forum mails them. Choosing the mode in force records nothing.
func SetForumMail(actor string, mode MailMode) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "choose forum e-mail"); err != nil {
			return nil, err
		}
		known := false
		for _, m := range MailModes {
			known = known || m == mode
		}
		if !known {
			return nil, Errorf(EINVALID, "forum e-mail mode %q: want digest, immediate, mentions or none", mode)
		}
		cur, err := ForumMail(ctx, tx, actor)
		if err != nil || cur == mode {
			return nil, err
		}
		_, err = tx.Emit(ctx, actor, "forum.mail-set", forumMailSet{Mode: mode})
		return nil, err
	}
}

// ForumMail returns how the forum mails handle.
func ForumMail(ctx context.Context, r StateReader, handle string) (MailMode, error) {
	b, err := r.Get(ctx, forumMailKey(handle))
	if ErrorCode(err) == ENOTFOUND {
		return MailDigest, nil
	}
	if err != nil {
		return "", err
	}
	var p forumMailSet
	if err := json.Unmarshal(b, &p); err != nil {
		return "", err
	}
	return p.Mode, nil
}
