package charter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// baseCharter is a small valid charter. The bad charters below are made from
// it by replacing text, so that the line of each error is known. Its line
// numbers are given in the comments of the cases.
const baseCharter = `charter: 1
name: Test charter
regions: [africa, europe]
stakeholder_groups:
  - {id: government, name: Governments}
  - {id: civil-society, name: Civil society}
bodies:
  - id: council
    name: Council
    kind: council
    seats:
      - {group: government, region: africa, count: 2}
      - {group: civil-society, region: any, count: 1, capacity: advisory}
    rule: {kind: supermajority, threshold: "2/3", quorum: "1/2"}
  - id: ops
    name: Operator
    kind: operator
    seats:
      - {group: civil-society, count: 2}
  - id: forum
    name: Forum
    kind: forum
    open: true
    seats:
      - {group: government, capacity: advisory}
      - {group: civil-society, capacity: advisory}
windows: {comment: 14d, objection: 7d, vote: 14d, advice_answer: 30d}
decisions:
  - kind: tld.delegate
    approval: [council]
    observation: [forum]
appeals:
  - {from: ops, to: council, window: 30d}
amendment:
  proposers: [any-participant]
  approval: [council]
roles: {moderators: operator, operator: ops}
forum: {body: forum}
`

// edit is a textual change to baseCharter.
type edit struct{ old, new string }

func applyEdits(t testing.TB, edits ...edit) string {
	t.Helper()
	s := baseCharter
	for _, e := range edits {
		if strings.Count(s, e.old) != 1 {
			t.Fatalf("edit %q does not match exactly once", e.old)
		}
		s = strings.Replace(s, e.old, e.new, 1)
	}
	return s
}

// wantErr is an expected error: its line, field, and a part of its message.
type wantErr struct {
	line  int
	field string
	msg   string
}

func (w wantErr) String() string { return fmt.Sprintf("%d: %s: …%s…", w.line, w.field, w.msg) }

