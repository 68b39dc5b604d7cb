package charter

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var wgigGroups = []string{"government", "private-sector", "civil-society", "technical-academic", "intergovernmental"}

var rirRegions = []string{"africa", "asia-pacific", "europe", "latin-america-caribbean", "north-america"}

func TestPresetNames(t *testing.T) {
	want := []string{"community", "iana-2016", "wgig-model-1", "wgig-model-2", "wgig-model-3", "wgig-model-4"}
	if diff := cmp.Diff(want, PresetNames()); diff != "" {
		t.Errorf("PresetNames mismatch (-want +got):\n%s", diff)
	}
}

func TestPresetUnknown(t *testing.T) {
	for _, name := range []string{"wgig-model-5", "", "../charter", "presets/community", "community.yaml"} {
		_, err := Preset(name)
		if err == nil || !strings.Contains(err.Error(), "community, iana-2016, wgig-model-1") {
			t.Errorf("Preset(%q) error = %v, want one listing the presets", name, err)
		}
	}
}

// mustPreset parses a preset, failing the test on error.
func mustPreset(t *testing.T, name string) *Charter {
	t.Helper()
	c, err := ParsePreset(name)
	if err != nil {
		t.Fatalf("ParsePreset(%s):\n%v", name, err)
	}
	return c
}

// TestPresetsCommon checks what every preset must have.
func TestPresetsCommon(t *testing.T) {
	for _, name := range PresetNames() {
		t.Run(name, func(t *testing.T) {
			c := mustPreset(t, name)
			if c.Name == "" || c.Summary == "" {
				t.Error("missing name or summary")
			}
			if diff := cmp.Diff(rirRegions, c.Regions); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
			for _, g := range wgigGroups {
				if _, ok := c.Group(g); !ok {
					t.Errorf("no stakeholder group %q", g)
				}
			}
			forum, ok := c.Body(c.Forum.Body)
			if !ok || forum.Kind != BodyForum || !forum.Open || forum.Rule != nil {
				t.Errorf("forum body %q: %+v", c.Forum.Body, forum)
			}
			for _, g := range wgigGroups {
				if forum != nil && forum.SeatLimit(g, "europe") != Unlimited {
					t.Errorf("the forum does not admit every participant of %s", g)
				}
			}
			if c.Roles.Moderators == "" || c.Roles.Operator == "" {
				t.Errorf("roles = %+v", c.Roles)
			}
			if op, ok := c.Body(c.Roles.Operator); !ok || op.Kind != BodyOperator {
				t.Errorf("operator %q is not an operator body", c.Roles.Operator)
			}
			if !c.Roles.SeparationOfDuties {
				t.Error("separation of duties is off")
			}
			if len(c.Appeals) == 0 || len(c.Amendment.Approval) == 0 || len(c.Amendment.Proposers) == 0 {
				t.Error("no appeals or no amendment procedure")
			}
			// Every decision kind is configured explicitly, except the two
			// that have sections of their own.
			for _, k := range DecisionKinds() {
				if k == KindCharterAmend || k == KindPetition {
					continue
				}
				if !slices.ContainsFunc(c.Decisions, func(d Decision) bool { return d.Kind == k }) {
					t.Errorf("decision kind %s is not configured", k)
				}
			}
			// Seats are modest, so that a demonstration instance with a
			// handful of participants per group and region can fill them.
			for _, b := range c.Bodies {
				if b.Open {
					continue
				}
				total := 0
				for _, s := range b.Seats {
					total += s.Count
					limit := 6 // for seats open to any region
					if s.Region != AnyRegion {
						limit = 2
					}
					if s.Count > limit {
						t.Errorf("body %s: %d seats for %s in %s, more than %d", b.ID, s.Count, s.Group, s.Region, limit)
					}
				}
				if total > 15 {
					t.Errorf("body %s has %d seats, more than 15", b.ID, total)
				}
			}
		})
	}
}

