package steward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Open consultations (the WGIG's own working method, Report para 46) and
// the forum's recommendations, routed to the bodies responsible (Tunis
// Agenda para 72 c and g), whose answers are tracked.
//
// State keys:
//
//	forum/consultation/<id>                a Consultation
//	forum/submission/<id>/<n>              a Submission
//	forum/rec/<id>                         a Recommendation
//	forum/rec-to/<body>/<id>               index of recommendations by body

// Limits on consultations.
const (
	MaxCallBytes       = 16000
	MaxSubmissionBytes = 16000
	MaxAttachmentBytes = 512 << 10
	MaxAttachments     = 3
	MaxSynthesisBytes  = 16000
)

// AttachmentTypes are the media types a submission may attach, as
// http.DetectContentType names them.
var AttachmentTypes = []string{"application/pdf", "text/plain; charset=utf-8", "image/png", "image/jpeg"}

// Consultation is a call for written input on a question, with a deadline.
type Consultation struct {
	ID          int64      `json:"id"`
	Issue       string     `json:"issue,omitempty"`
	Title       string     `json:"title"`
	Call        string     `json:"call"` // markdown
	Deadline    time.Time  `json:"deadline"`
	Opener      string     `json:"opener"`
	Opened      time.Time  `json:"opened"`
	Submissions int        `json:"submissions"`
	Synthesis   *Synthesis `json:"synthesis,omitempty"`
	Seq         int64      `json:"seq"`
}

// Open reports whether the consultation takes submissions at now.
func (c *Consultation) Open(now time.Time) bool { return now.Before(c.Deadline) }

// Attachment is a document attached to a submission, stored by its SHA-256.
type Attachment struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// AttachmentData is an attachment as uploaded.
type AttachmentData struct {
	Name string
	Data []byte
	Type string // as sniffed by the caller
}

// Submission is a participant's written input to a consultation.
type Submission struct {
	Consultation int64        `json:"consultation"`
	N            int          `json:"n"`
	Author       string       `json:"author"`
	Text         string       `json:"text"`
	Attachments  []Attachment `json:"attachments,omitempty"`
	Submitted    time.Time    `json:"submitted"`
	Seq          int64        `json:"seq"`
}

// Synthesis summarises a consultation, citing the submissions it draws on.
type Synthesis struct {
	Text      string    `json:"text"`
	Cites     []int     `json:"cites"`
	By        string    `json:"by"`
	Published time.Time `json:"published"`
	Seq       int64     `json:"seq"`
}

// Answers a body may give a recommendation.
const (
	AnswerAccept  = "accept"
	AnswerDecline = "decline"
	AnswerDefer   = "defer"
)

// Recommendation is a message of the forum addressed to a body.
type Recommendation struct {
	ID           int64     `json:"id"`
	Issue        string    `json:"issue,omitempty"`
	Consultation int64     `json:"consultation,omitempty"`
	Title        string    `json:"title"`
	Text         string    `json:"text"`
	To           string    `json:"to"` // a body of the charter
	Due          time.Time `json:"due"`
	By           string    `json:"by"`
	Made         time.Time `json:"made"`
	Answers      []Answer  `json:"answers,omitempty"`
	Seq          int64     `json:"seq"`
}

// Answer is a body's answer to a recommendation.
type Answer struct {
	Decision string    `json:"decision"`
	Reasons  string    `json:"reasons,omitempty"`
	Until    time.Time `json:"until,omitzero"` // for a deferral: when to expect the answer
	By       string    `json:"by"`
	Time     time.Time `json:"time"`
	Seq      int64     `json:"seq"`
}

// Status is the recommendation's fate: awaiting, accept, decline or defer.
func (r *Recommendation) Status() string {
	if len(r.Answers) == 0 {
		return "awaiting"
	}
	return r.Answers[len(r.Answers)-1].Decision
}

// Overdue reports whether the body owes an answer at now: no answer by the
// due date, or a deferral whose date has passed.
func (r *Recommendation) Overdue(now time.Time) bool {
	switch r.Status() {
	case "awaiting":
		return now.After(r.Due)
	case AnswerDefer:
		return now.After(r.Answers[len(r.Answers)-1].Until)
	}
	return false
}

func consultationKey(id int64) string { return "forum/consultation/" + fpad(id) }
func submissionKey(c int64, n int) string {
	return fmt.Sprintf("forum/submission/%s/%07d", fpad(c), n)
}
func recKey(id int64) string { return "forum/rec/" + fpad(id) }

type consultationOpened struct {
	ID       int64  `json:"id"`
	Issue    string `json:"issue,omitempty"`
	Title    string `json:"title"`
	Call     string `json:"call"`
	Deadline string `json:"deadline"`
}

type submissionMade struct {
	Consultation int64        `json:"consultation"`
	N            int          `json:"n"`
	Text         string       `json:"text"`
	Attachments  []Attachment `json:"attachments,omitempty"`
}

type synthesisPublished struct {
	Consultation int64  `json:"consultation"`
	Text         string `json:"text"`
	Cites        []int  `json:"cites"`
}

type recommendationMade struct {
	ID           int64  `json:"id"`
	Issue        string `json:"issue,omitempty"`
	Consultation int64  `json:"consultation,omitempty"`
	Title        string `json:"title"`
	Text         string `json:"text"`
	To           string `json:"to"`
	Due          string `json:"due"`
}

type recommendationAnswered struct {
	ID       int64  `json:"id"`
	Decision string `json:"decision"`
	Reasons  string `json:"reasons,omitempty"`
	Until    string `json:"until,omitempty"`
}

func forumParseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

func init() {
	register("forum.consultation-opened", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *consultationOpened) error {
		d, err := forumParseTime(p.Deadline)
		if err != nil {
			return err
		}
		if err := forumTakeID(ctx, w, "consultation", p.ID); err != nil {
			return err
		}
		c := Consultation{ID: p.ID, Issue: p.Issue, Title: p.Title, Call: p.Call, Deadline: d, Opener: e.Actor, Opened: e.Time, Seq: e.Seq}
		return PutJSON(ctx, w, consultationKey(p.ID), c)
	}))
	register("forum.submission-made", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *submissionMade) error {
		var c Consultation
		if err := GetJSON(ctx, w, consultationKey(p.Consultation), &c); err != nil {
			return err
		}
		if !c.Open(e.Time) {
			return fmt.Errorf("consultation %d closed at %s", c.ID, c.Deadline)
		}
		if p.N != c.Submissions+1 {
			return fmt.Errorf("submission %d is not the next (%d)", p.N, c.Submissions+1)
		}
		c.Submissions = p.N
		s := Submission{Consultation: c.ID, N: p.N, Author: e.Actor, Text: p.Text, Attachments: p.Attachments, Submitted: e.Time, Seq: e.Seq}
		if err := PutJSON(ctx, w, submissionKey(c.ID, p.N), s); err != nil {
			return err
		}
		if err := forumCount(ctx, w, e, "submissions"); err != nil {
			return err
		}
		return PutJSON(ctx, w, consultationKey(c.ID), c)
	}))
	register("forum.synthesis-published", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *synthesisPublished) error {
		var c Consultation
		if err := GetJSON(ctx, w, consultationKey(p.Consultation), &c); err != nil {
			return err
		}
		for _, n := range p.Cites {
			if n < 1 || n > c.Submissions {
				return fmt.Errorf("synthesis cites submission %d, which consultation %d lacks", n, c.ID)
			}
		}
		c.Synthesis = &Synthesis{Text: p.Text, Cites: p.Cites, By: e.Actor, Published: e.Time, Seq: e.Seq}
		return PutJSON(ctx, w, consultationKey(c.ID), c)
	}))
	register("forum.recommendation-made", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *recommendationMade) error {
		d, err := forumParseTime(p.Due)
		if err != nil {
			return err
		}
		if err := forumTakeID(ctx, w, "recommendation", p.ID); err != nil {
			return err
		}
		r := Recommendation{ID: p.ID, Issue: p.Issue, Consultation: p.Consultation, Title: p.Title, Text: p.Text, To: p.To, Due: d, By: e.Actor, Made: e.Time, Seq: e.Seq}
		if err := w.Put(ctx, "forum/rec-to/"+p.To+"/"+fpad(p.ID), []byte("1")); err != nil {
			return err
		}
		return PutJSON(ctx, w, recKey(p.ID), r)
	}))
	register("forum.recommendation-answered", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *recommendationAnswered) error {
		var r Recommendation
		if err := GetJSON(ctx, w, recKey(p.ID), &r); err != nil {
			return err
		}
		a := Answer{Decision: p.Decision, Reasons: p.Reasons, By: e.Actor, Time: e.Time, Seq: e.Seq}
		if p.Until != "" {
			u, err := forumParseTime(p.Until)
			if err != nil {
				return err
			}
			a.Until = u
		}
		r.Answers = append(r.Answers, a)
		return PutJSON(ctx, w, recKey(p.ID), r)
	}))
}

