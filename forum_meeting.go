package steward

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The forum's annual meeting, as the IGF's is prepared: a call for
// workshop proposals, their evaluation by the multistakeholder advisory
// group against a published rubric, a programme of sessions in rooms and
// times, and session reports.
//
// State keys:
//
//	forum/meeting/<id>                  a Meeting
//	forum/proposal/<id>/<n>             a Proposal, with its scores
//	forum/session/<id>/<sid>            a MeetingSession

// Genders a proposer or speaker may declare, for the balance statistics.
var Genders = []string{"woman", "man", "non-binary", "undisclosed"}

// MeetingSession kinds.
var SessionKinds = []string{"main", "workshop", "open-forum"}

// Criterion is one line of a meeting's scoring rubric: proposals are
// scored 0 to 5 on it, and the scores weighted.
type Criterion struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Weight      int    `json:"weight"`
}

// DefaultRubric is the rubric a meeting gets when its organisers give none,
// after the IGF MAG's published workshop evaluation criteria.
var DefaultRubric = []Criterion{
	{ID: "relevance", Description: "Relevance to Internet governance and to the meeting's themes", Weight: 3},
	{ID: "content", Description: "Quality and clarity of the proposal and of its policy questions", Weight: 3},
	{ID: "diversity", Description: "Diversity of speakers: stakeholder groups, regions, gender", Weight: 2},
	{ID: "interaction", Description: "Interaction with the audience, on site and online", Weight: 2},
}

// Meeting is an annual meeting of the forum.
type Meeting struct {
	ID           string      `json:"id"`
	Title        string      `json:"title"`
	Venue        string      `json:"venue"`
	Starts       time.Time   `json:"starts"`
	Ends         time.Time   `json:"ends"`
	ProposalsDue time.Time   `json:"proposals_due"`
	Evaluators   string      `json:"evaluators"` // the body that scores proposals
	Rubric       []Criterion `json:"rubric"`
	Rooms        []string    `json:"rooms"`
	Proposals    int         `json:"proposals"`
	By           string      `json:"by"`
	Seq          int64       `json:"seq"`
}

// Speaker is a person a workshop proposal names.
type Speaker struct {
	Name   string `json:"name"`
	Group  string `json:"group"`
	Region string `json:"region"`
	Gender string `json:"gender"`
}

// Score is one evaluator's scores of a proposal.
type Score struct {
	By      string         `json:"by"`
	Scores  map[string]int `json:"scores"`
	Comment string         `json:"comment,omitempty"`
	Time    time.Time      `json:"time"`
}

// Proposal is a workshop proposal.
type Proposal struct {
	Meeting        string    `json:"meeting"`
	N              int       `json:"n"`
	Title          string    `json:"title"`
	Description    string    `json:"description"`
	Issue          string    `json:"issue,omitempty"`
	Proposer       string    `json:"proposer"`
	ProposerGroup  string    `json:"proposer_group"`
	ProposerRegion string    `json:"proposer_region"`
	ProposerGender string    `json:"proposer_gender"`
	Speakers       []Speaker `json:"speakers"`
	Scores         []Score   `json:"scores,omitempty"`
	Decision       string    `json:"decision,omitempty"` // accepted or rejected
	Reason         string    `json:"reason,omitempty"`
	Submitted      time.Time `json:"submitted"`
	Seq            int64     `json:"seq"`
}

// Total is the proposal's weighted score: the mean over evaluators of
// the sum of score × weight, or 0 without scores.
func (p *Proposal) Total(rubric []Criterion) float64 {
	if len(p.Scores) == 0 {
		return 0
	}
	var sum float64
	for _, s := range p.Scores {
		for _, c := range rubric {
			sum += float64(s.Scores[c.ID] * c.Weight)
		}
	}
	return sum / float64(len(p.Scores))
}

// MeetingSession is a slot of the programme.
type MeetingSession struct {
	Meeting  string    `json:"meeting"`
	ID       int       `json:"id"`
	Title    string    `json:"title"`
	Kind     string    `json:"kind"`
	Proposal int       `json:"proposal,omitempty"`
	Room     string    `json:"room"`
	Starts   time.Time `json:"starts"`
	Ends     time.Time `json:"ends"`
	Report   string    `json:"report,omitempty"`
	Reporter string    `json:"reporter,omitempty"`
	Seq      int64     `json:"seq"`
}