// TestPresetsCiteSources checks that each preset's comments cite what it
// follows.
func TestPresetsCiteSources(t *testing.T) {
	for name, cites := range map[string][]string{
		"wgig-model-1": {"paras 52–56", "para 48", "para 36", "para 45", "Tunis Agenda para 77"},
		"wgig-model-2": {"paras 57–61", "para 36"},
		"wgig-model-3": {"paras 62–67", "para 48"},
		"wgig-model-4": {"paras 68–73", "para 68"},
		"iana-2016":    {"Art. 6", "Art. 17", "Art. 18", "Art. 19", "Annex D", "RZERC charter", "Root Zone Maintainer Service Agreement"},
		"community":    {"dn42", "OpenNIC"},
	} {
		data, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range cites {
			if !strings.Contains(string(data), s) {
				t.Errorf("%s does not cite %q", name, s)
			}
		}
	}
}

// votingGroups returns the groups with voting seats in a body.
func votingGroups(b *Body) []string {
	var gs []string
	for _, s := range b.Seats {
		if s.Capacity == CapacityVoting && s.Count > 0 && !slices.Contains(gs, s.Group) {
			gs = append(gs, s.Group)
		}
	}
	return gs
}

func body(t *testing.T, c *Charter, id string) *Body {
	t.Helper()
	b, ok := c.Body(id)
	if !ok {
		t.Fatalf("no body %q", id)
	}
	return b
}

func decision(t *testing.T, c *Charter, kind string) *Decision {
	t.Helper()
	d, ok := c.Decision(kind)
	if !ok {
		t.Fatalf("no decision %q", kind)
	}
	return d
}

func TestPresetWGIGModel1(t *testing.T) {
	c := mustPreset(t, "wgig-model-1")
	gic := body(t, c, "gic")
	if gic.Kind != BodyOversight {
		t.Errorf("gic kind = %s", gic.Kind)
	}
	if got := votingGroups(gic); !slices.Equal(got, []string{"government"}) {
		t.Errorf("gic voting groups = %v, want governments only", got)
	}
	for _, r := range rirRegions {
		if n := len(gic.SeatsFor("government", r)); n != 1 || gic.SeatLimit("government", r) != 2 {
			t.Errorf("gic: government seats in %s = %d", r, gic.SeatLimit("government", r))
		}
	}
	for _, g := range wgigGroups[1:] {
		if s := gic.SeatsFor(g, "europe"); len(s) != 1 || s[0].Capacity != CapacityAdvisory {
			t.Errorf("gic: %s seats = %v, want advisory", g, s)
		}
	}
	if !gic.Rule.RegionalBalance {
		t.Error("gic votes without regional balance")
	}
	for _, k := range []string{KindTLDDelegate, KindTLDRemove, KindTLDTransfer, KindGTLDIntroduce, KindNumberPolicy} {
		if d := decision(t, c, k); !slices.Contains(d.Approval, "gic") {
			t.Errorf("%s approval = %v, want the GIC", k, d.Approval)
		}
	}
	if d := decision(t, c, KindTLDDelegate); !slices.Equal(d.Approval, []string{"gic"}) {
		t.Errorf("tld.delegate approval = %v", d.Approval)
	}
	for _, k := range []string{KindTLDUpdateNS, KindTLDUpdateDS, KindTLDUpdateContacts} {
		if d := decision(t, c, k); len(d.Approval) != 0 {
			t.Errorf("routine change %s needs approval by %v", k, d.Approval)
		}
	}
	if body(t, c, c.Roles.Operator).ReportsTo != "gic" {
		t.Error("the operator is not accountable to the GIC")
	}
	if a, _ := c.AppealFor("iana"); a == nil || a.To != "gic" {
		t.Errorf("appeals from the operator go to %v", a)
	}
}

