package charter

import "math"

// Version is the only charter format version this package reads (the
// top-level "charter" field).
const Version = 1

// Special values that may stand where a region or body id is expected.
const (
	// AnyRegion in a seat means the seat may be held by a participant
	// from any region.
	AnyRegion = "any"
	// AnyBody as an appeal's "from" means decisions of every body.
	AnyBody = "*"
	// AnyParticipant as an amendment proposer means every participant
	// may propose an amendment.
	AnyParticipant = "any-participant"
	// OperatorRole as roles.moderators means the members of the operator
	// body moderate the forum.
	OperatorRole = "operator"
)

// Unlimited is the seat limit of an open body: any number of participants
// may sit in it. It is large enough that "members < limit" is always true.
const Unlimited = math.MaxInt32

// Charter is a parsed and validated charter. Every reference in it (a seat's
// group and region, a decision's bodies, an appeal's bodies, …) resolves.
// Slices keep the order of the file.
type Charter struct {
	Version   int      // format version; always 1
	Name      string   // title of the charter
	Summary   string   // one paragraph; may be empty
	Regions   []string // region ids
	Groups    []Group  // stakeholder groups
	Bodies    []Body
	Windows   Windows // default time windows of every decision
	Decisions []Decision
	Appeals   []Appeal
	Amendment Amendment
	Roles     Roles
	Petitions []Petition
	Forum     ForumConfig
	RDAP      RDAP     // what RDAP publishes of people (rdap.go)
	Requests  Requests // change request rules; DefaultRequests if the file has none
	PDP       PDP      // the policy development process as written; see PDPFor
	Hash      string   // lowercase hex SHA-256 of the file's bytes
}

// Group is a stakeholder group, such as the WGIG's governments, private
// sector, civil society, technical and academic community, and
// intergovernmental organisations.
type Group struct {
	ID   string
	Name string
	Role string // what the group does, e.g. the WGIG para 30–34 text; may be empty
}

// Body is a council, board, committee or other group of seated participants
// that decides, advises, operates or debates.
type Body struct {
	ID          string
	Name        string
	Kind        BodyKind
	Purpose     string // may be empty
	AppointedBy string // id of the body that appoints the members; "" if none
	ReportsTo   string // id of the body this one is accountable to; "" if none
	// Open bodies admit any number of participants of the groups and
	// regions their seats name; their seats have no count.
	Open  bool
	Seats []Seat
	// Rule is the body's decision rule, or nil for a body that takes no
	// decisions of its own (a forum, an operator).
	Rule *Rule
}

// Seat is a number of seats in a body for one stakeholder group and one
// region (or AnyRegion), held in one capacity.
type Seat struct {
	Group    string
	Region   string // a region id or AnyRegion
	Count    int    // number of seats; 0 in an open body
	Capacity Capacity
}

// Windows are the time windows of a decision. A zero window means the stage
// is skipped.
type Windows struct {
	Comment      Duration // open review and comment before the vote
	Objection    Duration // time to lodge formal objections
	Vote         Duration // time each approving body has to vote
	AdviceAnswer Duration // time to give advice, which the deciders answer with reasons
}

// Decision says which bodies take part in decisions of one kind.
type Decision struct {
	Kind        string   // one of DecisionKinds
	Approval    []string // bodies whose ballots must pass, in order
	Advice      []string // bodies whose advice must be answered with reasons
	Observation []string // bodies informed, without a vote
	// Windows are the effective windows: the charter's defaults with this
	// decision's overrides applied.
	Windows Windows
	// Rule, if not nil, replaces the approving bodies' own rules for
	// decisions of this kind.
	Rule   *Rule
	Checks Checks
}

// Checks names the technical check groups (such as BASIC, DELEGATION or
// DNSSEC) a decision runs. Blocking checks must pass; advisory checks are
// recorded only.
type Checks struct {
	Blocking []string
	Advisory []string
}

// Appeal says that decisions of one body (or of AnyBody) may be appealed to
// another body within a time window. An appeal to the deciding body itself
// is a request for reconsideration.
type Appeal struct {
	From   string // body id or AnyBody
	To     string // body id
	Window Duration
}

// Amendment is how the charter itself is amended.
type Amendment struct {
	Proposers []string // body ids, or AnyParticipant
	Approval  []string // bodies whose ballots must pass, in order
	Rule      *Rule    // if not nil, replaces the approving bodies' rules
	Windows   Windows  // effective windows (defaults with overrides)
}

// Roles names who holds the roles the software enforces.
type Roles struct {
	Moderators string // body id whose members moderate the forum, or OperatorRole
	Operator   string // id of the body (of kind operator) that runs the registries
	// SeparationOfDuties forbids operators to approve their own requests.
	SeparationOfDuties bool
}

