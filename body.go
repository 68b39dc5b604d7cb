package steward

import (
	"context"
	"fmt"
	"time"

	"steward/charter"
)

// Member is a participant seated in a body of the charter.
type Member struct {
	Body        string    `json:"body"`
	Participant string    `json:"participant"`
	Group       string    `json:"group"`
	Region      string    `json:"region"`
	Capacity    string    `json:"capacity"` // voting, advisory or observer, from the seat
	Seated      time.Time `json:"seated"`
}

type bodyChair struct {
	Body        string `json:"body"`
	Participant string `json:"participant"`
}

type memberRef struct {
	Body        string `json:"body"`
	Participant string `json:"participant"`
	Reason      string `json:"reason,omitempty"`
}

func memberKey(body, handle string) string { return "body/" + body + "/member/" + handle }
func chairKey(body string) string          { return "body/" + body + "/chair" }

func init() {
	register("body.seated", applyJSON(func(ctx context.Context, w StateWriter, e *Event, m *Member) error {
		if _, err := w.Get(ctx, participantKey(m.Participant)); err != nil {
			return fmt.Errorf("participant %s: %w", m.Participant, err)
		}
		if err := mustNotExist(ctx, w, memberKey(m.Body, m.Participant)); err != nil {
			return err
		}
		m.Seated = e.Time
		return PutJSON(ctx, w, memberKey(m.Body, m.Participant), m)
	}))
	register("body.unseated", applyJSON(func(ctx context.Context, w StateWriter, e *Event, m *memberRef) error {
		if _, err := w.Get(ctx, memberKey(m.Body, m.Participant)); err != nil {
			return err
		}
		var ch bodyChair
		if err := GetJSON(ctx, w, chairKey(m.Body), &ch); err == nil && ch.Participant == m.Participant {
			if err := w.Delete(ctx, chairKey(m.Body)); err != nil {
				return err
			}
		}
		return w.Delete(ctx, memberKey(m.Body, m.Participant))
	}))
	register("body.chair-set", applyJSON(func(ctx context.Context, w StateWriter, e *Event, c *bodyChair) error {
		if _, err := w.Get(ctx, memberKey(c.Body, c.Participant)); err != nil {
			return fmt.Errorf("chair %s is not a member of %s", c.Participant, c.Body)
		}
		return PutJSON(ctx, w, chairKey(c.Body), c)
	}))
}

// Members lists a body's members in handle order.
func Members(ctx context.Context, r StateReader, body string) ([]Member, error) {
	return listJSON[Member](ctx, r, "body/"+body+"/member/")
}

// LoadMember reads one seat, or returns ENOTFOUND.
func LoadMember(ctx context.Context, r StateReader, body, handle string) (*Member, error) {
	var m Member
	if err := GetJSON(ctx, r, memberKey(body, handle), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Chair returns the handle of a body's chair, or "" if it has none.
func Chair(ctx context.Context, r StateReader, body string) (string, error) {
	var c bodyChair
	err := GetJSON(ctx, r, chairKey(body), &c)
	if ErrorCode(err) == ENOTFOUND {
		return "", nil
	}
	return c.Participant, err
}

// SeatMember returns the command that seats a participant in a body. The
// seat must exist in the charter for the participant's stakeholder group and
// region and be free: a body never holds more members than the charter gives
// it (an open body admits every participant of the groups and regions its
// seats name). capacity may be empty to take the first capacity with a free seat.
// Operators seat members; a body the charter says is appointed by another is
// seated by that body's chair.
func SeatMember(actor, body, handle, capacity string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		b, ok := c.Body(body)
		if !ok {
			return nil, Errorf(ENOTFOUND, "the charter has no body %q", body)
		}
		if err := mayAppoint(ctx, tx, b, actor); err != nil {
			return nil, err
		}
		p, err := LoadParticipant(ctx, tx, handle)
		if err != nil {
			return nil, err
		}
		if _, err := LoadMember(ctx, tx, body, handle); err == nil {
			return nil, Errorf(ECONFLICT, "%s sits in %s already", handle, body)
		}
		members, err := Members(ctx, tx, body)
		if err != nil {
			return nil, err
		}
		capa, err := freeSeat(b, members, p.Group, p.Region, capacity)
		if err != nil {
			return nil, err
		}
		m := Member{Body: body, Participant: handle, Group: p.Group, Region: p.Region, Capacity: capa}
		if _, err := tx.Emit(ctx, actor, "body.seated", m); err != nil {
			return nil, err
		}
		m.Seated = tx.Now()
		return &m, nil
	}
}

// UnseatMember returns the command that removes a member from a body.
func UnseatMember(actor, body, handle, reason string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		b, ok := c.Body(body)
		if !ok {
			return nil, Errorf(ENOTFOUND, "the charter has no body %q", body)
		}
		if actor != handle { // a member may always resign
			if err := mayAppoint(ctx, tx, b, actor); err != nil {
				return nil, err
			}
		}
		if _, err := LoadMember(ctx, tx, body, handle); err != nil {
			return nil, Errorf(ENOTFOUND, "%s does not sit in %s", handle, body)
		}
		_, err = tx.Emit(ctx, actor, "body.unseated", memberRef{Body: body, Participant: handle, Reason: reason})
		return nil, err
	}
}

