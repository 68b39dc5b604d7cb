package steward

import (
	"context"
	"fmt"
	"strings"
	"time"

	"steward/charter"
)

// A change request proposes a change to a TLD's delegation. It moves through
// the states of IANA's root zone process, each transition a ledger event:
//
//	submitted → pre-review → checks → confirmation → review → [evaluation,
//	for a transfer] → re-check → approved → implemented → published
//
// or ends withdrawn, rejected or expired; a rejection may be appealed.
// Commands decide (from the charter in force, the clock and the recorded
// votes) and emit events saying what they decided; appliers only record.

// Request states.
const (
	StateSubmitted    = "submitted"
	StatePreReview    = "pre-review"
	StateChecks       = "checks"
	StateConfirmation = "confirmation"
	StateReview       = "review"
	StateEvaluation   = "evaluation"
	StateRecheck      = "re-check"
	StateApproved     = "approved"
	StateImplemented  = "implemented"
	StatePublished    = "published"
	StateWithdrawn    = "withdrawn"
	StateRejected     = "rejected"
	StateExpired      = "expired"
	StateAppealed     = "appealed"
)

// RequestKinds are the kinds of change request, named as the charter's
// decision kinds.
var RequestKinds = []string{
	charter.KindTLDDelegate, charter.KindTLDUpdateNS, charter.KindTLDUpdateDS,
	charter.KindTLDUpdateContacts, charter.KindTLDTransfer, charter.KindTLDRemove,
}

// ActorRegistry is the actor of the steps the registry takes by itself:
// advancing requests on the clock, recording checks, implementing approved
// changes.
const ActorRegistry = "system:registry"

// Change is what a request proposes. Which fields count depends on the
// kind: a delegation gives NS, glue, DS, manager and contacts; an NS update
// NS and glue; a DS update DS; a contacts update contacts; a transfer a new
// manager and contacts; a removal nothing.
type Change struct {
	NS       []string `json:"ns,omitempty"`
	Glue     []Glue   `json:"glue,omitempty"`
	DS       []DS     `json:"ds,omitempty"`
	Manager  string   `json:"manager,omitempty"`
	Contacts []string `json:"contacts,omitempty"`
}

// Request is a change request with its whole history.
type Request struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	TLD       string    `json:"tld"`
	Submitter string    `json:"submitter"`
	Reason    string    `json:"reason,omitempty"`
	Change    Change    `json:"change"`
	Charter   int       `json:"charter"` // charter version in force at submission
	State     string    `json:"state"`
	Hold      string    `json:"hold,omitempty"`          // why the request waits in its state
	Deadline  time.Time `json:"deadline,omitzero"`       // when the current stage times out
	Submitted time.Time `json:"submitted,omitzero"`      // time of the submission
	Updated   time.Time `json:"updated,omitzero"`        // time of the last event
	Confirms  []Confirm `json:"confirmations,omitempty"` // contacts asked to confirm
	// ConfirmRule is the charter's confirmation rule at submission.
	ConfirmRule string       `json:"confirm_rule,omitempty"`
	Checks      []CheckRun   `json:"checks,omitempty"`
	Overrides   []Override   `json:"overrides,omitempty"`
	Reviews     []Review     `json:"reviews,omitempty"`
	Evaluation  string       `json:"evaluation,omitempty"`
	Implemented int64        `json:"implemented,omitempty"` // ledger entry of the implementation
	Serial      uint32       `json:"serial,omitempty"`      // zone serial that carries the change
	Published   int64        `json:"published,omitempty"`   // the zone.published entry
	Timeline    []Step       `json:"timeline"`
	Final       bool         `json:"final,omitempty"` // no further step is possible
	Appealable  *AppealState `json:"appeal,omitempty"`
}

// Confirm is one contact's confirmation.
type Confirm struct {
	Contact   string    `json:"contact"`
	Confirmed time.Time `json:"confirmed,omitzero"`
	Via       string    `json:"via,omitempty"` // "web" or "email"
}

// CheckRun is one run of the technical checks.
type CheckRun struct {
	Phase    string        `json:"phase"` // "submission" or "implementation"
	Entry    int64         `json:"entry"`
	Time     time.Time     `json:"time"`
	Results  []CheckResult `json:"results"`
	Blocking []string      `json:"blocking,omitempty"` // failed cases that block
	Advisory []string      `json:"advisory,omitempty"` // failed cases that do not
	Passed   bool          `json:"passed"`
}

// CheckResult is one check's outcome with its evidence.
type CheckResult struct {
	Module   string   `json:"module"`
	Case     string   `json:"case"`
	Level    string   `json:"level"` // OK, INFO, NOTICE, WARNING, ERROR
	Message  string   `json:"message"`
	Evidence []string `json:"evidence,omitempty"`
}

// Failed reports whether the result is a failure (WARNING or ERROR).
func (r CheckResult) Failed() bool { return r.Level == "ERROR" || r.Level == "WARNING" }

// Override records that an operator let a request past failed blocking
// checks, with a justification.
type Override struct {
	Cases         []string  `json:"cases"`
	Justification string    `json:"justification"`
	By            string    `json:"by"`
	Time          time.Time `json:"time"`
}

