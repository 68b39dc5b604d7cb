package steward_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
	"steward/ledger"
)

func smallInstance(t *testing.T) *memTx {
	t.Helper()
	text, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := newMemTx()
	m.must(t, steward.CreateInstance(steward.Instance{Origin: "steward.example/small", Name: "Small"}, text))
	register(t, m, "op", "civil-society", "europe")
	m.must(t, steward.GrantRole(steward.ActorInit, steward.Grant{Participant: "op", Role: steward.RoleOperator}))
	return m
}

func TestEventEncoding(t *testing.T) {
	e, err := steward.NewEvent(7, time.Date(2026, 5, 6, 7, 8, 9, 120000000, time.FixedZone("x", 3600)), "alice", "participant.updated",
		map[string]any{"z": 1, "a": []string{"x"}, "m": map[string]int{"b": 2, "a": 1}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"participant.updated","payload":{"a":["x"],"m":{"a":1,"b":2},"z":1}}`
	if string(b) != want {
		t.Fatalf("encoding\n got %s\nwant %s", b, want)
	}
	back, err := steward.DecodeEvent(b)
	if err != nil || back.Seq != 7 || back.Kind != e.Kind || !back.Time.Equal(e.Time) {
		t.Fatalf("DecodeEvent: %+v, %v", back, err)
	}
	for _, bad := range []string{
		`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"k","payload":{"z":1,"a":2}}`,  // unsorted payload
		`{"seq":7, "time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"k","payload":{}}`,            // whitespace
		`{"time":"2026-05-06T06:08:09.12Z","seq":7,"actor":"alice","kind":"k","payload":{}}`,             // member order
		`{"seq":7,"time":"2026-05-06T06:08:09.120Z","actor":"alice","kind":"k","payload":{}}`,            // trailing zero
		`{"seq":7,"time":"2026-05-06T07:08:09.12+01:00","actor":"alice","kind":"k","payload":{}}`,        // not UTC
		`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"k","payload":{"n":1.0}}`,      // non-integer
		`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"k","payload":[]}`,             // not an object
		`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"k","payload":{},"extra":1}`,   // unknown member
		`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"","kind":"k","payload":{}}`,                  // no actor
		`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"k","payload":{"s":"\u00e9"}}`, // escaped
		`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"k","payload":{}}` + "\n",      // newline
	} {
		if _, err := steward.DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("DecodeEvent accepted a non-canonical entry %s", bad)
		}
	}
	if _, err := steward.NewEvent(0, time.Now(), "a", "k", map[string]string{"x": strings.Repeat("y", steward.MaxEventSize)}); err == nil {
		if e, _ := steward.NewEvent(0, time.Now(), "a", "k", map[string]string{"x": strings.Repeat("y", steward.MaxEventSize)}); e != nil {
			if _, err := e.Encode(); steward.ErrorCode(err) != steward.ETOOLARGE {
				t.Errorf("oversized event: %v", err)
			}
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"seq":7,"time":"2026-05-06T06:08:09.12Z","actor":"alice","kind":"participant.updated","payload":{"a":["x"]}}`))
	f.Add([]byte(`{"seq":0,"time":"2026-05-06T06:08:09Z","actor":"system:init","kind":"instance.created","payload":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := steward.DecodeEvent(data)
		if err != nil {
			return
		}
		again, err := e.Encode()
		if err != nil || string(again) != string(data) {
			t.Errorf("decoded event does not re-encode to its input")
		}
		// Applying an arbitrary event must fail cleanly or succeed, never panic.
		_ = steward.Apply(context.Background(), steward.NewMemState(), e)
	})
}