func TestPresetWGIGModel2(t *testing.T) {
	c := mustPreset(t, "wgig-model-2")
	for _, b := range c.Bodies {
		if b.Kind == BodyOversight {
			t.Errorf("body %s is an oversight body; model 2 has none", b.ID)
		}
	}
	gac := body(t, c, "gac")
	if gac.Kind != BodyAdvisory || !slices.Equal(votingGroups(gac), []string{"government"}) {
		t.Errorf("gac = %+v", gac)
	}
	for _, k := range []string{KindTLDDelegate, KindTLDTransfer, KindTLDRemove, KindPolicyRatify} {
		d := decision(t, c, k)
		if !slices.Equal(d.Approval, []string{"board"}) || !slices.Equal(d.Advice, []string{"gac"}) {
			t.Errorf("%s: approval %v, advice %v; want the board, advised by the GAC", k, d.Approval, d.Advice)
		}
		if d.Windows.AdviceAnswer == 0 {
			t.Errorf("%s: no time to answer advice", k)
		}
	}
	if d := decision(t, c, KindGTLDIntroduce); !slices.Equal(d.Approval, []string{"names-council", "board"}) {
		t.Errorf("gtld.introduce approval = %v, want the bottom-up council then the board", d.Approval)
	}
	if d := decision(t, c, KindNumberPolicy); !slices.Equal(d.Approval, []string{"numbers-council", "board"}) {
		t.Errorf("number.policy approval = %v", d.Approval)
	}
	if g, _ := c.Body("board"); slices.Contains(votingGroups(g), "government") {
		t.Error("governments vote on the operator board")
	}
}

func TestPresetWGIGModel3(t *testing.T) {
	c := mustPreset(t, "wgig-model-3")
	iic := body(t, c, "iic")
	if iic.Kind != BodyOversight || !slices.Equal(votingGroups(iic), []string{"government"}) || !iic.Rule.RegionalBalance {
		t.Errorf("iic = %+v", iic)
	}
	// The IANA-type functions need the IIC.
	for _, k := range []string{KindTLDDelegate, KindTLDTransfer, KindTLDRemove, KindRootArchitecture, KindNumberAllocate} {
		if d := decision(t, c, k); !slices.Equal(d.Approval, []string{"iic"}) {
			t.Errorf("%s approval = %v, want the IIC", k, d.Approval)
		}
	}
	// Policy is outside its remit (narrower than model 1's GIC).
	for _, k := range []string{KindGTLDIntroduce, KindNumberPolicy, KindPolicyRatify} {
		d := decision(t, c, k)
		if slices.Contains(d.Approval, "iic") || !slices.Contains(d.Observation, "iic") {
			t.Errorf("%s: approval %v, observation %v; want the IIC observing only", k, d.Approval, d.Observation)
		}
	}
	// The IIC makes a governmental advisory committee redundant.
	for _, b := range c.Bodies {
		if b.Kind == BodyAdvisory {
			t.Errorf("advisory body %s; model 3 has none", b.ID)
		}
	}
}

func TestPresetWGIGModel4(t *testing.T) {
	c := mustPreset(t, "wgig-model-4")
	gipc := body(t, c, "gipc")
	if !slices.Equal(votingGroups(gipc), []string{"government"}) {
		t.Errorf("gipc voting groups = %v", votingGroups(gipc))
	}
	for _, g := range wgigGroups[1:] {
		if s := gipc.SeatsFor(g, "africa"); len(s) != 1 || s[0].Capacity != CapacityObserver {
			t.Errorf("gipc: %s seats = %v, want observer", g, s)
		}
	}
	board := body(t, c, "wicann-board")
	if board.SeatLimit("private-sector", "europe") <= board.SeatLimit("technical-academic", "europe") ||
		board.SeatLimit("private-sector", "europe") <= board.SeatLimit("civil-society", "europe") {
		t.Error("the WICANN board is not private-sector-led")
	}
	oc := body(t, c, "oversight-committee")
	if oc.Kind != BodyOversight || oc.AppointedBy != "gipc" || oc.ReportsTo != "gipc" {
		t.Errorf("oversight committee = %+v, want appointed by and reporting to the GIPC", oc)
	}
	for _, k := range []string{KindTLDDelegate, KindTLDTransfer, KindTLDRemove, KindGTLDIntroduce, KindRootArchitecture, KindNumberPolicy} {
		if d := decision(t, c, k); !slices.Equal(d.Approval, []string{"wicann-board", "oversight-committee"}) {
			t.Errorf("%s approval = %v", k, d.Approval)
		}
	}
	if c.Forum.Body != "gigf" {
		t.Errorf("forum = %q, want the GIGF", c.Forum.Body)
	}
}

