package steward

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The forum is the open, non-binding space for dialogue the WGIG proposed
// (Report paras 36–46) and the Tunis Agenda mandated (para 72). Its record
// lives in the ledger like everything else, but it has no write access to
// the registries (Tunis Agenda para 77): no forum event changes a resource.
//
// State keys, all under forum/:
//
//	forum/issue/<id>                      an Issue
//	forum/issue-threads/<id>/<inv>        thread index of an issue, newest first
//	forum/threads/<inv>                   every thread, newest first
//	forum/thread/<id>                     a Thread
//	forum/post/<thread>/<n>               a Post (n counts from 1 in its thread)
//	forum/post-rev/<thread>/<n>/<rev>     an earlier text of an edited post
//	forum/reaction/<thread>/<n>/<handle>/<reaction>
//	forum/flag/<thread>/<n>/<handle>      a participant's flag on a post
//	forum/queue/<thread>/<n>              a post awaiting a moderator
//	forum/sub/<handle>/<target>           a subscription
//	forum/subscriber/<target>/<handle>    the same, indexed by what is followed
//	forum/notice/<handle>/<seq>           a mention of a participant
//	forum/mail/<handle>                   how the forum mails them, unless the default digest
//	forum/stats/<kind>/<month>/<group>/<region>   participation counters
//	forum/counter/<kind>                  the last id given to a thread, …
//
// Numeric ids in keys are zero-padded so that keys sort as numbers; <inv>
// is the padded difference from 10^10-1, so that scanning lists newest first.

// Limits on what a participant may write. Post bodies are markdown, kept as
// written and rendered (and sanitised) only for display.
const (
	MaxTitleRunes  = 200
	MaxBodyBytes   = 8000
	MaxReasonRunes = 500
	MaxMentions    = 10
	// PageSize is the number of posts on one page of a thread.
	PageSize = 50
)

// Kinds of issues in the catalogue.
const (
	IssueCluster  = "cluster"  // one of the WGIG's four clusters (Report para 13)
	IssuePriority = "priority" // one of the WGIG's thirteen priority issues (paras 15–27)
	IssueMandate  = "mandate"  // an item of the IGF mandate, Tunis Agenda para 72 a–l
	IssueProposed = "proposed" // raised by a participant (WGIG para 45: any stakeholder may bring up any issue)
	// IssueGroup is an intersessional group's own space: a best practice
	// forum, dynamic coalition, policy network or national or regional
	// initiative, with its threads and published outputs.
	IssueGroup = "intersessional"
)

// Modalities are the kinds of intersessional group (the IGF's).
var Modalities = map[string]string{
	"bpf": "Best practice forum",
	"dc":  "Dynamic coalition",
	"pn":  "Policy network",
	"nri": "National or regional initiative",
}

// Reactions a participant may give a post.
var Reactions = []string{"agree", "disagree", "thanks", "insightful"}

// Issue is an entry of the forum's issue catalogue.
type Issue struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Cluster string `json:"cluster,omitempty"` // a to d: the WGIG cluster it belongs to
	Title   string `json:"title"`
	Summary string `json:"summary"`
	// Source cites where the issue comes from, SourceURL links to it.
	Source    string `json:"source,omitempty"`
	SourceURL string `json:"source_url,omitempty"`
	// Institutions are the bodies outside this instance that handle the
	// issue (the WGIG's survey of the landscape).
	Institutions []string `json:"institutions,omitempty"`
	// Decisions are the charter's decision kinds that touch the issue: the
	// bodies the charter names for them handle it here.
	Decisions []string `json:"decisions,omitempty"`
	// Related names other issues of the catalogue (a priority issue's
	// cluster, mandate items that cover it).
	Related []string `json:"related,omitempty"`
	// Modality is an intersessional group's kind: bpf, dc, pn or nri.
	Modality string `json:"modality,omitempty"`
	// Conveners run an intersessional group with the one who formed it:
	// they publish its outputs and name other conveners.
	Conveners []string  `json:"conveners,omitempty"`
	Outputs   int       `json:"outputs,omitempty"`
	Proposer  string    `json:"proposer"`
	Created   time.Time `json:"created"`
	Threads   int       `json:"threads"`
	Posts     int       `json:"posts"`
	Activity  time.Time `json:"activity"`
}

// Thread is a discussion on an issue.
type Thread struct {
	ID         int64     `json:"id"`
	Issue      string    `json:"issue"`
	Title      string    `json:"title"`
	Author     string    `json:"author"`
	Created    time.Time `json:"created"`
	Posts      int       `json:"posts"`
	LastPost   time.Time `json:"last_post"`
	LastAuthor string    `json:"last_author"`
}