func TestRegister(t *testing.T) {
	m := smallInstance(t)
	ok := steward.Participant{Handle: "alice", Name: "Alice", Group: "government", Region: "africa", Languages: []string{"en", "FR"}}
	for _, tc := range []struct {
		name  string
		edit  func(p *steward.Participant, r *steward.Registration)
		actor string
		code  string
		msg   string
	}{
		{"bad handle", func(p *steward.Participant, r *steward.Registration) { p.Handle = "Alice" }, "Alice", steward.EINVALID, "handle"},
		{"unknown group", func(p *steward.Participant, r *steward.Registration) { p.Group = "goverment" }, "", steward.EINVALID, "stakeholder group \"goverment\""},
		{"unknown region", func(p *steward.Participant, r *steward.Registration) { p.Region = "mars" }, "", steward.EINVALID, "region \"mars\""},
		{"no languages", func(p *steward.Participant, r *steward.Registration) { p.Languages = nil }, "", steward.EINVALID, "languages"},
		{"bad language", func(p *steward.Participant, r *steward.Registration) { p.Languages = []string{"english!"} }, "", steward.EINVALID, "BCP 47"},
		{"empty name", func(p *steward.Participant, r *steward.Registration) { p.Name = "" }, "", steward.EINVALID, "name"},
		{"bad email", func(p *steward.Participant, r *steward.Registration) { r.Email = "not an address" }, "", steward.EINVALID, "e-mail"},
		{"duplicate handle", func(p *steward.Participant, r *steward.Registration) { p.Handle = "op" }, "op", steward.ECONFLICT, "taken"},
		{"duplicate email", func(p *steward.Participant, r *steward.Registration) { r.Email = "OP@example.org" }, "", steward.ECONFLICT, "e-mail"},
		{"other actor", func(p *steward.Participant, r *steward.Registration) {}, "mallory", steward.EFORBIDDEN, "itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			p.Languages = append([]string(nil), ok.Languages...)
			r := steward.Registration{Email: "alice@example.org", PasswordHash: hash(t)}
			tc.edit(&p, &r)
			r.Participant = p
			actor := tc.actor
			if actor == "" {
				actor = p.Handle
			}
			before := len(m.entries)
			_, err := m.do(t, steward.Register(actor, r))
			wantCode(t, err, tc.code)
			if !strings.Contains(steward.ErrorMessage(err), tc.msg) {
				t.Errorf("message %q does not mention %q", steward.ErrorMessage(err), tc.msg)
			}
			if len(m.entries) != before {
				t.Error("a refused registration appended an entry")
			}
		})
	}
	v := m.must(t, steward.Register("alice", steward.Registration{Participant: ok, Email: "alice@example.org", PasswordHash: hash(t)}))
	if p := v.(*steward.Participant); p.Languages[1] != "fr" {
		t.Errorf("language tags are not canonicalised: %v", p.Languages)
	}
	if err := steward.CheckLogin(context.Background(), m, "alice", "correct horse battery"); err != nil {
		t.Errorf("login: %v", err)
	}
	if err := steward.CheckLogin(context.Background(), m, "alice", "wrong password!"); steward.ErrorCode(err) != steward.EUNAUTHORIZED {
		t.Errorf("wrong password: %v", err)
	}
	// The public event carries no e-mail address or password hash.
	last := string(m.entries[len(m.entries)-1])
	if strings.Contains(last, "example.org") || strings.Contains(last, "argon2") {
		t.Errorf("registration event leaks private data: %s", last)
	}
}

