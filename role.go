package steward

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Roles a participant may hold. Body member and chair come from the bodies
// (see [SeatMember]); the others are granted by an operator and recorded in
// the ledger. The charter names who moderates (a body, or the operators).
const (
	RoleOperator        = "operator"         // runs the instance; implements approved changes
	RoleModerator       = "moderator"        // moderates the forum
	RoleResourceContact = "resource-contact" // a contact of one resource, named by the scope
	RoleBodyMember      = "body-member"      // derived: holds a seat in a body
	RoleChair           = "chair"            // derived: chairs a body
)

// Grant is one role held by a participant. Scope names the resource of a
// resource contact ("tld:example", "asn:64496"), and is empty otherwise.
type Grant struct {
	Participant string    `json:"participant"`
	Role        string    `json:"role"`
	Scope       string    `json:"scope,omitempty"`
	Granted     time.Time `json:"granted"`
	By          string    `json:"by"`
}

var scopeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*:[A-Za-z0-9._:/-]{1,200}$`)

func grantKey(handle, role, scope string) string {
	k := "role/" + handle + "/" + role
	if scope != "" {
		k += "/" + scope
	}
	return k
}

func init() {
	register("role.granted", applyJSON(func(ctx context.Context, w StateWriter, e *Event, g *Grant) error {
		if _, err := w.Get(ctx, participantKey(g.Participant)); err != nil {
			return err
		}
		g.Granted, g.By = e.Time, e.Actor
		if g.Role == RoleResourceContact {
			if err := w.Put(ctx, contactKey(g.Scope, g.Participant), []byte("{}")); err != nil {
				return err
			}
		}
		return PutJSON(ctx, w, grantKey(g.Participant, g.Role, g.Scope), g)
	}))
	register("role.revoked", applyJSON(func(ctx context.Context, w StateWriter, e *Event, g *Grant) error {
		k := grantKey(g.Participant, g.Role, g.Scope)
		if _, err := w.Get(ctx, k); err != nil {
			return err
		}
		if g.Role == RoleResourceContact {
			if err := w.Delete(ctx, contactKey(g.Scope, g.Participant)); err != nil {
				return err
			}
		}
		return w.Delete(ctx, k)
	}))
}

// HasGrant reports whether handle holds role (with scope) by grant.
func HasGrant(ctx context.Context, r StateReader, handle, role, scope string) (bool, error) {
	_, err := r.Get(ctx, grantKey(handle, role, scope))
	switch ErrorCode(err) {
	case "":
		return true, nil
	case ENOTFOUND:
		return false, nil
	default:
		return false, err
	}
}

// IsOperator reports whether actor may act as an operator: the init actor,
// or a participant granted the operator role.
func IsOperator(ctx context.Context, r StateReader, actor string) (bool, error) {
	if actor == ActorInit {
		return true, nil
	}
	return HasGrant(ctx, r, actor, RoleOperator, "")
}

// IsModerator reports whether handle moderates the forum: by grant, or as a
// member of the body the charter names as moderators, or as an operator when
// the charter says operators moderate.
func IsModerator(ctx context.Context, r StateReader, handle string) (bool, error) {
	if ok, err := HasGrant(ctx, r, handle, RoleModerator, ""); ok || err != nil {
		return ok, err
	}
	c, err := CurrentCharter(ctx, r)
	if err != nil {
		return false, err
	}
	switch m := c.Roles.Moderators; m {
	case "":
		return false, nil
	case RoleOperator:
		return IsOperator(ctx, r, handle)
	default:
		_, err := LoadMember(ctx, r, m, handle)
		if ErrorCode(err) == ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	}
}

// Roles lists the grants of a participant.
func Roles(ctx context.Context, r StateReader, handle string) ([]Grant, error) {
	return listJSON[Grant](ctx, r, "role/"+handle+"/")
}

func requireOperator(ctx context.Context, r StateReader, actor, what string) error {
	ok, err := IsOperator(ctx, r, actor)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(EFORBIDDEN, "only an operator may %s", what)
	}
	return nil
}

// GrantRole returns the command by which an operator grants a role.
func GrantRole(actor string, g Grant) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := requireOperator(ctx, tx, actor, "grant roles"); err != nil {
			return nil, err
		}
		if err := validGrant(g); err != nil {
			return nil, err
		}
		if _, err := LoadParticipant(ctx, tx, g.Participant); err != nil {
			return nil, err
		}
		if ok, err := HasGrant(ctx, tx, g.Participant, g.Role, g.Scope); err != nil {
			return nil, err
		} else if ok {
			return nil, Errorf(ECONFLICT, "%s holds the role %s already", g.Participant, g.Role)
		}
		_, err := tx.Emit(ctx, actor, "role.granted", Grant{Participant: g.Participant, Role: g.Role, Scope: g.Scope})
		return nil, err
	}
}

// RevokeRole returns the command by which an operator revokes a role.
func RevokeRole(actor string, g Grant) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := requireOperator(ctx, tx, actor, "revoke roles"); err != nil {
			return nil, err
		}
		if ok, err := HasGrant(ctx, tx, g.Participant, g.Role, g.Scope); err != nil {
			return nil, err
		} else if !ok {
			return nil, Errorf(ENOTFOUND, "%s does not hold the role %s", g.Participant, g.Role)
		}
		if g.Role == RoleOperator && g.Participant == actor {
			return nil, Errorf(EFORBIDDEN, "an operator may not revoke its own operator role")
		}
		_, err := tx.Emit(ctx, actor, "role.revoked", Grant{Participant: g.Participant, Role: g.Role, Scope: g.Scope})
		return nil, err
	}
}

func validGrant(g Grant) error {
	switch g.Role {
	case RoleOperator, RoleModerator:
		if g.Scope != "" {
			return Errorf(EINVALID, "the role %s takes no scope", g.Role)
		}
	case RoleResourceContact:
		if !scopeRE.MatchString(g.Scope) {
			return Errorf(EINVALID, "a resource contact needs a scope naming the resource, such as tld:example")
		}
	case RoleBodyMember, RoleChair:
		return Errorf(EINVALID, "the role %s comes from a body's seats, not from a grant", g.Role)
	default:
		return Errorf(EINVALID, "unknown role %q: want one of %s", g.Role, strings.Join([]string{RoleOperator, RoleModerator, RoleResourceContact}, ", "))
	}
	return nil
}