// Post is one message of a thread. Body is the markdown as written.
type Post struct {
	Thread       int64          `json:"thread"`
	N            int            `json:"n"`
	Author       string         `json:"author"`
	Body         string         `json:"body"`
	ReplyTo      int            `json:"reply_to,omitempty"`
	Created      time.Time      `json:"created"`
	Edited       time.Time      `json:"edited,omitzero"`
	Revisions    int            `json:"revisions,omitempty"` // earlier texts kept
	Reactions    map[string]int `json:"reactions,omitempty"`
	Flags        int            `json:"flags,omitempty"`
	Hidden       bool           `json:"hidden,omitempty"`
	HiddenReason string         `json:"hidden_reason,omitempty"`
	HiddenBy     string         `json:"hidden_by,omitempty"`
	Appeal       string         `json:"appeal,omitempty"`
	AppealResult string         `json:"appeal_result,omitempty"`
	Seq          int64          `json:"seq"` // the ledger entry that added it
}

// Revision is an earlier text of an edited post.
type Revision struct {
	Rev      int       `json:"rev"`
	Body     string    `json:"body"`
	Replaced time.Time `json:"replaced"`
}

// QueueItem is a post that awaits a moderator: flagged, or its hiding appealed.
type QueueItem struct {
	Thread  int64     `json:"thread"`
	N       int       `json:"n"`
	Kind    string    `json:"kind"` // "flag" or "appeal"
	Reasons []string  `json:"reasons"`
	Since   time.Time `json:"since"`
}

// Subscription is a participant's wish to hear of new activity on an
// issue, a thread or a consultation.
type Subscription struct {
	Target string    `json:"target"` // issue:<id>, thread:<id> or consultation:<id>
	Since  time.Time `json:"since"`
}

// Notice tells a participant it was mentioned in a post.
type Notice struct {
	Kind   string    `json:"kind"` // "mention"
	Thread int64     `json:"thread"`
	N      int       `json:"n"`
	By     string    `json:"by"`
	Time   time.Time `json:"time"`
}

func fpad(n int64) string       { return fmt.Sprintf("%010d", n) }
func finv(n int64) string       { return fmt.Sprintf("%010d", 9999999999-n) }
func issueKey(id string) string { return "forum/issue/" + id }
func threadKey(id int64) string { return "forum/thread/" + fpad(id) }
func postKey(t int64, n int) string {
	return fmt.Sprintf("forum/post/%s/%07d", fpad(t), n)
}
func postPrefix(t int64) string          { return "forum/post/" + fpad(t) + "/" }
func queueKey(t int64, n int) string     { return fmt.Sprintf("forum/queue/%s/%07d", fpad(t), n) }
func forumCounterKey(kind string) string { return "forum/counter/" + kind }

var issueIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// ValidIssueID reports whether id may name an issue.
func ValidIssueID(id string) bool { return issueIDRE.MatchString(id) }

// Slug turns a title into an issue id: lower-case ASCII letters and digits
// joined by dashes, at most 48 characters.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// forumText validates a one-line text such as a title.
func forumText(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", what)
	}
	n := utf8.RuneCountInString(s)
	if n == 0 || strings.TrimSpace(s) == "" {
		return Errorf(EINVALID, "%s is empty", what)
	}
	if n > max {
		return Errorf(ETOOLARGE, "%s is %d characters; at most %d are allowed", what, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Errorf(EINVALID, "%s contains a control character", what)
		}
	}
	return nil
}

// forumBody validates a markdown text: a post, a call, a submission.
func forumBody(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", what)
	}
	if strings.TrimSpace(s) == "" {
		return Errorf(EINVALID, "%s is empty", what)
	}
	if len(s) > max {
		return Errorf(ETOOLARGE, "%s is %d bytes; at most %d are allowed", what, len(s), max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return Errorf(EINVALID, "%s contains a control character (U+%04X)", what, r)
		}
	}
	return nil
}

var mentionRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_@/.-])@([a-z][a-z0-9-]{1,31})\b`)

// Mentions returns the handles mentioned as @handle in a text, in order of
// first appearance, without repeats.
func Mentions(text string) []string {
	var out []string
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// event payloads

type issueAdded struct {
	ID           string   `json:"id"`
	Kind         string   `json:"kind"`
	Cluster      string   `json:"cluster,omitempty"`
	Title        string   `json:"title"`
	Summary      string   `json:"summary"`
	Source       string   `json:"source,omitempty"`
	SourceURL    string   `json:"source_url,omitempty"`
	Institutions []string `json:"institutions,omitempty"`
	Decisions    []string `json:"decisions,omitempty"`
	Related      []string `json:"related,omitempty"`
	Modality     string   `json:"modality,omitempty"`
}

type threadOpened struct {
	ID    int64  `json:"id"`
	Issue string `json:"issue"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

type postAdded struct {
	Thread  int64  `json:"thread"`
	N       int    `json:"n"`
	Body    string `json:"body"`
	ReplyTo int    `json:"reply_to,omitempty"`
}

type postEdited struct {
	Thread int64  `json:"thread"`
	N      int    `json:"n"`
	Body   string `json:"body"`
}

type postRef struct {
	Thread int64  `json:"thread"`
	N      int    `json:"n"`
	Reason string `json:"reason,omitempty"`
}

type reacted struct {
	Thread   int64  `json:"thread"`
	N        int    `json:"n"`
	Reaction string `json:"reaction"`
	On       bool   `json:"on"`
}

type subscribed struct {
	Target string `json:"target"`
	On     bool   `json:"on"`
}