// badCases are invalid charters and every error each must produce.
var badCases = []struct {
	name  string
	edits []edit
	want  []wantErr
}{
	{
		name:  "unknown field",
		edits: []edit{{"roles: {moderators: operator, operator: ops}", "roles: {moderators: operator, operator: ops, chair: ops}"}},
		want:  []wantErr{{37, "roles.chair", `unknown field "chair"`}},
	},
	{
		name:  "unknown field with suggestion",
		edits: []edit{{"    open: true\n", "    opne: true\n"}},
		want: []wantErr{
			{23, "bodies[2].opne", `unknown field "opne" (did you mean "open"?)`},
			{25, "bodies[2].seats[0].count", "missing required field"},
			{26, "bodies[2].seats[1].count", "missing required field"},
			{38, "forum.body", `the forum body "forum" must be open`},
		},
	},
	{
		name:  "unknown group in a seat",
		edits: []edit{{"{group: government, region: africa", "{group: goverment, region: africa"}},
		want:  []wantErr{{12, "bodies[0].seats[0].group", `unknown stakeholder group "goverment" (did you mean "government"?)`}},
	},
	{
		name:  "unknown region in a seat",
		edits: []edit{{"region: africa, count: 2", "region: oceania, count: 2"}},
		want:  []wantErr{{12, "bodies[0].seats[0].region", `unknown region "oceania" (known: africa, europe)`}},
	},
	{
		name:  "unknown body in decisions",
		edits: []edit{{"approval: [council]\n    observation", "approval: [councl]\n    observation"}},
		want:  []wantErr{{30, "decisions[0].approval[0]", `unknown body "councl" (did you mean "council"?)`}},
	},
	{
		name: "duplicate body id",
		edits: []edit{{"      - {group: civil-society, count: 2}\n",
			"      - {group: civil-society, count: 2}\n  - {id: ops, name: Ops, kind: operator, seats: [{group: government, count: 1}]}\n"}},
		want: []wantErr{{20, "bodies[2].id", `duplicate body id "ops" (first on line 15)`}},
	},
	{
		name:  "bad threshold",
		edits: []edit{{`threshold: "2/3"`, `threshold: "3/2"`}},
		want:  []wantErr{{14, "bodies[0].rule.threshold", `bad fraction "3/2": must be at most 1`}},
	},
	{
		name:  "threshold of a half is no supermajority",
		edits: []edit{{`threshold: "2/3"`, `threshold: "1/2"`}},
		want:  []wantErr{{14, "bodies[0].rule.threshold", "must be more than 1/2"}},
	},
	{
		name:  "bad duration",
		edits: []edit{{"vote: 14d", "vote: 2 weeks"}},
		want:  []wantErr{{27, "windows.vote", `bad duration "2 weeks"`}},
	},
	{
		name:  "negative count",
		edits: []edit{{"region: africa, count: 2", "region: africa, count: -2"}},
		want:  []wantErr{{12, "bodies[0].seats[0].count", "must not be negative (got -2)"}},
	},
	{
		name:  "missing required field",
		edits: []edit{{"    name: Forum\n", ""}},
		want:  []wantErr{{20, "bodies[2].name", "missing required field"}},
	},
	{
		name:  "empty required field",
		edits: []edit{{"    name: Forum\n", "    name:\n"}},
		want:  []wantErr{{21, "bodies[2].name", "must not be empty"}},
	},
	{
		name:  "wrong version",
		edits: []edit{{"charter: 1\n", "charter: 2\n"}},
		want:  []wantErr{{1, "charter", "unsupported charter format version 2"}},
	},
	{
		name:  "unknown decision kind",
		edits: []edit{{"kind: tld.delegate", "kind: tld.delegation"}},
		want:  []wantErr{{29, "decisions[0].kind", `unknown decision kind "tld.delegation" (did you mean "tld.delegate"?)`}},
	},
	{
		name:  "appeal to unknown body",
		edits: []edit{{"to: council, window", "to: cuncil, window"}},
		want:  []wantErr{{33, "appeals[0].to", `unknown body "cuncil" (did you mean "council"?)`}},
	},
	{
		name:  "charter.amend belongs in the amendment section",
		edits: []edit{{"kind: tld.delegate", "kind: charter.amend"}},
		want:  []wantErr{{29, "decisions[0].kind", "configured in the amendment section"}},
	},
	{
		name:  "duplicate decision kind",
		edits: []edit{{"appeals:\n", "  - kind: tld.delegate\nappeals:\n"}},
		want:  []wantErr{{32, "decisions[1].kind", `decision kind "tld.delegate" is listed twice (first on line 29)`}},
	},
	{
		name:  "a forum cannot approve",
		edits: []edit{{"approval: [council]\n    observation: [forum]", "approval: [forum]"}},
		want:  []wantErr{{30, "decisions[0].approval[0]", `body "forum" is of kind forum, which gives advice but cannot approve`}},
	},
	{
		name:  "an approving body needs a rule",
		edits: []edit{{"approval: [council]\n    observation", "approval: [ops]\n    observation"}},
		want:  []wantErr{{30, "decisions[0].approval[0]", `body "ops" has no decision rule`}},
	},
	{
		name: "a decision's own rule stands in for the body's",
		edits: []edit{{"approval: [council]\n    observation: [forum]",
			"approval: [ops]\n    rule: {kind: majority}"}},
		want: nil,
	},
	{
		name:  "a body in two lists of one decision",
		edits: []edit{{"observation: [forum]", "observation: [council]"}},
		want:  []wantErr{{31, "decisions[0].observation", `body "council" is already listed in approval`}},
	},
	{
		name:  "a forum takes no decisions",
		edits: []edit{{"    open: true\n", "    open: true\n    rule: {kind: majority}\n"}},
		want:  []wantErr{{24, "bodies[2].rule", "a forum is non-binding"}},
	},
	{
		name:  "an open body has no counts",
		edits: []edit{{"{group: government, capacity: advisory}", "{group: government, capacity: advisory, count: 5}"}},
		want:  []wantErr{{25, "bodies[2].seats[0].count", "an open body admits any number of participants"}},
	},
	{
		name:  "threshold only for supermajority",
		edits: []edit{{`{kind: supermajority, threshold: "2/3"`, `{kind: majority, threshold: "2/3"`}},
		want:  []wantErr{{14, "bodies[0].rule.threshold", "threshold applies only to supermajority rules"}},
	},
	{
		name:  "supermajority needs a threshold",
		edits: []edit{{`threshold: "2/3", `, ``}},
		want:  []wantErr{{14, "bodies[0].rule.threshold", "missing required field"}},
	},
	{
		name:  "bad quorum",
		edits: []edit{{`quorum: "1/2"`, `quorum: 0.5`}},
		want:  []wantErr{{14, "bodies[0].rule.quorum", `bad fraction "0.5"`}},
	},
	{
		name:  "duplicate seat",
		edits: []edit{{"      - {group: civil-society, count: 2}\n", "      - {group: civil-society, count: 2}\n      - {group: civil-society, region: any, count: 1}\n"}},
		want:  []wantErr{{20, "bodies[1].seats[1]", "duplicate seat"}},
	},
	{
		name:  "reserved body id",
		edits: []edit{{"  - id: ops\n", "  - id: operator\n"}},
		want: []wantErr{
			{15, "bodies[1].id", `"operator" is reserved`},
			{33, "appeals[0].from", `unknown body "ops"`},
			{37, "roles.operator", `unknown body "ops"`},
		},
	},
	{
		name:  "the operator must be of kind operator",
		edits: []edit{{"operator: ops}", "operator: council}"}},
		want:  []wantErr{{37, "roles.operator", "the operator must be a body of kind operator"}},
	},
	{
		name:  "the forum must be a forum",
		edits: []edit{{"forum: {body: forum}", "forum: {body: council}"}},
		want:  []wantErr{{38, "forum.body", "the forum must be a body of kind forum"}},
	},
	{
		name:  "the forum seats every group",
		edits: []edit{{"      - {group: civil-society, capacity: advisory}\n", ""}},
		want:  []wantErr{{37, "forum.body", "has no seat for civil-society"}},
	},
	{
		name: "appointment cycle",
		edits: []edit{
			{"    kind: council\n", "    kind: council\n    appointed_by: forum-2\n"},
			{"      - {group: civil-society, count: 2}\n", "      - {group: civil-society, count: 2}\n" +
				"  - {id: forum-2, name: F2, kind: committee, appointed_by: council, seats: [{group: government, count: 1}], rule: {kind: majority}}\n"},
		},
		want: []wantErr{{11, "bodies[0].appointed_by", "bodies appoint each other in a circle: council → forum-2 → council"}},
	},
	{
		name:  "a body cannot appoint itself",
		edits: []edit{{"    kind: council\n", "    kind: council\n    appointed_by: council\n"}},
		want:  []wantErr{{11, "bodies[0].appointed_by", "a body cannot name itself"}},
	},
	{
		name:  "duplicate region",
		edits: []edit{{"regions: [africa, europe]", "regions: [africa, europe, africa]"}},
		want:  []wantErr{{3, "regions[2]", `duplicate region "africa" (first on line 3)`}},
	},
	{
		name:  "bad identifier",
		edits: []edit{{"regions: [africa, europe]", "regions: [africa, Europe_West]"}},
		want: []wantErr{
			{3, "regions[1]", `bad region id "Europe_West"`},
		},
	},
	{
		name:  "duplicate key",
		edits: []edit{{"name: Test charter\n", "name: Test charter\nname: Again\n"}},
		want:  []wantErr{{3, "name", "field given twice (first on line 2)"}},
	},
	{
		name:  "alias",
		edits: []edit{{"name: Test charter\n", "name: &n Test charter\nsummary: *n\n"}},
		want:  []wantErr{{3, "summary", "aliases (*n) are not allowed"}},
	},
	{
		name:  "wrong type",
		edits: []edit{{"regions: [africa, europe]", "regions: africa"}},
		want: []wantErr{
			{3, "regions", `must be a list, not "africa"`},
			{12, "bodies[0].seats[0].region", `unknown region "africa"`},
		},
	},
	{
		name:  "boolean",
		edits: []edit{{"operator: ops}", "operator: ops, separation_of_duties: yes}"}},
		want:  []wantErr{{37, "roles.separation_of_duties", `must be true or false, not "yes"`}},
	},
	{
		name:  "empty list",
		edits: []edit{{"proposers: [any-participant]", "proposers: []"}},
		want:  []wantErr{{35, "amendment.proposers", "must name at least one proposer"}},
	},
	{
		name:  "bad check names",
		edits: []edit{{"observation: [forum]\n", "observation: [forum]\n    checks: {blocking: [BASIC, dnssec], advisory: [BASIC]}\n"}},
		want: []wantErr{
			{32, "decisions[0].checks.blocking[1]", `bad check group name "dnssec"`},
			{32, "decisions[0].checks.advisory[0]", "check group BASIC is already listed in blocking"},
		},
	},
	{
		name:  "not a number",
		edits: []edit{{"region: africa, count: 2", "region: africa, count: two"}},
		want:  []wantErr{{12, "bodies[0].seats[0].count", `must be a whole number, not "two"`}},
	},
	{
		name:  "a mapping where text is expected",
		edits: []edit{{"name: Test charter", "name: {en: Test charter}"}},
		want:  []wantErr{{2, "name", "must be a text value, not a mapping"}},
	},
	{
		name:  "bad request rules",
		edits: []edit{{"forum: {body: forum}\n", "forum: {body: forum}\nrequests: {confirmation: some, ds_algorithms: [13, 300, 13], hold_window: 0d, allow_loopback: maybe}\n"}},
		want: []wantErr{
			{39, "requests.confirmation", `unknown confirmation rule "some"`},
			{39, "requests.ds_algorithms[1]", "must be between 1 and 255"},
			{39, "requests.ds_algorithms[2]", "algorithm 13 is listed twice"},
			{39, "requests.hold_window", "must be longer than zero"},
			{39, "requests.allow_loopback", `must be true or false, not "maybe"`},
		},
	},
	{
		name:  "petition support beyond the seats",
		edits: []edit{{"forum: {body: forum}\n", "forum: {body: forum}\npetitions:\n  - {power: recall, petitioners: [council], support_min: 3, objection_max: 1,\n     windows: {petition: 21d, support: 7d, forum: 14d, decision: 21d}}\n"}},
		want:  []wantErr{{40, "petitions[0].support_min", "needs 3 supporters, but the petitioning bodies have only 2 voting seats"}},
	},
}