// SetChair returns the command that makes a member the chair of its body.
func SetChair(actor, body, handle string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		b, ok := c.Body(body)
		if !ok {
			return nil, Errorf(ENOTFOUND, "the charter has no body %q", body)
		}
		if err := mayAppoint(ctx, tx, b, actor); err != nil {
			return nil, err
		}
		if _, err := LoadMember(ctx, tx, body, handle); err != nil {
			return nil, Errorf(EINVALID, "%s does not sit in %s, so cannot chair it", handle, body)
		}
		_, err = tx.Emit(ctx, actor, "body.chair-set", bodyChair{Body: body, Participant: handle})
		return nil, err
	}
}

// mayAppoint checks that actor may change the membership of b.
func mayAppoint(ctx context.Context, r StateReader, b *charter.Body, actor string) error {
	if ok, err := IsOperator(ctx, r, actor); err != nil || ok {
		return err
	}
	if b.AppointedBy != "" {
		chair, err := Chair(ctx, r, b.AppointedBy)
		if err != nil {
			return err
		}
		if chair == actor {
			return nil
		}
		return Errorf(EFORBIDDEN, "members of %s are appointed by %s: only its chair or an operator may change them", b.ID, b.AppointedBy)
	}
	return Errorf(EFORBIDDEN, "only an operator may change the members of %s", b.ID)
}

// freeSeat finds a free seat for a member of group and region. Seats for a
// named region are used first; seats for "any" region are shared by all
// regions of the group.
func freeSeat(b *charter.Body, members []Member, group, region, capacity string) (string, error) {
	var caps []string
	for _, s := range b.Seats {
		c := string(s.Capacity)
		if s.Group == group && (s.Region == region || s.Region == charter.AnyRegion) && (s.Count > 0 || b.Open) && !contains(caps, c) {
			caps = append(caps, c)
		}
	}
	if len(caps) == 0 {
		return "", Errorf(EINVALID, "%s has no seat for the %s group in region %s", b.ID, group, region)
	}
	for _, capa := range caps {
		if capacity != "" && capa != capacity {
			continue
		}
		if b.Open || seatsFit(b, members, group, capa, region) {
			return capa, nil
		}
	}
	if capacity != "" && !contains(caps, capacity) {
		return "", Errorf(EINVALID, "%s has no %s seat for the %s group in region %s", b.ID, capacity, group, region)
	}
	return "", Errorf(ECONFLICT, "every seat of %s for the %s group in region %s is taken: the charter allows no more", b.ID, group, region)
}

// seatsFit reports whether one more member of group in region with capacity
// fits the body's seats, given the members already seated.
func seatsFit(b *charter.Body, members []Member, group, capacity, region string) bool {
	n := map[string]int{region: 1}
	for _, m := range members {
		if m.Group == group && m.Capacity == capacity {
			n[m.Region]++
		}
	}
	specific := map[string]int{}
	anySeats := 0
	for _, s := range b.Seats {
		if s.Group != group || string(s.Capacity) != capacity {
			continue
		}
		if s.Region == charter.AnyRegion {
			anySeats += s.Count
		} else {
			specific[s.Region] += s.Count
		}
	}
	overflow := 0
	for r, k := range n {
		if k > specific[r] {
			overflow += k - specific[r]
		}
	}
	return overflow <= anySeats
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