type appealDecided struct {
	Thread int64  `json:"thread"`
	N      int    `json:"n"`
	Upheld bool   `json:"upheld"`
	Reason string `json:"reason"`
}

// forumNextID reads and advances a counter; the applier checks the id.
func forumNextID(ctx context.Context, r StateReader, kind string) (int64, error) {
	var n int64
	err := GetJSON(ctx, r, forumCounterKey(kind), &n)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return 0, err
	}
	return n + 1, nil
}

func forumTakeID(ctx context.Context, w StateWriter, kind string, id int64) error {
	want, err := forumNextID(ctx, w, kind)
	if err != nil {
		return err
	}
	if id != want {
		return fmt.Errorf("%s id %d is not the next (%d)", kind, id, want)
	}
	return PutJSON(ctx, w, forumCounterKey(kind), id)
}

// forumCount adds one to the participation counter of kind for the actor's
// stakeholder group and region in the event's month. Actors that are not
// participants (the init actor) are not counted.
func forumCount(ctx context.Context, w StateWriter, e *Event, kind string) error {
	var p Participant
	if err := GetJSON(ctx, w, participantKey(e.Actor), &p); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return err
	}
	k := fmt.Sprintf("forum/stats/%s/%s/%s/%s", kind, e.Time.UTC().Format("2006-01"), p.Group, p.Region)
	var n int64
	if err := GetJSON(ctx, w, k, &n); err != nil && ErrorCode(err) != ENOTFOUND {
		return err
	}
	return PutJSON(ctx, w, k, n+1)
}

func forumAddPost(ctx context.Context, w StateWriter, e *Event, t *Thread, n int, body string, replyTo int) error {
	if n != t.Posts+1 {
		return fmt.Errorf("post %d of thread %d is not the next (%d)", n, t.ID, t.Posts+1)
	}
	p := Post{Thread: t.ID, N: n, Author: e.Actor, Body: body, ReplyTo: replyTo, Created: e.Time, Seq: e.Seq}
	if err := PutJSON(ctx, w, postKey(t.ID, n), p); err != nil {
		return err
	}
	t.Posts, t.LastPost, t.LastAuthor = n, e.Time, e.Actor
	if err := PutJSON(ctx, w, threadKey(t.ID), t); err != nil {
		return err
	}
	var is Issue
	if err := GetJSON(ctx, w, issueKey(t.Issue), &is); err != nil {
		return err
	}
	is.Posts++
	is.Activity = e.Time
	if n == 1 {
		is.Threads++
	}
	if err := PutJSON(ctx, w, issueKey(is.ID), is); err != nil {
		return err
	}
	for i, h := range Mentions(body) {
		if i == MaxMentions {
			break
		}
		if h == e.Actor {
			continue
		}
		if _, err := w.Get(ctx, participantKey(h)); err != nil {
			continue // not a participant: plain text
		}
		nk := fmt.Sprintf("forum/notice/%s/%012d", h, e.Seq)
		if err := PutJSON(ctx, w, nk, Notice{Kind: "mention", Thread: t.ID, N: n, By: e.Actor, Time: e.Time}); err != nil {
			return err
		}
	}
	return forumCount(ctx, w, e, "posts")
}