func checkErrors(t *testing.T, err error, want []wantErr) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Parse: unexpected error:\n%v", err)
		}
		return
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse error = %T %v, want an ErrorList", err, err)
	}
	var got []string
	for _, e := range list {
		if e.File != "test.yaml" || e.Line < 1 {
			t.Errorf("error %q: File = %q, Line = %d", e, e.File, e.Line)
		}
		got = append(got, fmt.Sprintf("%d: %s: %s", e.Line, e.Field, e.Msg))
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		e := list[i]
		ok = e.Line == want[i].line && e.Field == want[i].field && strings.Contains(e.Msg, want[i].msg)
	}
	if !ok {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.ReplaceAll(fmt.Sprint(want), "} {", "}\n  {"))
	}
}

func TestParseBase(t *testing.T) {
	c, err := Parse("test.yaml", []byte(baseCharter))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Charter{
		Version: 1,
		Name:    "Test charter",
		Regions: []string{"africa", "europe"},
		Groups:  []Group{{ID: "government", Name: "Governments"}, {ID: "civil-society", Name: "Civil society"}},
		Bodies: []Body{
			{
				ID: "council", Name: "Council", Kind: BodyCouncil,
				Seats: []Seat{
					{Group: "government", Region: "africa", Count: 2, Capacity: CapacityVoting},
					{Group: "civil-society", Region: AnyRegion, Count: 1, Capacity: CapacityAdvisory},
				},
				Rule: &Rule{Kind: RuleSupermajority, Threshold: Fraction{2, 3}, Quorum: Fraction{1, 2}},
			},
			{
				ID: "ops", Name: "Operator", Kind: BodyOperator,
				Seats: []Seat{{Group: "civil-society", Region: AnyRegion, Count: 2, Capacity: CapacityVoting}},
			},
			{
				ID: "forum", Name: "Forum", Kind: BodyForum, Open: true,
				Seats: []Seat{
					{Group: "government", Region: AnyRegion, Capacity: CapacityAdvisory},
					{Group: "civil-society", Region: AnyRegion, Capacity: CapacityAdvisory},
				},
			},
		},
		Windows: Windows{Comment: days(14), Objection: days(7), Vote: days(14), AdviceAnswer: days(30)},
		Decisions: []Decision{{
			Kind:        KindTLDDelegate,
			Approval:    []string{"council"},
			Observation: []string{"forum"},
			Windows:     Windows{Comment: days(14), Objection: days(7), Vote: days(14), AdviceAnswer: days(30)},
		}},
		Appeals: []Appeal{{From: "ops", To: "council", Window: days(30)}},
		Amendment: Amendment{
			Proposers: []string{AnyParticipant},
			Approval:  []string{"council"},
			Windows:   Windows{Comment: days(14), Objection: days(7), Vote: days(14), AdviceAnswer: days(30)},
		},
		Roles:    Roles{Moderators: OperatorRole, Operator: "ops"},
		Forum:    ForumConfig{Body: "forum"},
		Requests: DefaultRequests(),
		Hash:     "", // checked below
	}
	if len(c.Hash) != 64 {
		t.Errorf("Hash = %q, want 64 hex digits", c.Hash)
	}
	c.Hash = ""
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func days(n int) Duration { return Duration(time.Duration(n) * 24 * time.Hour) }

func TestParseErrors(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(applyEdits(t, tc.edits...)))
			checkErrors(t, err, tc.want)
		})
	}
}