// OpenConsultation returns the command by which a moderator of the forum
// calls for written input on a question until deadline.
func OpenConsultation(actor, issue, title, call string, deadline time.Time) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := forumModerator(ctx, tx, actor, "open a consultation"); err != nil {
			return nil, err
		}
		if issue != "" {
			if _, err := LoadIssue(ctx, tx, issue); err != nil {
				return nil, err
			}
		}
		if err := forumText("the title", title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if err := forumBody("the call for input", call, MaxCallBytes); err != nil {
			return nil, err
		}
		now := tx.Now()
		if !deadline.After(now.Add(time.Hour)) {
			return nil, Errorf(EINVALID, "the deadline must be at least an hour from now (%s)", now.UTC().Format(time.RFC3339))
		}
		if deadline.After(now.AddDate(1, 0, 0)) {
			return nil, Errorf(EINVALID, "the deadline must be within a year")
		}
		id, err := forumNextID(ctx, tx, "consultation")
		if err != nil {
			return nil, err
		}
		if _, err := tx.Emit(ctx, actor, "forum.consultation-opened", consultationOpened{ID: id, Issue: issue, Title: title, Call: call,
			Deadline: deadline.UTC().Truncate(time.Second).Format(time.RFC3339)}); err != nil {
			return nil, err
		}
		return LoadConsultation(ctx, tx, id)
	}
}