func init() {
	register("forum.issue-added", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *issueAdded) error {
		if err := mustNotExist(ctx, w, issueKey(p.ID)); err != nil {
			return err
		}
		is := Issue{ID: p.ID, Kind: p.Kind, Cluster: p.Cluster, Title: p.Title, Summary: p.Summary, Source: p.Source,
			SourceURL: p.SourceURL, Institutions: p.Institutions, Decisions: p.Decisions, Related: p.Related,
			Modality: p.Modality, Proposer: e.Actor, Created: e.Time, Activity: e.Time}
		return PutJSON(ctx, w, issueKey(p.ID), is)
	}))
	register("forum.thread-opened", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *threadOpened) error {
		if _, err := w.Get(ctx, issueKey(p.Issue)); err != nil {
			return fmt.Errorf("issue %s: %w", p.Issue, err)
		}
		if err := forumTakeID(ctx, w, "thread", p.ID); err != nil {
			return err
		}
		t := Thread{ID: p.ID, Issue: p.Issue, Title: p.Title, Author: e.Actor, Created: e.Time}
		if err := w.Put(ctx, "forum/issue-threads/"+p.Issue+"/"+finv(p.ID), []byte(fmt.Sprint(p.ID))); err != nil {
			return err
		}
		if err := w.Put(ctx, "forum/threads/"+finv(p.ID), []byte(fmt.Sprint(p.ID))); err != nil {
			return err
		}
		if err := forumCount(ctx, w, e, "threads"); err != nil {
			return err
		}
		return forumAddPost(ctx, w, e, &t, 1, p.Body, 0)
	}))
	register("forum.post-added", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *postAdded) error {
		var t Thread
		if err := GetJSON(ctx, w, threadKey(p.Thread), &t); err != nil {
			return err
		}
		if p.ReplyTo < 0 || p.ReplyTo > t.Posts {
			return fmt.Errorf("reply to post %d, which thread %d does not have", p.ReplyTo, p.Thread)
		}
		return forumAddPost(ctx, w, e, &t, p.N, p.Body, p.ReplyTo)
	}))
	register("forum.post-edited", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *postEdited) error {
		var post Post
		if err := GetJSON(ctx, w, postKey(p.Thread, p.N), &post); err != nil {
			return err
		}
		if post.Author != e.Actor {
			return fmt.Errorf("%s edits a post of %s", e.Actor, post.Author)
		}
		post.Revisions++
		rev := Revision{Rev: post.Revisions, Body: post.Body, Replaced: e.Time}
		if err := PutJSON(ctx, w, fmt.Sprintf("forum/post-rev/%s/%07d/%04d", fpad(p.Thread), p.N, rev.Rev), rev); err != nil {
			return err
		}
		post.Body, post.Edited = p.Body, e.Time
		return PutJSON(ctx, w, postKey(p.Thread, p.N), post)
	}))
	register("forum.reacted", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *reacted) error {
		var post Post
		if err := GetJSON(ctx, w, postKey(p.Thread, p.N), &post); err != nil {
			return err
		}
		k := fmt.Sprintf("forum/reaction/%s/%07d/%s/%s", fpad(p.Thread), p.N, e.Actor, p.Reaction)
		_, err := w.Get(ctx, k)
		had := err == nil
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if had == p.On {
			return fmt.Errorf("reaction %s of %s is already %v", p.Reaction, e.Actor, p.On)
		}
		if post.Reactions == nil {
			post.Reactions = map[string]int{}
		}
		if p.On {
			post.Reactions[p.Reaction]++
			if err := w.Put(ctx, k, []byte("1")); err != nil {
				return err
			}
		} else {
			post.Reactions[p.Reaction]--
			if post.Reactions[p.Reaction] <= 0 {
				delete(post.Reactions, p.Reaction)
			}
			if err := w.Delete(ctx, k); err != nil {
				return err
			}
		}
		return PutJSON(ctx, w, postKey(p.Thread, p.N), post)
	}))
	register("forum.subscribed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *subscribed) error {
		k := "forum/sub/" + e.Actor + "/" + p.Target
		rk := "forum/subscriber/" + p.Target + "/" + e.Actor
		if !p.On {
			if err := w.Delete(ctx, rk); err != nil {
				return err
			}
			return w.Delete(ctx, k)
		}
		if err := w.Put(ctx, rk, []byte("1")); err != nil {
			return err
		}
		return PutJSON(ctx, w, k, Subscription{Target: p.Target, Since: e.Time})
	}))
	register("forum.flagged", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *postRef) error {
		var post Post
		if err := GetJSON(ctx, w, postKey(p.Thread, p.N), &post); err != nil {
			return err
		}
		fk := fmt.Sprintf("forum/flag/%s/%07d/%s", fpad(p.Thread), p.N, e.Actor)
		if err := mustNotExist(ctx, w, fk); err != nil {
			return err
		}
		if err := w.Put(ctx, fk, []byte("1")); err != nil {
			return err
		}
		post.Flags++
		if err := PutJSON(ctx, w, postKey(p.Thread, p.N), post); err != nil {
			return err
		}
		q := QueueItem{Thread: p.Thread, N: p.N, Kind: "flag", Since: e.Time}
		if err := GetJSON(ctx, w, queueKey(p.Thread, p.N), &q); err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if len(q.Reasons) < 20 {
			q.Reasons = append(q.Reasons, e.Actor+": "+p.Reason)
		}
		return PutJSON(ctx, w, queueKey(p.Thread, p.N), q)
	}))
	register("forum.post-hidden", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *postRef) error {
		var post Post
		if err := GetJSON(ctx, w, postKey(p.Thread, p.N), &post); err != nil {
			return err
		}
		post.Hidden, post.HiddenReason, post.HiddenBy, post.Appeal, post.AppealResult = true, p.Reason, e.Actor, "", ""
		if err := w.Delete(ctx, queueKey(p.Thread, p.N)); err != nil {
			return err
		}
		return PutJSON(ctx, w, postKey(p.Thread, p.N), post)
	}))
	register("forum.flags-dismissed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *postRef) error {
		if _, err := w.Get(ctx, queueKey(p.Thread, p.N)); err != nil {
			return err
		}
		return w.Delete(ctx, queueKey(p.Thread, p.N))
	}))
	register("forum.appealed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *postRef) error {
		var post Post
		if err := GetJSON(ctx, w, postKey(p.Thread, p.N), &post); err != nil {
			return err
		}
		if !post.Hidden || post.Author != e.Actor || post.Appeal != "" {
			return fmt.Errorf("post %d/%d cannot be appealed by %s", p.Thread, p.N, e.Actor)
		}
		post.Appeal = p.Reason
		if err := PutJSON(ctx, w, postKey(p.Thread, p.N), post); err != nil {
			return err
		}
		return PutJSON(ctx, w, queueKey(p.Thread, p.N), QueueItem{Thread: p.Thread, N: p.N, Kind: "appeal", Reasons: []string{e.Actor + ": " + p.Reason}, Since: e.Time})
	}))
	register("forum.appeal-decided", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *appealDecided) error {
		var post Post
		if err := GetJSON(ctx, w, postKey(p.Thread, p.N), &post); err != nil {
			return err
		}
		if post.Appeal == "" || post.AppealResult != "" {
			return fmt.Errorf("post %d/%d has no open appeal", p.Thread, p.N)
		}
		if p.Upheld {
			post.AppealResult = "upheld: " + p.Reason
		} else {
			post.AppealResult = "restored: " + p.Reason
			post.Hidden = false
		}
		if err := w.Delete(ctx, queueKey(p.Thread, p.N)); err != nil {
			return err
		}
		return PutJSON(ctx, w, postKey(p.Thread, p.N), post)
	}))
}