func meetingKey(id string) string { return "forum/meeting/" + id }
func proposalKey(m string, n int) string {
	return fmt.Sprintf("forum/proposal/%s/%05d", m, n)
}
func sessionKey(m string, id int) string { return fmt.Sprintf("forum/session/%s/%05d", m, id) }

var meetingIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

type meetingAnnounced struct {
	ID           string      `json:"id"`
	Title        string      `json:"title"`
	Venue        string      `json:"venue"`
	Starts       string      `json:"starts"`
	Ends         string      `json:"ends"`
	ProposalsDue string      `json:"proposals_due"`
	Evaluators   string      `json:"evaluators"`
	Rubric       []Criterion `json:"rubric"`
	Rooms        []string    `json:"rooms"`
}

type workshopProposed struct {
	Meeting        string    `json:"meeting"`
	N              int       `json:"n"`
	Title          string    `json:"title"`
	Description    string    `json:"description"`
	Issue          string    `json:"issue,omitempty"`
	ProposerGender string    `json:"proposer_gender"`
	Speakers       []Speaker `json:"speakers"`
}

type workshopScored struct {
	Meeting string         `json:"meeting"`
	N       int            `json:"n"`
	Scores  map[string]int `json:"scores"`
	Comment string         `json:"comment,omitempty"`
}

type workshopDecided struct {
	Meeting  string `json:"meeting"`
	N        int    `json:"n"`
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

type sessionScheduled struct {
	Meeting  string `json:"meeting"`
	ID       int    `json:"id"`
	Title    string `json:"title"`
	Kind     string `json:"kind"`
	Proposal int    `json:"proposal,omitempty"`
	Room     string `json:"room"`
	Starts   string `json:"starts"`
	Ends     string `json:"ends"`
}

type sessionReported struct {
	Meeting string `json:"meeting"`
	ID      int    `json:"id"`
	Text    string `json:"text"`
}

func rfc(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func init() {
	register("forum.meeting-announced", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *meetingAnnounced) error {
		if err := mustNotExist(ctx, w, meetingKey(p.ID)); err != nil {
			return err
		}
		m := Meeting{ID: p.ID, Title: p.Title, Venue: p.Venue, Evaluators: p.Evaluators, Rubric: p.Rubric, Rooms: p.Rooms, By: e.Actor, Seq: e.Seq}
		var err error
		for _, f := range []struct {
			s string
			t *time.Time
		}{{p.Starts, &m.Starts}, {p.Ends, &m.Ends}, {p.ProposalsDue, &m.ProposalsDue}} {
			if *f.t, err = forumParseTime(f.s); err != nil {
				return err
			}
		}
		return PutJSON(ctx, w, meetingKey(p.ID), m)
	}))
	register("forum.workshop-proposed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *workshopProposed) error {
		var m Meeting
		if err := GetJSON(ctx, w, meetingKey(p.Meeting), &m); err != nil {
			return err
		}
		if !e.Time.Before(m.ProposalsDue) || p.N != m.Proposals+1 {
			return fmt.Errorf("proposal %d to %s is late or out of order", p.N, m.ID)
		}
		var who Participant
		if err := GetJSON(ctx, w, participantKey(e.Actor), &who); err != nil {
			return err
		}
		pr := Proposal{Meeting: m.ID, N: p.N, Title: p.Title, Description: p.Description, Issue: p.Issue, Proposer: e.Actor,
			ProposerGroup: who.Group, ProposerRegion: who.Region, ProposerGender: p.ProposerGender, Speakers: p.Speakers, Submitted: e.Time, Seq: e.Seq}
		m.Proposals = p.N
		if err := PutJSON(ctx, w, proposalKey(m.ID, p.N), pr); err != nil {
			return err
		}
		return PutJSON(ctx, w, meetingKey(m.ID), m)
	}))
	register("forum.workshop-scored", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *workshopScored) error {
		var pr Proposal
		if err := GetJSON(ctx, w, proposalKey(p.Meeting, p.N), &pr); err != nil {
			return err
		}
		pr.Scores = slices.DeleteFunc(pr.Scores, func(s Score) bool { return s.By == e.Actor })
		pr.Scores = append(pr.Scores, Score{By: e.Actor, Scores: p.Scores, Comment: p.Comment, Time: e.Time})
		return PutJSON(ctx, w, proposalKey(p.Meeting, p.N), pr)
	}))
	register("forum.workshop-decided", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *workshopDecided) error {
		var pr Proposal
		if err := GetJSON(ctx, w, proposalKey(p.Meeting, p.N), &pr); err != nil {
			return err
		}
		pr.Decision, pr.Reason = p.Decision, p.Reason
		return PutJSON(ctx, w, proposalKey(p.Meeting, p.N), pr)
	}))
	register("forum.session-scheduled", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *sessionScheduled) error {
		if _, err := w.Get(ctx, meetingKey(p.Meeting)); err != nil {
			return err
		}
		s := MeetingSession{Meeting: p.Meeting, ID: p.ID, Title: p.Title, Kind: p.Kind, Proposal: p.Proposal, Room: p.Room, Seq: e.Seq}
		var err error
		if s.Starts, err = forumParseTime(p.Starts); err != nil {
			return err
		}
		if s.Ends, err = forumParseTime(p.Ends); err != nil {
			return err
		}
		if err := mustNotExist(ctx, w, sessionKey(p.Meeting, p.ID)); err != nil {
			return err
		}
		return PutJSON(ctx, w, sessionKey(p.Meeting, p.ID), s)
	}))
	register("forum.session-reported", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *sessionReported) error {
		var s MeetingSession
		if err := GetJSON(ctx, w, sessionKey(p.Meeting, p.ID), &s); err != nil {
			return err
		}
		s.Report, s.Reporter = p.Text, e.Actor
		return PutJSON(ctx, w, sessionKey(p.Meeting, p.ID), s)
	}))
}

