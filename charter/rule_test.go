package charter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ballots builds ballots from a compact spec: space-separated tokens
// "VOTE" or "VOTE:GROUP:REGION", where VOTE is y, n, a or o (or anything
// else, for an invalid vote). Members are named m1, m2, … in order; the
// default group and region are "g" and "r".
func ballots(spec string) []Ballot {
	var bs []Ballot
	for i, tok := range strings.Fields(spec) {
		parts := strings.Split(tok, ":")
		b := Ballot{Member: fmt.Sprintf("m%d", i+1), Group: "g", Region: "r"}
		switch parts[0] {
		case "y":
			b.Vote = VoteYes
		case "n":
			b.Vote = VoteNo
		case "a":
			b.Vote = VoteAbstain
		case "o":
			b.Vote = VoteObject
		default:
			b.Vote = Vote(parts[0])
		}
		if len(parts) == 3 {
			b.Group, b.Region = parts[1], parts[2]
		}
		bs = append(bs, b)
	}
	return bs
}

func TestEvaluate(t *testing.T) {
	majority := Rule{Kind: RuleMajority}
	majorityQ := Rule{Kind: RuleMajority, Quorum: Fraction{1, 2}}
	twoThirds := Rule{Kind: RuleSupermajority, Threshold: Fraction{2, 3}}
	consensus1 := Rule{Kind: RuleConsensus, MaxObjections: 1}
	consensus0 := Rule{Kind: RuleConsensus}
	unanimity := Rule{Kind: RuleUnanimity}
	everyGroup := Rule{Kind: RuleMajorityInEveryGroup}
	balanced := Rule{Kind: RuleMajority, RegionalBalance: true}

	for _, tc := range []struct {
		name        string
		rule        Rule
		seated      int
		ballots     string
		passed      bool
		quorum      bool
		reasonsHave string // a sentence part some reason must contain
	}{
		// majority: yes > no + object
		{"majority passes", majority, 5, "y y y n n", true, true, "Majority passed: 3 yes against 2"},
		{"majority tie fails", majority, 4, "y y n n", false, true, "Majority failed: 2 yes against 2"},
		{"objections count as no", majority, 4, "y y n o", false, true, "(1 no, 1 object)"},
		{"abstentions do not count", majority, 6, "y a a a a a", true, true, "5 abstentions do not count"},
		{"majority with no ballots", majority, 3, "", false, true, "Majority failed: 0 yes"},

		// quorum: Cast×d ≥ n×seated
		{"quorum met exactly", majorityQ, 10, "y y y n a", true, true, "Quorum met: 5 of 10"},
		{"quorum missed by one", majorityQ, 10, "y y y a", false, false, "Quorum not met: 4 of 10 seated voting members cast a ballot (yes, no, abstain or object); a quorum of 1/2 needs at least 5."},
		{"quorum two thirds met", Rule{Kind: RuleMajority, Quorum: Fraction{2, 3}}, 10, "y y y y n n a", true, true, "needs at least 7"},
		{"quorum two thirds missed", Rule{Kind: RuleMajority, Quorum: Fraction{2, 3}}, 10, "y y y y n a", false, false, "Quorum not met: 6 of 10"},
		{"quorum rounds up", Rule{Kind: RuleMajority, Quorum: Fraction{1, 3}}, 10, "y y y", false, false, "needs at least 4"},
		{"abstentions count towards quorum", majorityQ, 4, "y a", true, true, "Quorum met: 2 of 4"},
		{"zero quorum", Rule{Kind: RuleMajority, Quorum: Fraction{0, 1}}, 10, "y", true, true, "No quorum is required; 1 ballot was cast."},
		{"nobody seated", majorityQ, 0, "", false, true, "Quorum met: 0 of 0"},
		{"quorum failure alone blocks", majorityQ, 9, "y y y y", false, false, "Result: not passed, because the quorum was not met."},

		// supermajority: yes×d ≥ n×(yes+no+object), yes ≥ 1
		{"two thirds exactly", twoThirds, 3, "y y n", true, true, "Supermajority of 2/3 passed: 2 of the 3"},
		{"just short of two thirds", twoThirds, 5, "y y y n n", false, true, "at least 4 were needed"},
		{"objection counts against", twoThirds, 6, "y y y y n o", true, true, "4 of the 6"},
		{"objections defeat", twoThirds, 6, "y y y n o o", false, true, "Supermajority of 2/3 failed"},
		{"abstentions only", twoThirds, 3, "a a a", false, true, "nobody voted yes, no or object"},
		{"unanimous supermajority", Rule{Kind: RuleSupermajority, Threshold: Fraction{1, 1}}, 3, "y y a", true, true, "2 of the 2"},

		// consensus: object ≤ max, yes ≥ 1
		{"consensus with one objection", consensus1, 4, "y y y o", true, true, "Consensus reached: 3 yes and 1 objection, at most 1 allowed."},
		{"consensus with two objections", consensus1, 5, "y y y o o", false, true, "Consensus not reached: 2 objections, and at most 1 is allowed."},
		{"no votes do not block consensus", consensus1, 4, "y n n n", true, true, "3 no votes are recorded but, not being objections, do not block"},
		{"consensus needs a yes", consensus1, 2, "n a", false, true, "Consensus not reached: nobody voted yes."},
		{"full consensus blocked", consensus0, 6, "y y y y y o", false, true, "at most 0 are allowed"},

		// unanimity: no = 0, object = 0, yes ≥ 1
		{"unanimity", unanimity, 5, "y y y y y", true, true, "Unanimity reached: all 5 counted votes are yes"},
		{"unanimity with an abstention", unanimity, 5, "y y y y a", true, true, "1 abstention does not count"},
		{"one no breaks unanimity", unanimity, 5, "y y y y n", false, true, "Unanimity failed: 1 no and 0 objecting votes."},
		{"one objection breaks unanimity", unanimity, 5, "y y y y o", false, true, "Unanimity failed: 0 no and 1 objecting vote."},
		{"unanimity needs a yes", unanimity, 2, "a a", false, true, "Unanimity failed: nobody voted yes."},

		// majority in every group
		{"every group agrees", everyGroup, 5, "y:gov:r y:gov:r n:gov:r y:cs:r", true, true, "Majority in every group passed: a majority of yes in all 2 groups that voted."},
		{"one group objects", everyGroup, 5, "y:gov:r y:gov:r n:gov:r y:cs:r o:cs:r", false, true, "Majority in every group failed: no majority of yes in group cs."},
		{"a group that only abstains is left out", everyGroup, 3, "y:gov:r y:gov:r a:cs:r", true, true, "all 1 group that voted"},
		{"no group voted", everyGroup, 3, "a:gov:r", false, true, "no group voted yes, no or object"},
		{"per-group sentences", everyGroup, 4, "y:gov:r n:ps:r", false, true, "Group ps: 0 yes against 1 no or objecting, no majority."},

		// regional balance: the same test per region, in addition
		{"balanced", balanced, 6, "y:g:af y:g:af n:g:af y:g:eu", true, true, "Regional balance passed: a majority of yes in all 2 regions that voted."},
		{"overall majority, one region against", balanced, 6, "y:g:af y:g:af y:g:af y:g:eu n:g:eu n:g:eu", false, true, "Regional balance failed: no majority of yes in region eu."},
		{"a tie in a region", balanced, 6, "y:g:af y:g:af y:g:eu n:g:eu", false, true, "Region eu: 1 yes against 1 no or objecting, no majority."},
		{"balance with supermajority", Rule{Kind: RuleSupermajority, Threshold: Fraction{2, 3}, RegionalBalance: true}, 6,
			"y:g:af y:g:af n:g:af y:g:eu y:g:eu", true, true, "Regional balance passed"},

		// counting
		{"invalid vote not counted", majority, 3, "y maybe n", false, true, `The ballot of m2 was not counted: "maybe" is not a vote`},
		{"unknown rule kind", Rule{}, 3, "y y y", false, true, "Unknown rule kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.rule.Evaluate(tc.seated, ballots(tc.ballots))
			if out.Passed != tc.passed || out.QuorumMet != tc.quorum {
				t.Errorf("Passed = %v, QuorumMet = %v; want %v, %v\nreasons:\n  %s",
					out.Passed, out.QuorumMet, tc.passed, tc.quorum, strings.Join(out.Reasons, "\n  "))
			}
			found := false
			for _, r := range out.Reasons {
				found = found || strings.Contains(r, tc.reasonsHave)
			}
			if !found {
				t.Errorf("no reason contains %q; reasons:\n  %s", tc.reasonsHave, strings.Join(out.Reasons, "\n  "))
			}
			last := out.Reasons[len(out.Reasons)-1]
			if wantPrefix := map[bool]string{true: "Result: passed.", false: "Result: not passed"}[tc.passed]; !strings.HasPrefix(last, wantPrefix) {
				t.Errorf("last reason = %q, want it to start with %q", last, wantPrefix)
			}
		})
	}
}