func forumFileName(name string) error {
	if err := forumText("the file name", name, 100); err != nil {
		return err
	}
	if strings.ContainsAny(name, `/\"`) || strings.HasPrefix(name, ".") {
		return Errorf(EINVALID, "file name %q: no slashes, quotes or leading dot", name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return Errorf(EINVALID, "file name %q has a character that does not print", name)
		}
	}
	return nil
}

// Submit returns the command by which a participant makes a written
// submission to an open consultation, with up to MaxAttachments documents.
// The documents are stored by their SHA-256 (outside the ledger, which
// records the hashes) and published with the submission.
func Submit(actor string, consultation int64, text string, files []AttachmentData) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "make a submission"); err != nil {
			return nil, err
		}
		c, err := LoadConsultation(ctx, tx, consultation)
		if err != nil {
			return nil, err
		}
		if !c.Open(tx.Now()) {
			return nil, Errorf(EFORBIDDEN, "the consultation closed on %s", c.Deadline.UTC().Format("2 January 2006 15:04 MST"))
		}
		if err := forumBody("the submission", text, MaxSubmissionBytes); err != nil {
			return nil, err
		}
		if len(files) > MaxAttachments {
			return nil, Errorf(ETOOLARGE, "at most %d attachments", MaxAttachments)
		}
		var atts []Attachment
		for _, f := range files {
			if err := forumFileName(f.Name); err != nil {
				return nil, err
			}
			if len(f.Data) == 0 {
				return nil, Errorf(EINVALID, "attachment %q is empty", f.Name)
			}
			if len(f.Data) > MaxAttachmentBytes {
				return nil, Errorf(ETOOLARGE, "attachment %q is %d bytes; at most %d are allowed", f.Name, len(f.Data), MaxAttachmentBytes)
			}
			if !slices.Contains(AttachmentTypes, f.Type) {
				return nil, Errorf(EINVALID, "attachment %q is %s; attach PDF, plain text, PNG or JPEG", f.Name, f.Type)
			}
			if f.Type == AttachmentTypes[1] && !utf8.Valid(f.Data) {
				return nil, Errorf(EINVALID, "attachment %q is not UTF-8 text", f.Name)
			}
			sum := sha256.Sum256(f.Data)
			h := hex.EncodeToString(sum[:])
			if err := tx.PutSecret(ctx, "blob/"+h, f.Data); err != nil {
				return nil, err
			}
			atts = append(atts, Attachment{Name: f.Name, Type: f.Type, Size: len(f.Data), SHA256: h})
		}
		n := c.Submissions + 1
		if _, err := tx.Emit(ctx, actor, "forum.submission-made", submissionMade{Consultation: consultation, N: n, Text: text, Attachments: atts}); err != nil {
			return nil, err
		}
		return LoadSubmission(ctx, tx, consultation, n)
	}
}