// Petition is a community power exercised by petition, after the ICANN
// Empowered Community (Bylaws Art. 6, Annex D): a petition, a support
// period, a community forum and a decision. The power is exercised if at
// least SupportMin members support it and at most ObjectionMax object.
type Petition struct {
	Power        string // id of the power, e.g. "reject-budget"
	Description  string
	Petitioners  []string // bodies whose members may petition and decide
	SupportMin   int
	ObjectionMax int
	Windows      PetitionWindows
}

// PetitionWindows are the stages of a petition.
type PetitionWindows struct {
	Petition Duration // to file and gather the petition
	Support  Duration // for another petitioner to support it
	Forum    Duration // for the community forum
	Decision Duration // for the final decision
}

// ForumConfig names the forum body: the open, non-binding space for dialogue
// that every charter has.
type ForumConfig struct {
	Body string
}

// Body returns the body with the given id.
func (c *Charter) Body(id string) (*Body, bool) {
	for i := range c.Bodies {
		if c.Bodies[i].ID == id {
			return &c.Bodies[i], true
		}
	}
	return nil, false
}

// Group returns the stakeholder group with the given id.
func (c *Charter) Group(id string) (*Group, bool) {
	for i := range c.Groups {
		if c.Groups[i].ID == id {
			return &c.Groups[i], true
		}
	}
	return nil, false
}

// HasRegion reports whether id is one of the charter's regions. AnyRegion is
// not a region.
func (c *Charter) HasRegion(id string) bool {
	for _, r := range c.Regions {
		if r == id {
			return true
		}
	}
	return false
}

// Decision returns the bodies involved in decisions of the given kind. If
// the charter does not list the kind, Decision returns false: no body needs
// to approve such decisions, and the default Windows apply.
//
// For KindCharterAmend, Decision returns a Decision built from the
// charter's Amendment section (a new value on each call).
func (c *Charter) Decision(kind string) (*Decision, bool) {
	if kind == KindCharterAmend {
		a := c.Amendment
		return &Decision{
			Kind:     KindCharterAmend,
			Approval: a.Approval,
			Windows:  a.Windows,
			Rule:     a.Rule,
		}, true
	}
	for i := range c.Decisions {
		if c.Decisions[i].Kind == kind {
			return &c.Decisions[i], true
		}
	}
	return nil, false
}

// WindowsFor returns the effective windows for decisions of the given kind.
func (c *Charter) WindowsFor(kind string) Windows {
	if d, ok := c.Decision(kind); ok {
		return d.Windows
	}
	return c.Windows
}

// AppealFor returns where decisions of the given body are appealed: the
// appeal whose From is the body if there is one, else the AnyBody appeal.
func (c *Charter) AppealFor(body string) (*Appeal, bool) {
	var wild *Appeal
	for i := range c.Appeals {
		switch c.Appeals[i].From {
		case body:
			return &c.Appeals[i], true
		case AnyBody:
			wild = &c.Appeals[i]
		}
	}
	return wild, wild != nil
}

// Petition returns the petition for the given power.
func (c *Charter) Petition(power string) (*Petition, bool) {
	for i := range c.Petitions {
		if c.Petitions[i].Power == power {
			return &c.Petitions[i], true
		}
	}
	return nil, false
}

// RuleFor returns the rule a body applies to decisions of the given kind:
// the decision's own rule if it has one, else the body's. It returns nil if
// neither exists.
func (c *Charter) RuleFor(kind, body string) *Rule {
	if d, ok := c.Decision(kind); ok && d.Rule != nil {
		return d.Rule
	}
	if b, ok := c.Body(body); ok {
		return b.Rule
	}
	return nil
}

// SeatLimit returns how many seats, in any capacity, the body has for a
// participant of the given group and region: the seats for that region plus
// the seats for AnyRegion. It returns 0 if such a participant may not sit in
// the body, and Unlimited if the body is open to them.
func (b *Body) SeatLimit(group, region string) int {
	n := 0
	for _, s := range b.SeatsFor(group, region) {
		if b.Open {
			return Unlimited
		}
		n += s.Count
	}
	return n
}

// SeatsFor returns the body's seats a participant of the given group and
// region may hold: first those for the region, then those for AnyRegion.
func (b *Body) SeatsFor(group, region string) []Seat {
	var exact, wild []Seat
	for _, s := range b.Seats {
		if s.Group != group {
			continue
		}
		switch s.Region {
		case region:
			exact = append(exact, s)
		case AnyRegion:
			wild = append(wild, s)
		}
	}
	return append(exact, wild...)
}

// VotingSeats returns the number of voting seats in the body, or Unlimited
// if the body is open and has voting seats. Quorum is computed from the
// number of voting seats actually filled, which the caller passes to
// [Rule.Evaluate].
func (b *Body) VotingSeats() int {
	n := 0
	for _, s := range b.Seats {
		if s.Capacity != CapacityVoting {
			continue
		}
		if b.Open {
			return Unlimited
		}
		n += s.Count
	}
	return n
}