// workedExample is the worked example of the manual (docs/charter.md),
// which TestManual checks quotes these reasons.
func workedExample() Outcome {
	r := Rule{Kind: RuleMajority, Quorum: Fraction{1, 2}, RegionalBalance: true}
	return r.Evaluate(9, ballots("y:government:africa y:government:africa y:government:europe "+
		"n:government:europe o:government:europe a:government:asia-pacific"))
}

// TestEvaluateReasons pins the full wording of one outcome.
func TestEvaluateReasons(t *testing.T) {
	out := workedExample()
	want := []string{
		"Quorum met: 6 of 9 seated voting members cast a ballot (yes, no, abstain or object); a quorum of 1/2 needs at least 5.",
		"Majority passed: 3 yes against 2 no or objecting (1 no, 1 object); 1 abstention does not count.",
		"Region africa: 2 yes against 0 no or objecting, a majority.",
		"Region europe: 1 yes against 2 no or objecting, no majority.",
		"Regional balance failed: no majority of yes in region europe.",
		"Result: not passed, because the regional balance test failed.",
	}
	if diff := cmp.Diff(want, out.Reasons); diff != "" {
		t.Errorf("Reasons mismatch (-want +got):\n%s", diff)
	}
	if out.Passed || !out.QuorumMet {
		t.Errorf("Passed = %v, QuorumMet = %v; want false, true", out.Passed, out.QuorumMet)
	}
}

