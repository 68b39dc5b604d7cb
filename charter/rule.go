package charter

import (
	"fmt"
	"sort"
	"strings"
)

// Rule is a body's decision rule.
type Rule struct {
	Kind RuleKind
	// Threshold is the share of yes votes a supermajority needs; set only
	// for RuleSupermajority, always more than 1/2.
	Threshold Fraction
	// MaxObjections is how many objections a consensus tolerates; used
	// only by RuleConsensus.
	MaxObjections int
	// Quorum is the share of the seated voting members who must cast a
	// ballot (yes, no, abstain or object). The zero Fraction, like "0/1",
	// means no quorum.
	Quorum Fraction
	// RegionalBalance additionally requires a majority of yes in every
	// region represented among the votes.
	RegionalBalance bool
}

// String describes the rule in words, e.g. "supermajority of 2/3, quorum
// 1/2, with regional balance".
func (r Rule) String() string {
	var b strings.Builder
	switch r.Kind {
	case RuleSupermajority:
		fmt.Fprintf(&b, "supermajority of %s", r.Threshold)
	case RuleConsensus:
		fmt.Fprintf(&b, "consensus with at most %d %s", r.MaxObjections, plural(r.MaxObjections, "objection", "objections"))
	default:
		b.WriteString(string(r.Kind))
	}
	if r.Quorum.Num > 0 {
		fmt.Fprintf(&b, ", quorum %s", r.Quorum)
	}
	if r.RegionalBalance {
		b.WriteString(", with regional balance")
	}
	return b.String()
}

// Vote is a member's vote in a ballot.
type Vote string

// Votes.
const (
	VoteYes     Vote = "yes"
	VoteNo      Vote = "no"
	VoteAbstain Vote = "abstain" // counts towards the quorum only
	VoteObject  Vote = "object"  // a formal objection; counts as no, and blocks consensus
)

// Valid reports whether v is one of the four votes.
func (v Vote) Valid() bool {
	return v == VoteYes || v == VoteNo || v == VoteAbstain || v == VoteObject
}

// Ballot is one member's vote, with the member's stakeholder group and
// region (used by majority-in-every-group and regional balance).
type Ballot struct {
	Member        string
	Group, Region string
	Vote          Vote
}

// Tally counts the ballots of one decision.
type Tally struct {
	Yes, No, Abstain, Object int
	Cast                     int // Yes + No + Abstain + Object
	Seated                   int // seated voting members, as passed to Evaluate
	// ByGroup and ByRegion hold [yes, no, object] for every group and region
	// that cast at least one yes, no or object vote.
	ByGroup, ByRegion map[string][3]int
}

// Outcome is the result of applying a rule to a set of ballots.
type Outcome struct {
	Passed    bool
	QuorumMet bool
	// Reasons explains each test in a sentence: the quorum, the rule, the
	// regional balance if required, and the result.
	Reasons []string
	Tally   Tally
}