// mayOrganise checks that actor organises meetings: a moderator or
// operator, or the chair of the evaluating body.
func mayOrganise(ctx context.Context, r StateReader, actor, evaluators string) error {
	if evaluators != "" {
		if chair, _ := Chair(ctx, r, evaluators); chair == actor && chair != "" {
			return nil
		}
	}
	return forumModerator(ctx, r, actor, "organise the annual meeting")
}

// AnnounceMeeting returns the command that announces an annual meeting and
// opens its call for workshop proposals until m.ProposalsDue. Evaluators
// names the body of the charter that scores proposals (default "mag", the
// multistakeholder advisory group, when the charter has one).
func AnnounceMeeting(actor string, m Meeting) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		if m.Evaluators == "" {
			if _, ok := c.Body("mag"); ok {
				m.Evaluators = "mag"
			}
		}
		if _, ok := c.Body(m.Evaluators); !ok {
			return nil, Errorf(EINVALID, "evaluators: name the body of the charter that scores proposals (%q is none)", m.Evaluators)
		}
		if err := mayOrganise(ctx, tx, actor, m.Evaluators); err != nil {
			return nil, err
		}
		if !meetingIDRE.MatchString(m.ID) {
			return nil, Errorf(EINVALID, "meeting id %q: 1 to 32 lower-case letters, digits and dashes, such as 2026", m.ID)
		}
		if err := forumText("the title", m.Title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if err := forumText("the venue", m.Venue, MaxTitleRunes); err != nil {
			return nil, err
		}
		now := tx.Now()
		if !m.ProposalsDue.After(now) || !m.Starts.After(m.ProposalsDue) || !m.Ends.After(m.Starts) || m.Ends.Sub(m.Starts) > 14*24*time.Hour {
			return nil, Errorf(EINVALID, "dates: proposals due in the future, before the meeting starts; the meeting ends after it starts, within 14 days")
		}
		if len(m.Rubric) == 0 {
			m.Rubric = DefaultRubric
		}
		for _, cr := range m.Rubric {
			if !meetingIDRE.MatchString(cr.ID) || cr.Weight < 1 || cr.Weight > 10 {
				return nil, Errorf(EINVALID, "rubric criterion %q: an id of lower-case letters and a weight from 1 to 10", cr.ID)
			}
			if err := forumText("a criterion's description", cr.Description, MaxReasonRunes); err != nil {
				return nil, err
			}
		}
		if len(m.Rooms) == 0 || len(m.Rooms) > 50 {
			return nil, Errorf(EINVALID, "rooms: name 1 to 50 rooms")
		}
		for _, r := range m.Rooms {
			if err := forumText("a room", r, 100); err != nil {
				return nil, err
			}
		}
		if _, err := tx.Get(ctx, meetingKey(m.ID)); err == nil {
			return nil, Errorf(ECONFLICT, "there is a meeting %q already", m.ID)
		}
		if _, err := tx.Emit(ctx, actor, "forum.meeting-announced", meetingAnnounced{ID: m.ID, Title: m.Title, Venue: m.Venue,
			Starts: rfc(m.Starts), Ends: rfc(m.Ends), ProposalsDue: rfc(m.ProposalsDue), Evaluators: m.Evaluators, Rubric: m.Rubric, Rooms: m.Rooms}); err != nil {
			return nil, err
		}
		return LoadMeeting(ctx, tx, m.ID)
	}
}