func TestEvaluateTally(t *testing.T) {
	bs := ballots("y:gov:af n:gov:eu o:cs:eu a:cs:af y:cs:af")
	bs = append(bs, Ballot{Member: "m1", Group: "gov", Region: "af", Vote: VoteNo}) // m1 changes their vote
	out := Rule{Kind: RuleMajority}.Evaluate(7, bs)
	want := Tally{
		Yes: 1, No: 2, Abstain: 1, Object: 1, Cast: 5, Seated: 7,
		ByGroup:  map[string][3]int{"gov": {0, 2, 0}, "cs": {1, 0, 1}},
		ByRegion: map[string][3]int{"af": {1, 1, 0}, "eu": {0, 1, 1}},
	}
	if diff := cmp.Diff(want, out.Tally); diff != "" {
		t.Errorf("Tally mismatch (-want +got):\n%s", diff)
	}
}

func TestEvaluateIsDeterministic(t *testing.T) {
	r := Rule{Kind: RuleMajorityInEveryGroup, RegionalBalance: true, Quorum: Fraction{1, 3}}
	bs := ballots("y:a:x y:b:y n:c:z y:d:x o:e:y y:a:z n:b:x y:c:y a:d:z y:e:x")
	first := r.Evaluate(12, bs)
	for range 20 {
		if diff := cmp.Diff(first, r.Evaluate(12, bs)); diff != "" {
			t.Fatalf("Evaluate differs between calls:\n%s", diff)
		}
	}
}

func TestRuleString(t *testing.T) {
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{Rule{Kind: RuleMajority}, "majority"},
		{Rule{Kind: RuleSupermajority, Threshold: Fraction{2, 3}, Quorum: Fraction{1, 2}, RegionalBalance: true},
			"supermajority of 2/3, quorum 1/2, with regional balance"},
		{Rule{Kind: RuleConsensus, MaxObjections: 1}, "consensus with at most 1 objection"},
		{Rule{Kind: RuleMajorityInEveryGroup, Quorum: Fraction{0, 1}}, "majority-in-every-group"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