// TestParseReportsAllErrors puts several mistakes in one file: every one is
// reported, in line order.
func TestParseReportsAllErrors(t *testing.T) {
	src := applyEdits(t,
		edit{"charter: 1\n", "charter: 2\n"},
		edit{"{group: government, region: africa", "{group: goverment, region: africa"},
		edit{"region: any, count: 1", "region: any, count: -1"},
		edit{`threshold: "2/3"`, `threshold: "3/2"`},
		edit{"vote: 14d", "vote: 14days"},
		edit{"kind: tld.delegate", "kind: tld.delegat"},
		edit{"observation: [forum]", "observation: [forum, gac]"},
		edit{"to: council, window", "to: cuncil, window"},
		edit{"roles: {moderators: operator, operator: ops}", "roles: {moderator: operator, operator: ops}"},
	)
	_, err := Parse("test.yaml", []byte(src))
	checkErrors(t, err, []wantErr{
		{1, "charter", "unsupported charter format version 2"},
		{12, "bodies[0].seats[0].group", `unknown stakeholder group "goverment"`},
		{13, "bodies[0].seats[1].count", "must not be negative"},
		{14, "bodies[0].rule.threshold", `bad fraction "3/2"`},
		{27, "windows.vote", `bad duration "14days"`},
		{29, "decisions[0].kind", `unknown decision kind "tld.delegat"`},
		{31, "decisions[0].observation[1]", `unknown body "gac"`},
		{33, "appeals[0].to", `unknown body "cuncil"`},
		{37, "roles.moderators", "missing required field"},
		{37, "roles.moderator", `unknown field "moderator" (did you mean "moderators"?)`},
	})
	if err != nil {
		first := strings.SplitN(err.Error(), "\n", 2)[0]
		if want := "test.yaml:1: charter: unsupported charter format version 2 (this steward reads version 1)"; first != want {
			t.Errorf("first line of Error() = %q, want %q", first, want)
		}
	}
}

