package charter

import "slices"

// Decision kinds: the things a charter can require bodies to decide. A
// charter's decisions section may only name these.
const (
	KindTLDDelegate       = "tld.delegate"        // add a TLD to the root zone
	KindTLDTransfer       = "tld.transfer"        // change a TLD's manager (redelegation)
	KindTLDRemove         = "tld.remove"          // remove a TLD from the root zone
	KindTLDUpdateNS       = "tld.update-ns"       // change a TLD's name servers and glue
	KindTLDUpdateDS       = "tld.update-ds"       // change a TLD's DS records
	KindTLDUpdateContacts = "tld.update-contacts" // change a TLD's contacts
	KindGTLDIntroduce     = "gtld.introduce"      // open a round of new generic TLDs
	KindRootArchitecture  = "root.architecture"   // architectural change to the root zone or its systems
	KindNumberAllocate    = "number.allocate"     // allocate IP addresses or AS numbers
	KindNumberPolicy      = "number.policy"       // adopt a number resource policy
	KindParameterRegister = "parameter.register"  // register a protocol parameter
	KindPolicyRatify      = "policy.ratify"       // ratify a policy made by the policy process
	KindBodyAppoint       = "body.appoint"        // appoint or remove members of a body
	KindCharterAmend      = "charter.amend"       // amend the charter (see Amendment)
	KindPetition          = "petition"            // exercise a community power (see Petition)
)

var decisionKinds = []string{
	KindTLDDelegate, KindTLDTransfer, KindTLDRemove,
	KindTLDUpdateNS, KindTLDUpdateDS, KindTLDUpdateContacts,
	KindGTLDIntroduce, KindRootArchitecture,
	KindNumberAllocate, KindNumberPolicy,
	KindParameterRegister, KindPolicyRatify,
	KindBodyAppoint, KindCharterAmend, KindPetition,
}

// DecisionKinds returns every decision kind, in the order of the manual.
// The caller may modify the returned slice.
func DecisionKinds() []string {
	return append([]string(nil), decisionKinds...)
}

// IsDecisionKind reports whether kind is one of DecisionKinds.
func IsDecisionKind(kind string) bool {
	return slices.Contains(decisionKinds, kind)
}

// BodyKind says what sort of body a body is.
type BodyKind string

// Body kinds.
const (
	BodyOversight BodyKind = "oversight" // oversees the operator, approves its decisions
	BodyBoard     BodyKind = "board"     // governs an organisation, such as the operator
	BodyCommittee BodyKind = "committee" // a standing or review committee
	BodyAdvisory  BodyKind = "advisory"  // gives advice; may not approve
	BodyCouncil   BodyKind = "council"   // a policy council
	BodyPlenary   BodyKind = "plenary"   // all members of a community
	BodyForum     BodyKind = "forum"     // open, non-binding dialogue; may not decide
	BodyOperator  BodyKind = "operator"  // runs the registries
)

var bodyKinds = []string{
	string(BodyOversight), string(BodyBoard), string(BodyCommittee), string(BodyAdvisory),
	string(BodyCouncil), string(BodyPlenary), string(BodyForum), string(BodyOperator),
}

// CanApprove reports whether bodies of this kind may be named to approve a
// decision or hear an appeal. Advisory bodies and forums may not.
func (k BodyKind) CanApprove() bool {
	return k != BodyAdvisory && k != BodyForum
}

// Capacity is the capacity in which a seat is held.
type Capacity string

// Seat capacities.
const (
	CapacityVoting   Capacity = "voting"   // votes in the body's decisions
	CapacityAdvisory Capacity = "advisory" // speaks and advises, does not vote
	CapacityObserver Capacity = "observer" // attends and is informed
)

var capacities = []string{string(CapacityVoting), string(CapacityAdvisory), string(CapacityObserver)}

// RuleKind is the kind of a decision rule.
type RuleKind string

// Decision rule kinds. Rule.Evaluate documents their exact semantics.
const (
	RuleMajority             RuleKind = "majority"
	RuleSupermajority        RuleKind = "supermajority"
	RuleConsensus            RuleKind = "consensus"
	RuleMajorityInEveryGroup RuleKind = "majority-in-every-group"
	RuleUnanimity            RuleKind = "unanimity"
)

var ruleKinds = []string{
	string(RuleMajority), string(RuleSupermajority), string(RuleConsensus),
	string(RuleMajorityInEveryGroup), string(RuleUnanimity),
}