func TestSeats(t *testing.T) {
	m := smallInstance(t)
	register(t, m, "g-af-1", "government", "africa")
	register(t, m, "g-af-2", "government", "africa")
	register(t, m, "g-af-3", "government", "africa")
	register(t, m, "g-eu-1", "government", "europe")
	register(t, m, "c-eu-1", "civil-society", "europe")
	register(t, m, "c-af-1", "civil-society", "africa")

	seat := func(actor, body, h, capa string) error {
		_, err := m.do(t, steward.SeatMember(actor, body, h, capa))
		return err
	}
	if err := seat("g-af-1", "council", "g-af-1", ""); steward.ErrorCode(err) != steward.EFORBIDDEN {
		t.Errorf("a non-operator seated a member: %v", err)
	}
	// The africa seat, then the any-region seat.
	if err := seat("op", "council", "g-af-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := seat("op", "council", "g-af-2", ""); err != nil {
		t.Fatal(err)
	}
	// Both government seats are now taken: neither africa nor europe fits.
	if err := seat("op", "council", "g-af-3", ""); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("a third government member was seated: %v", err)
	}
	if err := seat("op", "council", "g-eu-1", ""); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("a europe government member took an any-region seat held by africa: %v", err)
	}
	// No seat for civil society from africa; the europe one is advisory.
	if err := seat("op", "council", "c-af-1", ""); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("seated without a seat for the region: %v", err)
	}
	if err := seat("op", "council", "c-eu-1", "voting"); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("seated in a capacity the charter does not give: %v", err)
	}
	v, err := m.do(t, steward.SeatMember("op", "council", "c-eu-1", ""))
	if err != nil || v.(*steward.Member).Capacity != "advisory" {
		t.Fatalf("advisory seat: %v %v", v, err)
	}
	if err := seat("op", "council", "g-af-1", ""); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("seated twice: %v", err)
	}
	if err := seat("op", "nobody", "g-af-1", ""); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("seated in an unknown body: %v", err)
	}
	if err := seat("op", "council", "ghost", ""); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("seated an unknown participant: %v", err)
	}
	// Freeing the africa seat lets europe take the any-region seat.
	m.must(t, steward.UnseatMember("g-af-1", "council", "g-af-1", "resigned"))
	if err := seat("op", "council", "g-eu-1", ""); err != nil {
		t.Errorf("after a resignation: %v", err)
	}
	// The forum is open: everyone fits.
	for _, h := range []string{"g-af-1", "g-af-2", "g-af-3", "g-eu-1", "c-af-1"} {
		if err := seat("op", "forum", h, ""); err != nil {
			t.Errorf("open forum refused %s: %v", h, err)
		}
	}
	// The panel is appointed by the council: its chair may seat members.
	m.must(t, steward.SetChair("op", "council", "g-af-2"))
	if err := seat("g-af-2", "panel", "c-af-1", ""); err != nil {
		t.Errorf("the appointing body's chair could not seat: %v", err)
	}
	if err := seat("g-eu-1", "panel", "c-eu-1", ""); steward.ErrorCode(err) != steward.EFORBIDDEN {
		t.Errorf("a council member who is not chair seated a panel member: %v", err)
	}
	// The panel moderates the forum under this charter.
	if ok, err := steward.IsModerator(context.Background(), m, "c-af-1"); err != nil || !ok {
		t.Errorf("panel member is not a moderator: %v %v", ok, err)
	}
	if ok, _ := steward.IsModerator(context.Background(), m, "g-af-2"); ok {
		t.Error("a non-member moderates")
	}
	// The chair loses the chair when unseated.
	m.must(t, steward.UnseatMember("op", "council", "g-af-2", ""))
	if ch, _ := steward.Chair(context.Background(), m, "council"); ch != "" {
		t.Errorf("chair after unseating = %q", ch)
	}
}

func TestRolesAndTokens(t *testing.T) {
	m := smallInstance(t)
	register(t, m, "alice", "government", "africa")
	ctx := context.Background()
	if _, err := m.do(t, steward.GrantRole("alice", steward.Grant{Participant: "alice", Role: steward.RoleOperator})); steward.ErrorCode(err) != steward.EFORBIDDEN {
		t.Errorf("self-grant: %v", err)
	}
	for _, g := range []steward.Grant{
		{Participant: "alice", Role: "king"},
		{Participant: "alice", Role: steward.RoleResourceContact},
		{Participant: "alice", Role: steward.RoleModerator, Scope: "tld:x"},
		{Participant: "alice", Role: steward.RoleChair},
		{Participant: "ghost", Role: steward.RoleModerator},
	} {
		if _, err := m.do(t, steward.GrantRole("op", g)); err == nil {
			t.Errorf("granted %+v", g)
		}
	}
	m.must(t, steward.GrantRole("op", steward.Grant{Participant: "alice", Role: steward.RoleResourceContact, Scope: "tld:example"}))
	if ok, _ := steward.HasGrant(ctx, m, "alice", steward.RoleResourceContact, "tld:example"); !ok {
		t.Error("grant not recorded")
	}
	if _, err := m.do(t, steward.RevokeRole("op", steward.Grant{Participant: "op", Role: steward.RoleOperator})); steward.ErrorCode(err) != steward.EFORBIDDEN {
		t.Errorf("an operator revoked its own role: %v", err)
	}

	id, bearer, err := steward.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.do(t, steward.IssueToken("alice", id, bearer, "ci", []string{"read", "sudo"}, time.Hour)); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("unknown scope: %v", err)
	}
	m.must(t, steward.IssueToken("alice", id, bearer, "ci", []string{"write", "read"}, time.Hour))
	tok, err := steward.Authenticate(ctx, m, m, bearer, m.now)
	if err != nil || tok.Participant != "alice" || !tok.HasScope("write") || tok.HasScope("admin") {
		t.Fatalf("Authenticate: %+v %v", tok, err)
	}
	for _, b := range []string{bearer + "x", strings.Replace(bearer, bearer[len(bearer)-5:], "AAAAA", 1), "stw_nope", ""} {
		if _, err := steward.Authenticate(ctx, m, m, b, m.now); steward.ErrorCode(err) != steward.EUNAUTHORIZED {
			t.Errorf("forged token %q: %v", b, err)
		}
	}
	if _, err := steward.Authenticate(ctx, m, m, bearer, m.now.Add(time.Hour)); steward.ErrorCode(err) != steward.EUNAUTHORIZED {
		t.Errorf("expired token: %v", err)
	}
	if _, err := m.do(t, steward.RevokeToken("op2", id)); err == nil {
		t.Error("a stranger revoked a token")
	}
	m.must(t, steward.RevokeToken("alice", id))
	if _, err := steward.Authenticate(ctx, m, m, bearer, m.now); steward.ErrorCode(err) != steward.EUNAUTHORIZED {
		t.Errorf("revoked token: %v", err)
	}
	if ts, _ := steward.Tokens(ctx, m, "alice"); len(ts) != 0 {
		t.Errorf("tokens after revocation: %v", ts)
	}
	if strings.Contains(string(m.entries[len(m.entries)-2]), bearer[20:]) {
		t.Error("the token secret is in the ledger")
	}
}