func TestParseSyntaxError(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		msg       string
	}{
		// The YAML library points at the start of the unclosed list.
		{"unclosed flow", applyEdits(t, edit{"regions: [africa, europe]", "regions: [africa, europe"}), 3, "invalid YAML: did not find expected ',' or ']'"},
		{"mapping in a value", applyEdits(t, edit{"name: Test charter", "name: Test: charter"}), 2, "invalid YAML: mapping values are not allowed"},
		{"list where a key is expected", "charter: 1\nname: x\n- y\n", 3, "invalid YAML: did not find expected key"},
		{"key after a list", "- a\nb: c\n", 2, "invalid YAML: did not find expected '-' indicator"},
		{"empty", "", 1, "empty file"},
		{"comments only", "# nothing\n", 1, "empty file"},
		{"two documents", baseCharter + "---\ncharter: 1\n", 39, "one YAML document"},
		{"too large", strings.Repeat("#", MaxFileSize+1), 1, "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %T %v, want *Error", err, err)
			}
			var list ErrorList
			if errors.As(err, &list) {
				t.Fatalf("Parse error is an ErrorList, want a single *Error: %v", err)
			}
			if e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) || e.File != "test.yaml" {
				t.Errorf("error = %q (line %d), want line %d and %q", e, e.Line, tc.line, tc.msg)
			}
		})
	}
}