// forumParticipant checks that actor is a registered participant.
func forumParticipant(ctx context.Context, r StateReader, actor, what string) (*Participant, error) {
	p, err := LoadParticipant(ctx, r, actor)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(EFORBIDDEN, "only a registered participant may %s", what)
	}
	return p, err
}

func forumModerator(ctx context.Context, r StateReader, actor, what string) error {
	ok, err := IsModerator(ctx, r, actor)
	if err != nil {
		return err
	}
	if !ok {
		if ok, err = IsOperator(ctx, r, actor); err != nil {
			return err
		}
	}
	if !ok {
		return Errorf(EFORBIDDEN, "only a moderator of the forum may %s", what)
	}
	return nil
}

// ProposeIssue returns the command by which a participant adds an issue to
// the catalogue. An empty id is made from the title.
func ProposeIssue(actor string, is Issue) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if actor != ActorInit {
			if _, err := forumParticipant(ctx, tx, actor, "propose an issue"); err != nil {
				return nil, err
			}
			is.Kind, is.Source, is.SourceURL, is.Decisions, is.Related = IssueProposed, "", "", nil, nil
		}
		return addIssue(ctx, tx, actor, is)
	}
}

// FormGroup returns the command by which a moderator forms an
// intersessional group (modality bpf, dc, pn or nri): an entry of the
// catalogue with its own threads, and outputs its convener publishes.
func FormGroup(actor, modality, title, summary string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := forumModerator(ctx, tx, actor, "form an intersessional group"); err != nil {
			return nil, err
		}
		return addIssue(ctx, tx, actor, Issue{Kind: IssueGroup, Modality: modality, Title: title, Summary: summary})
	}
}

// Output is a document an intersessional group publishes.
type Output struct {
	Issue     string    `json:"issue"`
	N         int       `json:"n"`
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	By        string    `json:"by"`
	Published time.Time `json:"published"`
	Seq       int64     `json:"seq"`
}