// Evaluate applies the rule to the ballots of a body with seatedVoting
// voting members seated. It is a pure function.
//
// Ballots are counted as follows. If a member has several ballots, only the
// last counts; ballots with an empty Member are all counted. A ballot whose
// Vote is not valid is not counted, and a reason says so. Cast is the number
// of counted ballots.
//
// The tests, with the fraction n/d:
//
//   - quorum: Cast×d ≥ n×seatedVoting (always met if the rule has no quorum);
//   - majority: yes > no + object (abstentions do not count; objections
//     count as no);
//   - supermajority: yes×d ≥ n×(yes+no+object), and yes ≥ 1;
//   - consensus: object ≤ MaxObjections, and yes ≥ 1 (no votes do not block);
//   - unanimity: no = 0, object = 0, and yes ≥ 1;
//   - majority-in-every-group: at least one group cast a yes, no or object
//     vote, and in every such group yes > no + object;
//   - regional balance (if set, in addition): in every region whose members
//     cast a yes, no or object vote, yes > no + object.
//
// The decision passes if the quorum is met and every test passes. Ballots
// with an empty Group (or Region) form a group (or region) of their own.
func (r Rule) Evaluate(seatedVoting int, ballots []Ballot) Outcome {
	t, ignored := tally(seatedVoting, ballots)
	out := Outcome{Tally: t}
	for _, b := range ignored {
		who := b.Member
		if who == "" {
			who = "an unnamed member"
		}
		out.Reasons = append(out.Reasons, fmt.Sprintf("The ballot of %s was not counted: %q is not a vote (yes, no, abstain or object).", who, b.Vote))
	}
	var failed []string

	out.QuorumMet = r.quorum(t, &out.Reasons)
	if !out.QuorumMet {
		failed = append(failed, "the quorum was not met")
	}
	if !r.test(t, &out.Reasons) {
		failed = append(failed, "the "+r.kindName()+" test failed")
	}
	if r.RegionalBalance && !everyMajority("Regional balance", "region", t.ByRegion, &out.Reasons) {
		failed = append(failed, "the regional balance test failed")
	}
	out.Passed = len(failed) == 0
	if out.Passed {
		out.Reasons = append(out.Reasons, "Result: passed.")
	} else {
		out.Reasons = append(out.Reasons, "Result: not passed, because "+strings.Join(failed, " and ")+".")
	}
	return out
}

// tally counts the ballots; it returns the ballots it did not count.
func tally(seated int, ballots []Ballot) (Tally, []Ballot) {
	t := Tally{Seated: seated, ByGroup: map[string][3]int{}, ByRegion: map[string][3]int{}}
	last := map[string]int{} // member -> index of their last ballot
	for i, b := range ballots {
		if b.Member != "" {
			last[b.Member] = i
		}
	}
	var ignored []Ballot
	for i, b := range ballots {
		if b.Member != "" && last[b.Member] != i {
			continue
		}
		slot := -1
		switch b.Vote {
		case VoteYes:
			t.Yes++
			slot = 0
		case VoteNo:
			t.No++
			slot = 1
		case VoteObject:
			t.Object++
			slot = 2
		case VoteAbstain:
			t.Abstain++
		default:
			ignored = append(ignored, b)
			continue
		}
		t.Cast++
		if slot >= 0 {
			g := t.ByGroup[b.Group]
			g[slot]++
			t.ByGroup[b.Group] = g
			r := t.ByRegion[b.Region]
			r[slot]++
			t.ByRegion[b.Region] = r
		}
	}
	return t, ignored
}

func (r Rule) quorum(t Tally, reasons *[]string) bool {
	if r.Quorum.Num == 0 {
		*reasons = append(*reasons, fmt.Sprintf("No quorum is required; %d %s cast.", t.Cast, plural(t.Cast, "ballot was", "ballots were")))
		return true
	}
	met := int64(t.Cast)*int64(r.Quorum.Den) >= int64(r.Quorum.Num)*int64(t.Seated)
	verdict := "Quorum met"
	if !met {
		verdict = "Quorum not met"
	}
	*reasons = append(*reasons, fmt.Sprintf("%s: %d of %d seated voting members cast a ballot (yes, no, abstain or object); a quorum of %s needs at least %d.",
		verdict, t.Cast, t.Seated, r.Quorum, r.Quorum.atLeast(t.Seated)))
	return met
}

func (r Rule) kindName() string {
	if r.Kind == "" {
		return "(missing) rule"
	}
	return string(r.Kind)
}

