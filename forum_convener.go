package steward

import (
	"context"
	"fmt"
	"slices"
)

// conveners is the payload of forum.convener-set.
type convenerSet struct {
	Issue       string `json:"issue"`
	Participant string `json:"participant"`
	On          bool   `json:"on"`
}

func init() {
	register("forum.convener-set", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *convenerSet) error {
		var is Issue
		if err := GetJSON(ctx, w, issueKey(p.Issue), &is); err != nil {
			return err
		}
		if is.Kind != IssueGroup {
			return fmt.Errorf("convener of %s: not an intersessional group", p.Issue)
		}
		i := slices.Index(is.Conveners, p.Participant)
		switch {
		case p.On && i < 0:
			is.Conveners = append(is.Conveners, p.Participant)
		case !p.On && i >= 0:
			is.Conveners = slices.Delete(is.Conveners, i, i+1)
		default:
			return fmt.Errorf("convener %s of %s: no change", p.Participant, p.Issue)
		}
		return PutJSON(ctx, w, issueKey(p.Issue), is)
	}))
}

// IsConvener reports whether handle runs the group: the one who formed it
// or a convener named since.
func (is *Issue) IsConvener(handle string) bool {
	return is.Kind == IssueGroup && (handle == is.Proposer || slices.Contains(is.Conveners, handle))
}

// groupRunBy loads the intersessional group issue for something only its
// conveners and the moderators may do.
func groupRunBy(ctx context.Context, tx Tx, actor, issue, what string) (*Issue, error) {
	is, err := LoadIssue(ctx, tx, issue)
	if err != nil {
		return nil, err
	}
	if is.Kind != IssueGroup {
		return nil, Errorf(EINVALID, "%s is not an intersessional group", issue)
	}
	if !is.IsConvener(actor) {
		if err := forumModerator(ctx, tx, actor, what); err != nil {
			return nil, err
		}
	}
	return is, nil
}

// SetConvener returns the command by which a moderator, or a convener of
// an intersessional group, names a participant a convener of it (on) or
// ends their role. The one who formed the group stays a convener.
func SetConvener(actor, issue, participant string, on bool) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		is, err := groupRunBy(ctx, tx, actor, issue, "name a group's conveners")
		if err != nil {
			return nil, err
		}
		if _, err := forumParticipant(ctx, tx, participant, "convene a group"); err != nil {
			if ErrorCode(err) == EFORBIDDEN {
				return nil, Errorf(ENOTFOUND, "no participant %q", participant)
			}
			return nil, err
		}
		if participant == is.Proposer {
			return nil, Errorf(ECONFLICT, "%s formed the group and stays its convener", participant)
		}
		if slices.Contains(is.Conveners, participant) == on {
			return nil, nil
		}
		if on && len(is.Conveners) >= 20 {
			return nil, Errorf(EINVALID, "a group has at most 20 conveners besides the one who formed it")
		}
		_, err = tx.Emit(ctx, actor, "forum.convener-set", convenerSet{Issue: issue, Participant: participant, On: on})
		return nil, err
	}
}