type outputPublished struct {
	Issue string `json:"issue"`
	N     int    `json:"n"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

func init() {
	register("forum.output-published", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *outputPublished) error {
		var is Issue
		if err := GetJSON(ctx, w, issueKey(p.Issue), &is); err != nil {
			return err
		}
		if is.Kind != IssueGroup || p.N != is.Outputs+1 {
			return fmt.Errorf("output %d of %s: not a group, or out of order", p.N, p.Issue)
		}
		is.Outputs = p.N
		if err := PutJSON(ctx, w, fmt.Sprintf("forum/output/%s/%05d", p.Issue, p.N), Output{Issue: p.Issue, N: p.N, Title: p.Title, Text: p.Text, By: e.Actor, Published: e.Time, Seq: e.Seq}); err != nil {
			return err
		}
		return PutJSON(ctx, w, issueKey(p.Issue), is)
	}))
}

// PublishOutput returns the command by which a group's convener (who
// formed it, or one named since) or a moderator publishes one of its
// outputs.
func PublishOutput(actor, issue, title, text string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		is, err := groupRunBy(ctx, tx, actor, issue, "publish a group's output")
		if err != nil {
			return nil, err
		}
		if err := forumText("the title", title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if err := forumBody("the output", text, MaxCallBytes); err != nil {
			return nil, err
		}
		_, err = tx.Emit(ctx, actor, "forum.output-published", outputPublished{Issue: issue, N: is.Outputs + 1, Title: title, Text: text})
		return nil, err
	}
}

// ListOutputs returns a group's outputs, oldest first.
func ListOutputs(ctx context.Context, r StateReader, issue string) ([]Output, error) {
	return listJSON[Output](ctx, r, "forum/output/"+issue+"/")
}

func addIssue(ctx context.Context, tx Tx, actor string, is Issue) (any, error) {
	{
		if err := forumText("the title", is.Title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if err := forumBody("the summary", is.Summary, MaxBodyBytes); err != nil {
			return nil, err
		}
		if is.ID == "" {
			is.ID = Slug(is.Title)
		}
		if !ValidIssueID(is.ID) {
			return nil, Errorf(EINVALID, "issue id %q: use lower-case letters, digits and dashes (a title in Latin letters gives one)", is.ID)
		}
		switch is.Kind {
		case IssueCluster, IssuePriority, IssueMandate, IssueProposed:
			is.Modality = ""
		case IssueGroup:
			if _, ok := Modalities[is.Modality]; !ok {
				return nil, Errorf(EINVALID, "an intersessional group's modality is bpf, dc, pn or nri, not %q", is.Modality)
			}
		default:
			return nil, Errorf(EINVALID, "issue kind %q is not one of cluster, priority, mandate, proposed", is.Kind)
		}
		if is.Cluster != "" && !slices.Contains([]string{"a", "b", "c", "d"}, is.Cluster) {
			return nil, Errorf(EINVALID, "cluster %q: want a, b, c or d (WGIG Report para 13)", is.Cluster)
		}
		if len(is.Institutions) > 30 {
			return nil, Errorf(ETOOLARGE, "at most 30 institutions")
		}
		for _, in := range is.Institutions {
			if err := forumText("an institution", in, MaxTitleRunes); err != nil {
				return nil, err
			}
		}
		if _, err := tx.Get(ctx, issueKey(is.ID)); err == nil {
			return nil, Errorf(ECONFLICT, "the catalogue has an issue %q already", is.ID)
		}
		_, err := tx.Emit(ctx, actor, "forum.issue-added", issueAdded{ID: is.ID, Kind: is.Kind, Cluster: is.Cluster, Title: is.Title,
			Summary: is.Summary, Source: is.Source, SourceURL: is.SourceURL, Institutions: is.Institutions, Decisions: is.Decisions, Related: is.Related,
			Modality: is.Modality})
		if err != nil {
			return nil, err
		}
		return LoadIssue(ctx, tx, is.ID)
	}
}

// OpenThread returns the command by which a participant opens a thread on
// an issue with its first post.
func OpenThread(actor, issue, title, body string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "open a thread"); err != nil {
			return nil, err
		}
		if _, err := LoadIssue(ctx, tx, issue); err != nil {
			return nil, err
		}
		if err := forumText("the title", title, MaxTitleRunes); err != nil {
			return nil, err
		}
		if err := forumBody("the post", body, MaxBodyBytes); err != nil {
			return nil, err
		}
		id, err := forumNextID(ctx, tx, "thread")
		if err != nil {
			return nil, err
		}
		if _, err := tx.Emit(ctx, actor, "forum.thread-opened", threadOpened{ID: id, Issue: issue, Title: title, Body: body}); err != nil {
			return nil, err
		}
		return LoadThread(ctx, tx, id)
	}
}

// Reply returns the command by which a participant adds a post to a
// thread, replying to post replyTo (0 for none).
func Reply(actor string, thread int64, replyTo int, body string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "post"); err != nil {
			return nil, err
		}
		t, err := LoadThread(ctx, tx, thread)
		if err != nil {
			return nil, err
		}
		if replyTo < 0 || replyTo > t.Posts {
			return nil, Errorf(EINVALID, "thread %d has no post %d to reply to", thread, replyTo)
		}
		if err := forumBody("the post", body, MaxBodyBytes); err != nil {
			return nil, err
		}
		if _, err := tx.Emit(ctx, actor, "forum.post-added", postAdded{Thread: thread, N: t.Posts + 1, Body: body, ReplyTo: replyTo}); err != nil {
			return nil, err
		}
		return LoadPost(ctx, tx, thread, t.Posts+1)
	}
}

// EditPost returns the command by which an author changes its post; the
// earlier text is kept in the post's history.
func EditPost(actor string, thread int64, n int, body string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		p, err := LoadPost(ctx, tx, thread, n)
		if err != nil {
			return nil, err
		}
		if p.Author != actor {
			return nil, Errorf(EFORBIDDEN, "only %s may edit this post", p.Author)
		}
		if p.Hidden {
			return nil, Errorf(EFORBIDDEN, "a hidden post cannot be edited; appeal its hiding instead")
		}
		if err := forumBody("the post", body, MaxBodyBytes); err != nil {
			return nil, err
		}
		if body == p.Body {
			return nil, Errorf(EINVALID, "the text is unchanged")
		}
		if p.Revisions >= 100 {
			return nil, Errorf(ETOOLARGE, "a post may be edited at most 100 times")
		}
		if _, err := tx.Emit(ctx, actor, "forum.post-edited", postEdited{Thread: thread, N: n, Body: body}); err != nil {
			return nil, err
		}
		return LoadPost(ctx, tx, thread, n)
	}
}

// React returns the command by which a participant gives (on) or takes
// back a reaction to a post.
func React(actor string, thread int64, n int, reaction string, on bool) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "react"); err != nil {
			return nil, err
		}
		if !slices.Contains(Reactions, reaction) {
			return nil, Errorf(EINVALID, "reaction %q is not one of %s", reaction, strings.Join(Reactions, ", "))
		}
		if _, err := LoadPost(ctx, tx, thread, n); err != nil {
			return nil, err
		}
		_, err := tx.Get(ctx, fmt.Sprintf("forum/reaction/%s/%07d/%s/%s", fpad(thread), n, actor, reaction))
		had := err == nil
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		if had == on {
			return nil, nil // nothing to change
		}
		_, err = tx.Emit(ctx, actor, "forum.reacted", reacted{Thread: thread, N: n, Reaction: reaction, On: on})
		return nil, err
	}
}

var forumTargetRE = regexp.MustCompile(`^(issue:[a-z0-9][a-z0-9-]{0,63}|thread:[0-9]{1,10}|consultation:[0-9]{1,10})$`)

// Subscribe returns the command by which a participant starts (on) or
// stops following an issue, a thread or a consultation.
func Subscribe(actor, target string, on bool) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "subscribe"); err != nil {
			return nil, err
		}
		if !forumTargetRE.MatchString(target) {
			return nil, Errorf(EINVALID, "subscription target %q: want issue:ID, thread:N or consultation:N", target)
		}
		kind, id, _ := strings.Cut(target, ":")
		key := issueKey(id)
		if kind != "issue" {
			var n int64
			if _, err := fmt.Sscan(id, &n); err != nil {
				return nil, Errorf(EINVALID, "subscription target %q: bad number", target)
			}
			key = "forum/" + kind + "/" + fpad(n)
		}
		if _, err := tx.Get(ctx, key); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return nil, Errorf(ENOTFOUND, "nothing to subscribe to at %s", target)
			}
			return nil, err
		}
		_, err := tx.Get(ctx, "forum/sub/"+actor+"/"+target)
		if (err == nil) == on {
			return nil, nil
		}
		_, err = tx.Emit(ctx, actor, "forum.subscribed", subscribed{Target: target, On: on})
		return nil, err
	}
}

// Flag returns the command by which a participant asks the moderators to
// look at a post, saying why.
func Flag(actor string, thread int64, n int, reason string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := forumParticipant(ctx, tx, actor, "flag a post"); err != nil {
			return nil, err
		}
		p, err := LoadPost(ctx, tx, thread, n)
		if err != nil {
			return nil, err
		}
		if err := forumText("the reason", reason, MaxReasonRunes); err != nil {
			return nil, err
		}
		if p.Hidden {
			return nil, Errorf(ECONFLICT, "the post is hidden already")
		}
		if _, err := tx.Get(ctx, fmt.Sprintf("forum/flag/%s/%07d/%s", fpad(thread), n, actor)); err == nil {
			return nil, Errorf(ECONFLICT, "you have flagged this post already")
		}
		_, err = tx.Emit(ctx, actor, "forum.flagged", postRef{Thread: thread, N: n, Reason: reason})
		return nil, err
	}
}

// Hide returns the command by which a moderator hides a post, stating why.
// The post stays in the ledger; its page shows the reason instead.
func Hide(actor string, thread int64, n int, reason string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := forumModerator(ctx, tx, actor, "hide a post"); err != nil {
			return nil, err
		}
		p, err := LoadPost(ctx, tx, thread, n)
		if err != nil {
			return nil, err
		}
		if err := forumText("the reason", reason, MaxReasonRunes); err != nil {
			return nil, err
		}
		if p.Hidden {
			return nil, Errorf(ECONFLICT, "the post is hidden already")
		}
		_, err = tx.Emit(ctx, actor, "forum.post-hidden", postRef{Thread: thread, N: n, Reason: reason})
		return nil, err
	}
}

// DismissFlags returns the command by which a moderator closes a post's
// flags without hiding it, stating why.
func DismissFlags(actor string, thread int64, n int, reason string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := forumModerator(ctx, tx, actor, "dismiss flags"); err != nil {
			return nil, err
		}
		if err := forumText("the reason", reason, MaxReasonRunes); err != nil {
			return nil, err
		}
		var q QueueItem
		if err := GetJSON(ctx, tx, queueKey(thread, n), &q); err != nil || q.Kind != "flag" {
			return nil, Errorf(ENOTFOUND, "post %d/%d has no open flags", thread, n)
		}
		_, err := tx.Emit(ctx, actor, "forum.flags-dismissed", postRef{Thread: thread, N: n, Reason: reason})
		return nil, err
	}
}

// Appeal returns the command by which the author of a hidden post asks the
// moderators to restore it.
func Appeal(actor string, thread int64, n int, text string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		p, err := LoadPost(ctx, tx, thread, n)
		if err != nil {
			return nil, err
		}
		if p.Author != actor {
			return nil, Errorf(EFORBIDDEN, "only the author may appeal the hiding of a post")
		}
		if !p.Hidden {
			return nil, Errorf(ECONFLICT, "the post is not hidden")
		}
		if p.Appeal != "" {
			return nil, Errorf(ECONFLICT, "the hiding of this post was appealed already")
		}
		if err := forumText("the appeal", text, MaxReasonRunes); err != nil {
			return nil, err
		}
		_, err = tx.Emit(ctx, actor, "forum.appealed", postRef{Thread: thread, N: n, Reason: text})
		return nil, err
	}
}

// DecideAppeal returns the command by which a moderator other than the one
// who hid a post decides its author's appeal: upheld keeps it hidden.
func DecideAppeal(actor string, thread int64, n int, upheld bool, reason string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := forumModerator(ctx, tx, actor, "decide an appeal"); err != nil {
			return nil, err
		}
		p, err := LoadPost(ctx, tx, thread, n)
		if err != nil {
			return nil, err
		}
		if p.Appeal == "" || p.AppealResult != "" {
			return nil, Errorf(ENOTFOUND, "post %d/%d has no open appeal", thread, n)
		}
		if p.HiddenBy == actor {
			return nil, Errorf(EFORBIDDEN, "the moderator who hid a post may not decide the appeal against it")
		}
		if err := forumText("the reason", reason, MaxReasonRunes); err != nil {
			return nil, err
		}
		_, err = tx.Emit(ctx, actor, "forum.appeal-decided", appealDecided{Thread: thread, N: n, Upheld: upheld, Reason: reason})
		return nil, err
	}
}

// LoadIssue reads an issue of the catalogue.
func LoadIssue(ctx context.Context, r StateReader, id string) (*Issue, error) {
	if !ValidIssueID(id) {
		return nil, Errorf(ENOTFOUND, "no issue %q", id)
	}
	return loadJSON[Issue](ctx, r, issueKey(id), func() error { return Errorf(ENOTFOUND, "no issue %q", id) })
}

// ListIssues returns the whole catalogue, in id order.
func ListIssues(ctx context.Context, r StateReader) ([]Issue, error) {
	return listJSON[Issue](ctx, r, "forum/issue/")
}

// LoadThread reads a thread.
func LoadThread(ctx context.Context, r StateReader, id int64) (*Thread, error) {
	return loadJSON[Thread](ctx, r, threadKey(id), func() error { return Errorf(ENOTFOUND, "no thread %d", id) })
}

// ListThreads returns up to limit threads of an issue ("" for every issue),
// newest first, starting after the thread after (0 for the newest).
func ListThreads(ctx context.Context, r StateReader, issue string, after int64, limit int) ([]Thread, error) {
	prefix := "forum/threads/"
	if issue != "" {
		prefix = "forum/issue-threads/" + issue + "/"
	}
	from := ""
	if after > 0 {
		from = prefix + finv(after)
	}
	kvs, err := r.Scan(ctx, prefix, from, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Thread, 0, len(kvs))
	for _, kv := range kvs {
		var id int64
		if _, err := fmt.Sscan(string(kv.Value), &id); err != nil {
			return nil, fmt.Errorf("state %s: %w", kv.Key, err)
		}
		t, err := LoadThread(ctx, r, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, nil
}

// LoadPost reads one post.
func LoadPost(ctx context.Context, r StateReader, thread int64, n int) (*Post, error) {
	var p Post
	if err := GetJSON(ctx, r, postKey(thread, n), &p); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "thread %d has no post %d", thread, n)
		}
		return nil, err
	}
	return &p, nil
}

// ListPosts returns up to limit posts of a thread after post number after.
func ListPosts(ctx context.Context, r StateReader, thread int64, after, limit int) ([]Post, error) {
	from := ""
	if after > 0 {
		from = postKey(thread, after)
	}
	kvs, err := r.Scan(ctx, postPrefix(thread), from, limit)
	if err != nil {
		return nil, err
	}
	return decodeAll[Post](kvs)
}

// Revisions returns the earlier texts of a post, oldest first.
func Revisions(ctx context.Context, r StateReader, thread int64, n int) ([]Revision, error) {
	return listJSON[Revision](ctx, r, fmt.Sprintf("forum/post-rev/%s/%07d/", fpad(thread), n))
}

// ModerationQueue returns the posts awaiting a moderator.
func ModerationQueue(ctx context.Context, r StateReader, limit int) ([]QueueItem, error) {
	kvs, err := r.Scan(ctx, "forum/queue/", "", limit)
	if err != nil {
		return nil, err
	}
	return decodeAll[QueueItem](kvs)
}

// Subscriptions returns what a participant follows.
func Subscriptions(ctx context.Context, r StateReader, handle string) ([]Subscription, error) {
	return listJSON[Subscription](ctx, r, "forum/sub/"+handle+"/")
}

// Notices returns up to limit mentions of a participant, oldest first.
func Notices(ctx context.Context, r StateReader, handle string, limit int) ([]Notice, error) {
	kvs, err := r.Scan(ctx, "forum/notice/"+handle+"/", "", limit)
	if err != nil {
		return nil, err
	}
	return decodeAll[Notice](kvs)
}

// HasReacted reports whether handle gave reaction to a post.
func HasReacted(ctx context.Context, r StateReader, handle string, thread int64, n int, reaction string) bool {
	_, err := r.Get(ctx, fmt.Sprintf("forum/reaction/%s/%07d/%s/%s", fpad(thread), n, handle, reaction))
	return err == nil
}

// Subscribers returns the handles that follow target, in order.
func Subscribers(ctx context.Context, r StateReader, target string) ([]string, error) {
	prefix := "forum/subscriber/" + target + "/"
	kvs, err := ScanAll(ctx, r, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = strings.TrimPrefix(kv.Key, prefix)
	}
	return out, nil
}