// test applies the rule's own test and explains it.
func (r Rule) test(t Tally, reasons *[]string) bool {
	add := func(format string, args ...any) { *reasons = append(*reasons, fmt.Sprintf(format, args...)) }
	against := t.No + t.Object
	switch r.Kind {
	case RuleMajority:
		pass := t.Yes > against
		verdict := "passed"
		if !pass {
			verdict = "failed"
		}
		add("Majority %s: %d yes against %d no or objecting (%d no, %d object); %s.",
			verdict, t.Yes, against, t.No, t.Object, abstentions(t.Abstain))
		return pass
	case RuleSupermajority:
		counted := t.Yes + against
		if counted == 0 {
			add("Supermajority of %s failed: nobody voted yes, no or object.", r.Threshold)
			return false
		}
		need := max(r.Threshold.atLeast(counted), 1)
		pass := int64(t.Yes)*int64(r.Threshold.Den) >= int64(r.Threshold.Num)*int64(counted) && t.Yes >= 1
		verdict := "passed"
		if !pass {
			verdict = "failed"
		}
		add("Supermajority of %s %s: %d of the %d yes, no and objecting votes are yes, and at least %d were needed; %s.",
			r.Threshold, verdict, t.Yes, counted, need, abstentions(t.Abstain))
		return pass
	case RuleConsensus:
		switch {
		case t.Object > r.MaxObjections:
			add("Consensus not reached: %d %s, and at most %d %s allowed.", t.Object, plural(t.Object, "objection", "objections"),
				r.MaxObjections, plural(r.MaxObjections, "is", "are"))
			return false
		case t.Yes < 1:
			add("Consensus not reached: nobody voted yes.")
			return false
		}
		note := ""
		if t.No > 0 {
			note = fmt.Sprintf(" (%d no %s recorded but, not being objections, do not block)", t.No, plural(t.No, "vote is", "votes are"))
		}
		add("Consensus reached: %d yes and %d %s, at most %d allowed%s.", t.Yes, t.Object, plural(t.Object, "objection", "objections"), r.MaxObjections, note)
		return true
	case RuleUnanimity:
		switch {
		case against > 0:
			add("Unanimity failed: %d no and %d objecting %s.", t.No, t.Object, plural(t.Object, "vote", "votes"))
			return false
		case t.Yes < 1:
			add("Unanimity failed: nobody voted yes.")
			return false
		}
		add("Unanimity reached: all %d counted votes are yes; %s.", t.Yes, abstentions(t.Abstain))
		return true
	case RuleMajorityInEveryGroup:
		return everyMajority("Majority in every group", "group", t.ByGroup, reasons)
	}
	add("Unknown rule kind %q: nothing can pass.", r.Kind)
	return false
}

// everyMajority checks yes > no + object in every group (or region) that
// cast a yes, no or object vote, with one sentence per group and a summary.
func everyMajority(test, unit string, counts map[string][3]int, reasons *[]string) bool {
	names := make([]string, 0, len(counts))
	for k, c := range counts {
		if c[0]+c[1]+c[2] > 0 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		*reasons = append(*reasons, fmt.Sprintf("%s failed: no %s voted yes, no or object.", test, unit))
		return false
	}
	var without []string
	for _, k := range names {
		c := counts[k]
		label := k
		if label == "" {
			label = "(none)"
		}
		verdict := "a majority"
		if c[0] <= c[1]+c[2] {
			verdict = "no majority"
			without = append(without, label)
		}
		*reasons = append(*reasons, fmt.Sprintf("%s %s: %d yes against %d no or objecting, %s.", capitalize(unit), label, c[0], c[1]+c[2], verdict))
	}
	if len(without) > 0 {
		*reasons = append(*reasons, fmt.Sprintf("%s failed: no majority of yes in %s %s.", test, plural(len(without), unit, unit+"s"), strings.Join(without, ", ")))
		return false
	}
	*reasons = append(*reasons, fmt.Sprintf("%s passed: a majority of yes in all %d %s that voted.", test, len(names), plural(len(names), unit, unit+"s")))
	return true
}

func abstentions(n int) string {
	switch n {
	case 0:
		return "no abstentions"
	case 1:
		return "1 abstention does not count"
	}
	return fmt.Sprintf("%d abstentions do not count", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