// ProposeWorkshop returns the command by which a participant proposes a
// workshop before the call closes, naming its speakers with their
// stakeholder group, region and gender, and declaring its own gender.
func ProposeWorkshop(actor string, p Proposal) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "propose a workshop"); err != nil {
			return nil, err
		}
		m, err := LoadMeeting(ctx, tx, p.Meeting)
		if err != nil {
			return nil, err
		}
		if !tx.Now().Before(m.ProposalsDue) {
			return nil, Errorf(EFORBIDDEN, "the call for proposals closed on %s", m.ProposalsDue.Format("2 January 2006 15:04 MST"))
		}
		if err := forumText("the title", p.Title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if err := forumBody("the description", p.Description, MaxBodyBytes); err != nil {
			return nil, err
		}
		if p.Issue != "" {
			if _, err := LoadIssue(ctx, tx, p.Issue); err != nil {
				return nil, err
			}
		}
		if !slices.Contains(Genders, p.ProposerGender) {
			return nil, Errorf(EINVALID, "your gender: one of %s", strings.Join(Genders, ", "))
		}
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		if len(p.Speakers) == 0 || len(p.Speakers) > 12 {
			return nil, Errorf(EINVALID, "speakers: name 1 to 12")
		}
		for i, s := range p.Speakers {
			if err := forumText(fmt.Sprintf("speaker %d's name", i+1), s.Name, 100); err != nil {
				return nil, err
			}
			if _, ok := c.Group(s.Group); !ok {
				return nil, Errorf(EINVALID, "speaker %d: stakeholder group %q is not one of the charter's", i+1, s.Group)
			}
			if !c.HasRegion(s.Region) {
				return nil, Errorf(EINVALID, "speaker %d: region %q is not one of the charter's: %s", i+1, s.Region, strings.Join(c.Regions, ", "))
			}
			if !slices.Contains(Genders, s.Gender) {
				return nil, Errorf(EINVALID, "speaker %d: gender is one of %s", i+1, strings.Join(Genders, ", "))
			}
		}
		n := m.Proposals + 1
		if _, err := tx.Emit(ctx, actor, "forum.workshop-proposed", workshopProposed{Meeting: m.ID, N: n, Title: p.Title, Description: p.Description,
			Issue: p.Issue, ProposerGender: p.ProposerGender, Speakers: p.Speakers}); err != nil {
			return nil, err
		}
		return LoadProposal(ctx, tx, m.ID, n)
	}
}