func TestParseNotAMapping(t *testing.T) {
	_, err := Parse("x.yaml", []byte("- a\n- b\n"))
	checkErrorsFile(t, err, "x.yaml:1: must be a mapping of fields, not a list")
	_, err = Parse("x.yaml", []byte("~\n"))
	checkErrorsFile(t, err, `x.yaml:1: empty charter: it starts with "charter: 1"`)
}

func checkErrorsFile(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestErrorListAs(t *testing.T) {
	_, err := Parse("test.yaml", []byte(applyEdits(t, edit{"charter: 1\n", "charter: 2\n"})))
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Field != "charter" {
		t.Errorf("errors.As(ErrorList, *Error) = %v", e)
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    *Error
		want string
	}{
		{&Error{File: "a.yaml", Line: 42, Field: "bodies[1].seats[0].group", Msg: `unknown stakeholder group "goverment"`},
			`a.yaml:42: bodies[1].seats[0].group: unknown stakeholder group "goverment"`},
		{&Error{File: "a.yaml", Line: 3, Msg: "invalid YAML: x"}, "a.yaml:3: invalid YAML: x"},
		{&Error{Line: 3, Field: "f", Msg: "m"}, "line 3: f: m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	l := ErrorList{{File: "a", Line: 1, Msg: "x"}, {File: "a", Line: 2, Field: "f", Msg: "y"}}
	if got, want := l.Error(), "a:1: x\na:2: f: y"; got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
}

func TestDecisionWindowsOverride(t *testing.T) {
	src := applyEdits(t, edit{"observation: [forum]", "observation: [forum]\n    windows: {vote: 21d, comment: 0d}"})
	c, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Windows{Comment: 0, Objection: days(7), Vote: days(21), AdviceAnswer: days(30)}
	if got := c.WindowsFor(KindTLDDelegate); got != want {
		t.Errorf("WindowsFor(tld.delegate) = %+v, want %+v", got, want)
	}
	if got := c.WindowsFor(KindTLDRemove); got != c.Windows {
		t.Errorf("WindowsFor(tld.remove) = %+v, want the defaults %+v", got, c.Windows)
	}
}

func TestCharterLookups(t *testing.T) {
	c, err := Parse("test.yaml", []byte(baseCharter))
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := c.Body("council"); !ok || b.Name != "Council" {
		t.Errorf("Body(council) = %v, %v", b, ok)
	}
	if _, ok := c.Body("nope"); ok {
		t.Error("Body(nope) found")
	}
	if g, ok := c.Group("civil-society"); !ok || g.Name != "Civil society" {
		t.Errorf("Group(civil-society) = %v, %v", g, ok)
	}
	if _, ok := c.Group("government-x"); ok {
		t.Error("Group(government-x) found")
	}
	if !c.HasRegion("europe") || c.HasRegion(AnyRegion) || c.HasRegion("asia-pacific") {
		t.Error("HasRegion wrong")
	}
	if d, ok := c.Decision(KindTLDDelegate); !ok || d.Approval[0] != "council" {
		t.Errorf("Decision(tld.delegate) = %v, %v", d, ok)
	}
	if _, ok := c.Decision(KindTLDUpdateNS); ok {
		t.Error("Decision(tld.update-ns) found; the charter does not list it")
	}
	if d, ok := c.Decision(KindCharterAmend); !ok || d.Kind != KindCharterAmend || d.Approval[0] != "council" {
		t.Errorf("Decision(charter.amend) = %+v, %v; want it built from the amendment section", d, ok)
	}
	if a, ok := c.AppealFor("ops"); !ok || a.To != "council" {
		t.Errorf("AppealFor(ops) = %v, %v", a, ok)
	}
	if _, ok := c.AppealFor("council"); ok {
		t.Error("AppealFor(council) found")
	}
	if r := c.RuleFor(KindTLDDelegate, "council"); r == nil || r.Kind != RuleSupermajority {
		t.Errorf("RuleFor(tld.delegate, council) = %v", r)
	}
	if r := c.RuleFor(KindTLDDelegate, "ops"); r != nil {
		t.Errorf("RuleFor(tld.delegate, ops) = %v, want nil", r)
	}
}

func TestSeatLimit(t *testing.T) {
	c, err := Parse("test.yaml", []byte(baseCharter))
	if err != nil {
		t.Fatal(err)
	}
	council, _ := c.Body("council")
	forum, _ := c.Body("forum")
	for _, tc := range []struct {
		b             *Body
		group, region string
		want          int
	}{
		{council, "government", "africa", 2},
		{council, "government", "europe", 0},
		{council, "civil-society", "europe", 1},
		{council, "civil-society", "africa", 1},
		{council, "private-sector", "africa", 0},
		{forum, "government", "europe", Unlimited},
		{forum, "private-sector", "europe", 0},
	} {
		if got := tc.b.SeatLimit(tc.group, tc.region); got != tc.want {
			t.Errorf("%s.SeatLimit(%s, %s) = %d, want %d", tc.b.ID, tc.group, tc.region, got, tc.want)
		}
	}
	if got := council.VotingSeats(); got != 2 {
		t.Errorf("council.VotingSeats() = %d, want 2", got)
	}
	if got := forum.VotingSeats(); got != 0 {
		t.Errorf("forum.VotingSeats() = %d, want 0 (advisory seats only)", got)
	}
	if got := council.SeatsFor("civil-society", "africa"); len(got) != 1 || got[0].Capacity != CapacityAdvisory {
		t.Errorf("SeatsFor(civil-society, africa) = %v", got)
	}
}

func TestDecisionKinds(t *testing.T) {
	kinds := DecisionKinds()
	if len(kinds) != 15 {
		t.Errorf("DecisionKinds() has %d kinds, want 15", len(kinds))
	}
	for _, k := range kinds {
		if !IsDecisionKind(k) {
			t.Errorf("IsDecisionKind(%q) = false", k)
		}
	}
	kinds[0] = "changed"
	if DecisionKinds()[0] != KindTLDDelegate {
		t.Error("DecisionKinds returns the package's own slice")
	}
	if IsDecisionKind("tld.update") {
		t.Error(`IsDecisionKind("tld.update") = true`)
	}
}