func TestPresetIANA2016(t *testing.T) {
	c := mustPreset(t, "iana-2016")
	for _, b := range c.Bodies {
		if b.Kind == BodyOversight {
			t.Errorf("body %s is an oversight body; after 2016 there is no external approver", b.ID)
		}
	}
	for _, k := range []string{KindTLDUpdateNS, KindTLDUpdateDS, KindTLDUpdateContacts} {
		d := decision(t, c, k)
		if len(d.Approval) != 0 || !slices.Equal(d.Observation, []string{"csc"}) {
			t.Errorf("%s: approval %v, observation %v; want no approval, CSC observing", k, d.Approval, d.Observation)
		}
	}
	if d := decision(t, c, KindRootArchitecture); !slices.Equal(d.Approval, []string{"icann-board"}) || !slices.Equal(d.Advice, []string{"rzerc"}) {
		t.Errorf("root.architecture: approval %v, advice %v; want RZERC's review answered by the ICANN Board", d.Approval, d.Advice)
	}
	if d := decision(t, c, KindTLDDelegate); !slices.Equal(d.Approval, []string{"pti-board"}) {
		t.Errorf("tld.delegate approval = %v", d.Approval)
	}
	if got := body(t, c, "ec").VotingSeats(); got != 5 {
		t.Errorf("the Empowered Community has %d voting seats, want 5 Decisional Participants", got)
	}
	want := map[string][2]int{
		"reject-budget":             {4, 1},
		"reject-standard-bylaw":     {3, 1},
		"approve-fundamental-bylaw": {3, 1},
		"recall-board":              {4, 1},
	}
	for power, th := range want {
		p, ok := c.Petition(power)
		if !ok || p.SupportMin != th[0] || p.ObjectionMax != th[1] || !slices.Equal(p.Petitioners, []string{"ec"}) {
			t.Errorf("petition %s = %+v, want support %d, objections %d, by the EC", power, p, th[0], th[1])
		}
	}
	p, _ := c.Petition("reject-budget")
	if want := (PetitionWindows{Petition: days(21), Support: days(7), Forum: days(30), Decision: days(21)}); p == nil || p.Windows != want {
		t.Errorf("reject-budget windows = %+v", p)
	}
}

func TestPresetCommunity(t *testing.T) {
	c := mustPreset(t, "community")
	members := body(t, c, "members")
	if !members.Open || members.Kind != BodyPlenary || members.VotingSeats() != Unlimited {
		t.Errorf("members = %+v, want an open plenary", members)
	}
	for _, k := range []string{KindTLDDelegate, KindTLDRemove, KindNumberPolicy, KindPolicyRatify} {
		if d := decision(t, c, k); !slices.Equal(d.Approval, []string{"members"}) {
			t.Errorf("%s approval = %v, want a member vote", k, d.Approval)
		}
	}
	for _, k := range []string{KindTLDUpdateNS, KindTLDUpdateDS, KindNumberAllocate} {
		d := decision(t, c, k)
		if !slices.Equal(d.Approval, []string{"maintainers"}) || d.Windows.Comment == 0 {
			t.Errorf("%s: approval %v, comment %v; want maintainers after open review", k, d.Approval, d.Windows.Comment)
		}
	}
	if !slices.Equal(c.Amendment.Proposers, []string{AnyParticipant}) {
		t.Errorf("amendment proposers = %v", c.Amendment.Proposers)
	}
	// A single maintainer's approval carries a routine change; one
	// objection stops it.
	r := body(t, c, "maintainers").Rule
	if out := r.Evaluate(5, ballots("y")); !out.Passed {
		t.Errorf("one approval: %v", out.Reasons)
	}
	if out := r.Evaluate(5, ballots("y y o")); out.Passed {
		t.Errorf("an objection did not block: %v", out.Reasons)
	}
}