// ScoreWorkshop returns the command by which a member of the evaluating
// body scores a proposal, 0 to 5 on every criterion of the rubric, once the
// call has closed. Scoring again replaces the member's earlier scores.
func ScoreWorkshop(actor, meeting string, n int, scores map[string]int, comment string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		m, err := LoadMeeting(ctx, tx, meeting)
		if err != nil {
			return nil, err
		}
		if _, err := LoadMember(ctx, tx, m.Evaluators, actor); err != nil {
			return nil, Errorf(EFORBIDDEN, "only members of %s score workshop proposals", m.Evaluators)
		}
		if tx.Now().Before(m.ProposalsDue) {
			return nil, Errorf(EFORBIDDEN, "proposals are scored after the call closes (%s)", m.ProposalsDue.Format(time.RFC3339))
		}
		p, err := LoadProposal(ctx, tx, meeting, n)
		if err != nil {
			return nil, err
		}
		if p.Proposer == actor {
			return nil, Errorf(EFORBIDDEN, "an evaluator does not score its own proposal")
		}
		if p.Decision != "" {
			return nil, Errorf(ECONFLICT, "the proposal is decided already")
		}
		clean := map[string]int{}
		for _, cr := range m.Rubric {
			v, ok := scores[cr.ID]
			if !ok || v < 0 || v > 5 {
				return nil, Errorf(EINVALID, "score %q: give 0 to 5", cr.ID)
			}
			clean[cr.ID] = v
		}
		if len(scores) != len(clean) {
			return nil, Errorf(EINVALID, "scores: only the rubric's criteria")
		}
		if comment != "" {
			if err := forumBody("the comment", comment, MaxReasonRunes*2); err != nil {
				return nil, err
			}
		}
		if _, err := tx.Emit(ctx, actor, "forum.workshop-scored", workshopScored{Meeting: meeting, N: n, Scores: clean, Comment: comment}); err != nil {
			return nil, err
		}
		return LoadProposal(ctx, tx, meeting, n)
	}
}

// DecideWorkshop returns the command by which the evaluating body's chair
// (or a moderator) accepts or rejects a scored proposal, with the reason.
func DecideWorkshop(actor, meeting string, n int, accept bool, reason string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		m, err := LoadMeeting(ctx, tx, meeting)
		if err != nil {
			return nil, err
		}
		if err := mayOrganise(ctx, tx, actor, m.Evaluators); err != nil {
			return nil, err
		}
		p, err := LoadProposal(ctx, tx, meeting, n)
		if err != nil {
			return nil, err
		}
		if p.Decision != "" {
			return nil, Errorf(ECONFLICT, "the proposal is %s already", p.Decision)
		}
		if len(p.Scores) == 0 {
			return nil, Errorf(EFORBIDDEN, "the proposal has no scores yet")
		}
		if err := forumText("the reason", reason, MaxReasonRunes); err != nil {
			return nil, err
		}
		d := "rejected"
		if accept {
			d = "accepted"
		}
		if _, err := tx.Emit(ctx, actor, "forum.workshop-decided", workshopDecided{Meeting: meeting, N: n, Decision: d, Reason: reason}); err != nil {
			return nil, err
		}
		return LoadProposal(ctx, tx, meeting, n)
	}
}

// ScheduleSession returns the command that puts a session in the
// programme: a room of the meeting, a time within it, no overlap in the
// room; a workshop session names an accepted proposal.
func ScheduleSession(actor string, s MeetingSession) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		m, err := LoadMeeting(ctx, tx, s.Meeting)
		if err != nil {
			return nil, err
		}
		if err := mayOrganise(ctx, tx, actor, m.Evaluators); err != nil {
			return nil, err
		}
		if !slices.Contains(SessionKinds, s.Kind) {
			return nil, Errorf(EINVALID, "session kind: one of %s", strings.Join(SessionKinds, ", "))
		}
		if s.Kind == "workshop" {
			p, err := LoadProposal(ctx, tx, s.Meeting, s.Proposal)
			if err != nil || p.Decision != "accepted" {
				return nil, Errorf(EINVALID, "a workshop session names an accepted proposal")
			}
			if s.Title == "" {
				s.Title = p.Title
			}
		}
		if err := forumText("the title", s.Title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if !slices.Contains(m.Rooms, s.Room) {
			return nil, Errorf(EINVALID, "room %q is not one of the meeting's: %s", s.Room, strings.Join(m.Rooms, ", "))
		}
		if s.Starts.Before(m.Starts) || s.Ends.After(m.Ends) || !s.Ends.After(s.Starts) {
			return nil, Errorf(EINVALID, "the session must start and end within the meeting, %s to %s", rfc(m.Starts), rfc(m.Ends))
		}
		ss, err := ListSessions(ctx, tx, m.ID)
		if err != nil {
			return nil, err
		}
		for _, o := range ss {
			if o.Room == s.Room && s.Starts.Before(o.Ends) && o.Starts.Before(s.Ends) {
				return nil, Errorf(ECONFLICT, "%s is taken by %q from %s to %s", s.Room, o.Title, rfc(o.Starts), rfc(o.Ends))
			}
		}
		s.ID = len(ss) + 1
		if _, err := tx.Emit(ctx, actor, "forum.session-scheduled", sessionScheduled{Meeting: m.ID, ID: s.ID, Title: s.Title, Kind: s.Kind,
			Proposal: s.Proposal, Room: s.Room, Starts: rfc(s.Starts), Ends: rfc(s.Ends)}); err != nil {
			return nil, err
		}
		return &s, nil
	}
}