// PublishSynthesis returns the command by which the consultation's opener
// or a moderator publishes, after the deadline, a synthesis citing the
// submissions it draws on.
func PublishSynthesis(actor string, consultation int64, text string, cites []int) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		c, err := LoadConsultation(ctx, tx, consultation)
		if err != nil {
			return nil, err
		}
		if actor != c.Opener {
			if err := forumModerator(ctx, tx, actor, "publish a synthesis"); err != nil {
				return nil, err
			}
		}
		if c.Open(tx.Now()) {
			return nil, Errorf(EFORBIDDEN, "the consultation is open until %s; synthesise after the deadline", c.Deadline.UTC().Format(time.RFC3339))
		}
		if err := forumBody("the synthesis", text, MaxSynthesisBytes); err != nil {
			return nil, err
		}
		cites = slices.Clone(cites)
		slices.Sort(cites)
		cites = slices.Compact(cites)
		if c.Submissions > 0 && len(cites) == 0 {
			return nil, Errorf(EINVALID, "the synthesis must cite the submissions it draws on")
		}
		for _, n := range cites {
			if n < 1 || n > c.Submissions {
				return nil, Errorf(EINVALID, "there is no submission %d to cite (the consultation has %d)", n, c.Submissions)
			}
		}
		if cites == nil {
			cites = []int{}
		}
		if _, err := tx.Emit(ctx, actor, "forum.synthesis-published", synthesisPublished{Consultation: consultation, Text: text, Cites: cites}); err != nil {
			return nil, err
		}
		return LoadConsultation(ctx, tx, consultation)
	}
}

// LoadConsultation reads a consultation.
func LoadConsultation(ctx context.Context, r StateReader, id int64) (*Consultation, error) {
	return loadJSON[Consultation](ctx, r, consultationKey(id), func() error { return Errorf(ENOTFOUND, "no consultation %d", id) })
}

// ListConsultations returns every consultation, oldest first.
func ListConsultations(ctx context.Context, r StateReader) ([]Consultation, error) {
	return listJSON[Consultation](ctx, r, "forum/consultation/")
}

// LoadSubmission reads one submission.
func LoadSubmission(ctx context.Context, r StateReader, c int64, n int) (*Submission, error) {
	var s Submission
	if err := GetJSON(ctx, r, submissionKey(c, n), &s); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "consultation %d has no submission %d", c, n)
		}
		return nil, err
	}
	return &s, nil
}

// ListSubmissions returns the submissions to a consultation, in order.
func ListSubmissions(ctx context.Context, r StateReader, c int64) ([]Submission, error) {
	return listJSON[Submission](ctx, r, "forum/submission/"+fpad(c)+"/")
}

// Recommend returns the command by which a moderator of the forum, or the
// chair of the forum's body, addresses a recommendation to a body of the
// charter, asking for an answer by due.
func Recommend(actor string, rec Recommendation) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		if chair, _ := Chair(ctx, tx, c.Forum.Body); chair == "" || chair != actor {
			if err := forumModerator(ctx, tx, actor, "address a recommendation to a body"); err != nil {
				return nil, err
			}
		}
		b, ok := c.Body(rec.To)
		if !ok {
			return nil, Errorf(EINVALID, "the charter has no body %q to address", rec.To)
		}
		if b.ID == c.Forum.Body {
			return nil, Errorf(EINVALID, "address a recommendation to the body responsible, not to the forum itself")
		}
		if rec.Issue != "" {
			if _, err := LoadIssue(ctx, tx, rec.Issue); err != nil {
				return nil, err
			}
		}
		if rec.Consultation != 0 {
			if _, err := LoadConsultation(ctx, tx, rec.Consultation); err != nil {
				return nil, err
			}
		}
		if err := forumText("the title", rec.Title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if err := forumBody("the recommendation", rec.Text, MaxCallBytes); err != nil {
			return nil, err
		}
		now := tx.Now()
		if !rec.Due.After(now) || rec.Due.After(now.AddDate(2, 0, 0)) {
			return nil, Errorf(EINVALID, "the answer's due date must be in the next two years")
		}
		id, err := forumNextID(ctx, tx, "recommendation")
		if err != nil {
			return nil, err
		}
		if _, err := tx.Emit(ctx, actor, "forum.recommendation-made", recommendationMade{ID: id, Issue: rec.Issue, Consultation: rec.Consultation,
			Title: rec.Title, Text: rec.Text, To: rec.To, Due: rec.Due.UTC().Truncate(time.Second).Format(time.RFC3339)}); err != nil {
			return nil, err
		}
		return LoadRecommendation(ctx, tx, id)
	}
}