// TestReplay checks that replaying the entries rebuilds the same state, for
// every preset.
func TestReplay(t *testing.T) {
	for _, preset := range charter.PresetNames() {
		t.Run(preset, func(t *testing.T) {
			m, c := newInstance(t, preset)
			for i, g := range c.Groups {
				register(t, m, label("p%d", i), g.ID, c.Regions[i%len(c.Regions)])
			}
			ctx := context.Background()
			st := steward.NewMemState()
			for i, b := range m.entries {
				e, err := steward.DecodeEvent(b)
				if err != nil {
					t.Fatal(err)
				}
				if e.Seq != int64(i) {
					t.Fatalf("entry %d has seq %d", i, e.Seq)
				}
				if err := steward.Apply(ctx, st, e); err != nil {
					t.Fatal(err)
				}
			}
			var a, b ledger.Digest
			for _, kv := range st.All() {
				a.Add(kv.Key, kv.Value)
			}
			for _, kv := range m.st.All() {
				b.Add(kv.Key, kv.Value)
			}
			if a != b || st.Len() != m.st.Len() {
				t.Error("replay does not rebuild the state")
			}
		})
	}
}

func TestPasswords(t *testing.T) {
	h, err := steward.HashPassword("a long enough password", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash format %q", h)
	}
	if !steward.CheckPassword(h, "a long enough password") || steward.CheckPassword(h, "a long enough passworD") {
		t.Error("CheckPassword is wrong")
	}
	if _, err := steward.HashPassword("short", cheap); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("short password: %v", err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", h[:len(h)-3] + "!!!"} {
		if steward.CheckPassword(bad, "a long enough password") {
			t.Errorf("CheckPassword accepted %q", bad)
		}
	}
}

func TestInstance(t *testing.T) {
	text, _ := charter.Preset("community")
	m := newMemTx()
	if _, err := m.do(t, steward.CreateInstance(steward.Instance{Origin: "Not An Origin", Name: "x"}, text)); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("bad origin: %v", err)
	}
	if _, err := m.do(t, steward.CreateInstance(steward.Instance{Origin: "steward.example/x", Name: "x"}, []byte("charter: 2\n"))); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("bad charter: %v", err)
	}
	if len(m.entries) != 0 {
		t.Fatal("refused instance wrote entries")
	}
	m.must(t, steward.CreateInstance(steward.Instance{Origin: "steward.example/x", Name: "x"}, text))
	if _, err := m.do(t, steward.CreateInstance(steward.Instance{Origin: "steward.example/x", Name: "x"}, text)); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("second instance: %v", err)
	}
	c, err := steward.CurrentCharter(context.Background(), m)
	if err != nil || c.Name == "" {
		t.Fatalf("CurrentCharter: %v", err)
	}
}
