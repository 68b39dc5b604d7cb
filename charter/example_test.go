package charter_test

import (
	"fmt"

	"steward/charter"
)

func ExampleParse() {
	_, err := charter.Parse("example.yaml", []byte(`charter: 1
name: Example
regions: [africa, europe]
stakeholder_groups:
  - {id: government, name: Governments}
bodies:
  - id: council
    name: Council
    kind: council
    seats:
      - {group: goverment, region: africa, count: 2}
    rule: {kind: majority, quorum: "1/2"}
  - id: forum
    name: Forum
    kind: forum
    open: true
    seats: [{group: government, capacity: advisory}]
windows: {comment: 14d, objection: 7d, vote: 14d, advice_answer: 30d}
decisions:
  - {kind: tld.delegate, approval: [concil]}
amendment: {proposers: [council], approval: [council]}
roles: {moderators: council, operator: council}
forum: {body: forum}
`))
	fmt.Println(err)
	// Output:
	// example.yaml:11: bodies[0].seats[0].group: unknown stakeholder group "goverment" (did you mean "government"?)
	// example.yaml:20: decisions[0].approval[0]: unknown body "concil" (did you mean "council"?)
	// example.yaml:22: roles.operator: body "council" is of kind council; the operator must be a body of kind operator
}

func ExampleRule_Evaluate() {
	rule := charter.Rule{
		Kind:            charter.RuleSupermajority,
		Threshold:       charter.Fraction{Num: 2, Den: 3},
		Quorum:          charter.Fraction{Num: 1, Den: 2},
		RegionalBalance: true,
	}
	out := rule.Evaluate(10, []charter.Ballot{
		{Member: "amina", Group: "government", Region: "africa", Vote: charter.VoteYes},
		{Member: "kofi", Group: "government", Region: "africa", Vote: charter.VoteYes},
		{Member: "ines", Group: "government", Region: "europe", Vote: charter.VoteYes},
		{Member: "jan", Group: "government", Region: "europe", Vote: charter.VoteNo},
		{Member: "lena", Group: "government", Region: "europe", Vote: charter.VoteYes},
		{Member: "olu", Group: "government", Region: "africa", Vote: charter.VoteAbstain},
	})
	for _, r := range out.Reasons {
		fmt.Println(r)
	}
	// Output:
	// Quorum met: 6 of 10 seated voting members cast a ballot (yes, no, abstain or object); a quorum of 1/2 needs at least 5.
	// Supermajority of 2/3 passed: 4 of the 5 yes, no and objecting votes are yes, and at least 4 were needed; 1 abstention does not count.
	// Region africa: 2 yes against 0 no or objecting, a majority.
	// Region europe: 2 yes against 1 no or objecting, a majority.
	// Regional balance passed: a majority of yes in all 2 regions that voted.
	// Result: passed.
}

func ExamplePreset() {
	c, err := charter.ParsePreset("wgig-model-1")
	if err != nil {
		panic(err)
	}
	d, _ := c.Decision(charter.KindTLDDelegate)
	gic, _ := c.Body("gic")
	fmt.Println(d.Approval, gic.VotingSeats(), gic.Rule)
	fmt.Println(gic.SeatLimit("government", "europe"), gic.SeatLimit("civil-society", "europe"))
	// Output:
	// [gic] 10 majority, quorum 1/2, with regional balance
	// 2 1
}