// Review is one body's part in the review: a ballot of an approving (or
// appeal) body, or the advice of an advisory body.
type Review struct {
	Body    string    `json:"body"`
	Role    string    `json:"role"` // "approval", "advice" or "appeal"
	Opens   time.Time `json:"opens"`
	Closes  time.Time `json:"closes"`
	Votes   []Vote    `json:"votes,omitempty"`
	Closed  bool      `json:"closed,omitempty"`
	Passed  bool      `json:"passed,omitempty"`
	Reasons []string  `json:"reasons,omitempty"` // how the rule was applied
	Rule    string    `json:"rule,omitempty"`
	// Advice and its answer, for an advisory body.
	Advice   string `json:"advice,omitempty"`
	AdviceBy string `json:"advice_by,omitempty"`
	Answer   string `json:"answer,omitempty"`
	AnswerBy string `json:"answer_by,omitempty"`
}

// Vote is one member's recorded vote.
type Vote struct {
	Member string       `json:"member"`
	Group  string       `json:"group"`
	Region string       `json:"region"`
	Vote   charter.Vote `json:"vote"`
	Reason string       `json:"reason,omitempty"`
	Time   time.Time    `json:"time"`
}

// AppealState says where and until when a rejection may be appealed.
type AppealState struct {
	Body  string    `json:"body"`
	Until time.Time `json:"until"`
}

// Step is one entry of a request's timeline.
type Step struct {
	Entry int64     `json:"entry"`
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"` // the event kind
	State string    `json:"state"`
	Note  string    `json:"note,omitempty"`
}

// Review returns the review of body in role, or nil.
func (r *Request) Review(body, role string) *Review {
	for i := range r.Reviews {
		if r.Reviews[i].Body == body && r.Reviews[i].Role == role {
			return &r.Reviews[i]
		}
	}
	return nil
}

// OpenBallot returns the ballot now running (approval or appeal), or nil.
func (r *Request) OpenBallot() *Review {
	for i := range r.Reviews {
		if rv := &r.Reviews[i]; rv.Role != "advice" && !rv.Closed {
			return rv
		}
	}
	return nil
}

func requestKey(id int64) string     { return fmt.Sprintf("req/r/%012d", id) }
func requestOpenKey(id int64) string { return fmt.Sprintf("req/open/%012d", id) }
func requestTLDKey(tld string, id int64) string {
	return fmt.Sprintf("req/tld/%s/%012d", tld, id)
}

const keyRequestNext = "req/next"

// contactKey indexes the resource contacts of a resource by scope.
func contactKey(scope, handle string) string { return "contact/" + scope + "/" + handle }

// TLDScope is the scope of a TLD's resource contacts.
func TLDScope(name string) string { return "tld:" + name }

// Contacts lists the handles of a resource's contacts, sorted.
func Contacts(ctx context.Context, r StateReader, scope string) ([]string, error) {
	kvs, err := ScanAll(ctx, r, "contact/"+scope+"/")
	if err != nil {
		return nil, err
	}
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = strings.TrimPrefix(kv.Key, "contact/"+scope+"/")
	}
	return out, nil
}

// LoadRequest reads a request, or ENOTFOUND.
func LoadRequest(ctx context.Context, r StateReader, id int64) (*Request, error) {
	return loadJSON[Request](ctx, r, requestKey(id), func() error { return Errorf(ENOTFOUND, "no change request %d", id) })
}

// ListRequests lists requests newest first: every request, or those of one
// TLD. before is an id to page from (0 for the newest).
func ListRequests(ctx context.Context, r StateReader, tld string, before int64, limit int) ([]Request, error) {
	var ids []int64
	if tld != "" {
		kvs, err := ScanAll(ctx, r, "req/tld/"+tld+"/")
		if err != nil {
			return nil, err
		}
		for i := len(kvs) - 1; i >= 0 && len(ids) < limit; i-- {
			var id int64
			fmt.Sscanf(strings.TrimPrefix(kvs[i].Key, "req/tld/"+tld+"/"), "%d", &id)
			if before == 0 || id < before {
				ids = append(ids, id)
			}
		}
	} else {
		var next struct {
			Next int64 `json:"next"`
		}
		if err := GetJSON(ctx, r, keyRequestNext, &next); err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		id := next.Next - 1
		if before > 0 && before-1 < id {
			id = before - 1
		}
		for ; id >= 1 && len(ids) < limit; id-- {
			ids = append(ids, id)
		}
	}
	out := make([]Request, 0, len(ids))
	for _, id := range ids {
		req, err := LoadRequest(ctx, r, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *req)
	}
	return out, nil
}

// OpenRequests lists the ids of requests that are not final, oldest first.
func OpenRequests(ctx context.Context, r StateReader, limit int) ([]int64, error) {
	kvs, err := r.Scan(ctx, "req/open/", "", limit)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(kvs))
	for i, kv := range kvs {
		fmt.Sscanf(strings.TrimPrefix(kv.Key, "req/open/"), "%d", &ids[i])
	}
	return ids, nil
}