// ReportSession returns the command by which a workshop's proposer, or an
// organiser, publishes the report of a session.
func ReportSession(actor, meeting string, id int, text string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		m, err := LoadMeeting(ctx, tx, meeting)
		if err != nil {
			return nil, err
		}
		var s MeetingSession
		if err := GetJSON(ctx, tx, sessionKey(meeting, id), &s); err != nil {
			return nil, Errorf(ENOTFOUND, "meeting %s has no session %d", meeting, id)
		}
		if p, err := LoadProposal(ctx, tx, meeting, s.Proposal); s.Proposal == 0 || err != nil || p.Proposer != actor {
			if err := mayOrganise(ctx, tx, actor, m.Evaluators); err != nil {
				return nil, Errorf(EFORBIDDEN, "the workshop's proposer or an organiser reports on a session")
			}
		}
		if err := forumBody("the report", text, MaxCallBytes); err != nil {
			return nil, err
		}
		_, err = tx.Emit(ctx, actor, "forum.session-reported", sessionReported{Meeting: meeting, ID: id, Text: text})
		return nil, err
	}
}

// LoadMeeting reads a meeting.
func LoadMeeting(ctx context.Context, r StateReader, id string) (*Meeting, error) {
	if !meetingIDRE.MatchString(id) {
		return nil, Errorf(ENOTFOUND, "no meeting %q", id)
	}
	return loadJSON[Meeting](ctx, r, meetingKey(id), func() error { return Errorf(ENOTFOUND, "no meeting %q", id) })
}

// ListMeetings returns every meeting.
func ListMeetings(ctx context.Context, r StateReader) ([]Meeting, error) {
	return listJSON[Meeting](ctx, r, "forum/meeting/")
}

// LoadProposal reads a workshop proposal.
func LoadProposal(ctx context.Context, r StateReader, meeting string, n int) (*Proposal, error) {
	var p Proposal
	if err := GetJSON(ctx, r, proposalKey(meeting, n), &p); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "meeting %s has no proposal %d", meeting, n)
		}
		return nil, err
	}
	return &p, nil
}

// ListProposals returns a meeting's workshop proposals.
func ListProposals(ctx context.Context, r StateReader, meeting string) ([]Proposal, error) {
	return listJSON[Proposal](ctx, r, "forum/proposal/"+meeting+"/")
}

// ListSessions returns a meeting's programme in the order scheduled.
func ListSessions(ctx context.Context, r StateReader, meeting string) ([]MeetingSession, error) {
	return listJSON[MeetingSession](ctx, r, "forum/session/"+meeting+"/")
}

// Balance counts proposers and speakers by stakeholder group, region and
// gender, for every proposal and for the accepted ones.
type Balance struct {
	Dimension string         `json:"dimension"` // group, region or gender
	Proposers map[string]int `json:"proposers"`
	Speakers  map[string]int `json:"speakers"`
	Accepted  map[string]int `json:"accepted_speakers"`
}

// MeetingBalance computes the balance statistics of a meeting's proposals.
func MeetingBalance(ps []Proposal) []Balance {
	out := []Balance{}
	for _, dim := range []string{"group", "region", "gender"} {
		b := Balance{Dimension: dim, Proposers: map[string]int{}, Speakers: map[string]int{}, Accepted: map[string]int{}}
		for _, p := range ps {
			switch dim {
			case "group":
				b.Proposers[p.ProposerGroup]++
			case "region":
				b.Proposers[p.ProposerRegion]++
			default:
				b.Proposers[p.ProposerGender]++
			}
			for _, s := range p.Speakers {
				v := map[string]string{"group": s.Group, "region": s.Region, "gender": s.Gender}[dim]
				b.Speakers[v]++
				if p.Decision == "accepted" {
					b.Accepted[v]++
				}
			}
		}
		out = append(out, b)
	}
	return out
}