// AnswerRecommendation returns the command by which the addressed body, by
// its chair or a voting member, answers a recommendation: accept, decline
// (with reasons) or defer (with reasons and a date for the answer).
func AnswerRecommendation(actor string, id int64, decision, reasons string, until time.Time) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		rec, err := LoadRecommendation(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		chair, err := Chair(ctx, tx, rec.To)
		if err != nil {
			return nil, err
		}
		if chair != actor {
			m, err := LoadMember(ctx, tx, rec.To, actor)
			if err != nil || m.Capacity != "voting" {
				return nil, Errorf(EFORBIDDEN, "only the chair or a voting member of %s may answer for it", rec.To)
			}
		}
		if s := rec.Status(); s == AnswerAccept || s == AnswerDecline {
			return nil, Errorf(ECONFLICT, "the recommendation was answered already (%s)", s)
		}
		p := recommendationAnswered{ID: id, Decision: decision, Reasons: reasons}
		switch decision {
		case AnswerAccept:
			if reasons != "" {
				if err := forumBody("the reasons", reasons, MaxReasonRunes*4); err != nil {
					return nil, err
				}
			}
		case AnswerDecline, AnswerDefer:
			if err := forumBody("the reasons", reasons, MaxReasonRunes*4); err != nil {
				return nil, Errorf(EINVALID, "to %s a recommendation, state the reasons", decision)
			}
			if decision == AnswerDefer {
				if !until.After(tx.Now()) {
					return nil, Errorf(EINVALID, "to defer, give a future date by which the body will answer")
				}
				p.Until = until.UTC().Truncate(time.Second).Format(time.RFC3339)
			}
		default:
			return nil, Errorf(EINVALID, "answer %q: want accept, decline or defer", decision)
		}
		if _, err := tx.Emit(ctx, actor, "forum.recommendation-answered", p); err != nil {
			return nil, err
		}
		return LoadRecommendation(ctx, tx, id)
	}
}

// LoadRecommendation reads a recommendation.
func LoadRecommendation(ctx context.Context, r StateReader, id int64) (*Recommendation, error) {
	return loadJSON[Recommendation](ctx, r, recKey(id), func() error { return Errorf(ENOTFOUND, "no recommendation %d", id) })
}

// ListRecommendations returns every recommendation, oldest first.
func ListRecommendations(ctx context.Context, r StateReader) ([]Recommendation, error) {
	return listJSON[Recommendation](ctx, r, "forum/rec/")
}

// StatCount is one participation counter.
type StatCount struct {
	Kind, Month, Group, Region string
	N                          int64
}

// ParticipationStats returns the participation counters by month,
// stakeholder group and region: threads, posts and submissions, and the
// votes cast in the bodies' ballots (counted by the request events).
func ParticipationStats(ctx context.Context, r StateReader) ([]StatCount, error) {
	kvs, err := ScanAll(ctx, r, "forum/stats/")
	if err != nil {
		return nil, err
	}
	out := make([]StatCount, 0, len(kvs))
	for _, kv := range kvs {
		parts := strings.Split(strings.TrimPrefix(kv.Key, "forum/stats/"), "/")
		if len(parts) != 4 {
			continue
		}
		var n int64
		if _, err := fmt.Sscan(string(kv.Value), &n); err != nil {
			return nil, fmt.Errorf("state %s: %w", kv.Key, err)
		}
		out = append(out, StatCount{Kind: parts[0], Month: parts[1], Group: parts[2], Region: parts[3], N: n})
	}
	return out, nil
}
