package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
)

func testEmpty(h *harness) {
	size, d := h.head()
	if size != 0 || d != (ledger.Digest{}) {
		h.Fatalf("Head of an empty store = %d, digest %x…; want 0 and the zero digest", size, d[:8])
	}
	h.mustNotFind("instance")
	if kvs, err := h.s.Scan(h.ctx, "", "", 10); err != nil || len(kvs) != 0 {
		h.Fatalf("Scan of an empty store = %v, %v; want nothing", kvs, err)
	}
	h.mustNotFindSecret("password/ann")
	if cp, err := h.s.LatestCheckpoint(h.ctx); errCode(err) != steward.ENOTFOUND {
		h.Fatalf("LatestCheckpoint before the first = %q, %v; want ENOTFOUND", cp, err)
	}
	if sizes, err := h.s.CheckpointSizes(h.ctx); err != nil || len(sizes) != 0 {
		h.Fatalf("CheckpointSizes = %v, %v; want none", sizes, err)
	}
	if es := h.entries(0, 0); len(es) != 0 {
		h.Fatalf("Entries(0, 0) = %q", es)
	}
	if es, err := h.s.Entries(h.ctx, 0, 1); errCode(err) != steward.ENOTFOUND {
		h.Fatalf("Entries(0, 1) of an empty log = %q, %v; want ENOTFOUND", es, err)
	}
	for _, tile := range []tlog.Tile{{H: 8, L: 0, N: 0, W: 1}, {H: 8, L: -1, N: 0, W: 1}} {
		if b, err := h.s.Tile(h.ctx, tile); errCode(err) != steward.ENOTFOUND {
			h.Fatalf("Tile(%s) of an empty log = %x, %v; want ENOTFOUND", ledger.TilePath(tile), b, err)
		}
	}
	if x, err := h.s.ReadHashes(h.ctx, []int64{0}); errCode(err) != steward.ENOTFOUND {
		h.Fatalf("ReadHashes([0]) of an empty log = %v, %v; want ENOTFOUND", x, err)
	}
	// The checkpoint of the empty tree.
	c, _ := h.checkpoint()
	var zero ledger.Digest
	if c.Size != 0 || c.State != zero.Sum() {
		h.Fatalf("checkpoint of the empty log: size %d, state %x", c.Size, c.State)
	}
}

func testInstance(h *harness) {
	text := communityCharter(h)
	v := h.do(steward.CreateInstance(steward.Instance{Origin: Origin, Name: "Conformance", Preset: "community"}, text))
	if e, ok := v.(*steward.Event); !ok || e.Kind != "charter.adopted" || e.Seq != 1 {
		h.Fatalf("CreateInstance returned %#v; want the charter.adopted event, entry 1", v)
	}
	evs := h.events(0, 2)
	for i, want := range []string{"instance.created", "charter.adopted"} {
		e := evs[i]
		if e.Kind != want || e.Actor != steward.ActorInit || !e.Time.Equal(Epoch) {
			h.Errorf("entry %d = %s by %s at %v; want %s by %s at %v", i, e.Kind, e.Actor, e.Time, want, steward.ActorInit, Epoch)
		}
	}
	in, err := steward.LoadInstance(h.ctx, h.s)
	if err != nil {
		h.Fatal(err)
	}
	if diff := cmp.Diff(&steward.Instance{Origin: Origin, Name: "Conformance", Preset: "community", Created: Epoch}, in); diff != "" {
		h.Errorf("instance (-want +got):\n%s", diff)
	}
	rec, err := steward.CurrentCharterRecord(h.ctx, h.s)
	if err != nil {
		h.Fatal(err)
	}
	if rec.Version != 1 || rec.Event != 1 || rec.Text != "" || !rec.Adopted.Equal(Epoch) {
		h.Errorf("current charter record = %+v", rec)
	}
	v1, err := steward.CharterVersion(h.ctx, h.s, 1)
	if err != nil || v1.Text != string(text) {
		h.Fatalf("charter version 1: %v (text equal: %v)", err, err == nil && v1.Text == string(text))
	}
	c, err := steward.CurrentCharter(h.ctx, h.s)
	if err != nil || c.Name != "Community Network" {
		h.Fatalf("CurrentCharter = %v, %v", c, err)
	}

	before := h.snapshot()
	h.doFail(steward.ECONFLICT, steward.CreateInstance(steward.Instance{Origin: Origin, Name: "Again"}, text))
	h.doFail(steward.EINVALID, steward.CreateInstance(steward.Instance{Origin: Origin, Name: "Again"}, []byte("charter: 1\nname: [")))
	h.doFail(steward.EINVALID, steward.CreateInstance(steward.Instance{Origin: "Not An Origin", Name: "Again"}, text))
	h.unchanged(before)

	// Events carry the transaction's time, which comes from the clock.
	h.env.clock.Advance(90 * time.Minute)
	h.register("ann")
	if e := h.events(2, 3)[0]; !e.Time.Equal(Epoch.Add(90 * time.Minute)) {
		h.Errorf("entry 2 time %v, want %v", e.Time, Epoch.Add(90*time.Minute))
	}
	h.replay()
}

func testParticipants(h *harness) {
	h.createInstance()
	// Handles chosen so that byte order differs from most collations.
	handles := []string{"ann", "an-x", "an0", "ana", "anna", "annabel", "bob", "b-b"}
	for _, hd := range handles {
		p := h.register(hd)
		if p.Handle != hd || !p.Registered.Equal(Epoch) {
			h.Fatalf("Register(%s) = %+v", hd, p)
		}
	}
	sorted := slices.Clone(handles)
	slices.Sort(sorted) // byte order: "an-x" < "an0" < "ana" < "ann" < …
	keys := func(kvs []steward.KV) []string {
		var out []string
		for _, kv := range kvs {
			out = append(out, kv.Key)
		}
		return out
	}
	pk := func(hs ...string) []string {
		var out []string
		for _, hd := range hs {
			out = append(out, "participant/"+hd)
		}
		return out
	}
	scans := []struct {
		prefix, after string
		limit         int
		want          []string
	}{
		{"participant/", "", 0, pk(sorted...)},
		{"participant/", "", 3, pk(sorted[:3]...)},
		{"participant/", "participant/ana", 2, pk("ann", "anna")},
		{"participant/", "participant/annabel", 100, pk("b-b", "bob")},
		{"participant/", "participant/bob", 100, nil},
		{"participant/ann", "", 0, pk("ann", "anna", "annabel")},
		{"participant/anna", "", 0, pk("anna", "annabel")},
		{"participant/ann", "participant/ann", 0, pk("anna", "annabel")},
		{"participant/an-", "", 0, pk("an-x")},
		{"participant/b", "", 0, pk("b-b", "bob")},
		{"participant/c", "", 0, nil},
		{"participant", "participant/b-b", 0, pk("bob")},
		{"instance", "", 0, []string{"instance"}},
		{"charter/", "", 0, []string{"charter/current", "charter/v/000001"}},
		{"", "participant/annabel", 2, pk("b-b", "bob")},
		{"z", "", 0, nil},
	}
	for _, sc := range scans {
		kvs, err := h.s.Scan(h.ctx, sc.prefix, sc.after, sc.limit)
		if err != nil {
			h.Fatalf("Scan(%q, %q, %d): %v", sc.prefix, sc.after, sc.limit, err)
		}
		if diff := cmp.Diff(sc.want, keys(kvs)); diff != "" {
			h.Errorf("Scan(%q, %q, %d) (-want +got):\n%s", sc.prefix, sc.after, sc.limit, diff)
		}
		for _, kv := range kvs {
			if string(kv.Value) != string(h.get(kv.Key)) {
				h.Errorf("Scan's value of %s differs from Get's", kv.Key)
			}
		}
	}
	all, err := steward.ScanAll(h.ctx, h.s, "participant/")
	if err != nil || !slices.Equal(keys(all), pk(sorted...)) {
		h.Fatalf("ScanAll(participant/) = %v, %v", keys(all), err)
	}
	ps, err := steward.ListParticipants(h.ctx, h.s, "ana", 2)
	if err != nil || len(ps) != 2 || ps[0].Handle != "ann" || ps[1].Handle != "anna" {
		h.Fatalf("ListParticipants(after ana, 2) = %+v, %v", ps, err)
	}
	p, err := steward.LoadParticipant(h.ctx, h.s, "anna")
	if err != nil {
		h.Fatal(err)
	}
	want := participant("anna", "technical-academic", "europe")
	want.Registered = Epoch
	if diff := cmp.Diff(&want, p); diff != "" {
		h.Errorf("participant anna (-want +got):\n%s", diff)
	}
	h.mustNotFind("participant/annx")
	h.mustNotFind("participant/")

	// Private data: in the secrets, never in the state or the ledger.
	if hash := h.secret("password/anna"); !strings.HasPrefix(string(hash), "$argon2id$") {
		h.Errorf("password hash of anna = %q", hash)
	}
	if got := string(h.secret("email/anna@example.org")); got != "anna" {
		h.Errorf("email/anna@example.org = %q, want anna", got)
	}
	if email, err := steward.Email(h.ctx, h.s, "anna"); err != nil || email != "anna@example.org" {
		h.Errorf("Email(anna) = %q, %v", email, err)
	}
	for _, kv := range h.state() {
		if strings.Contains(string(kv.Value), "@example.org") || strings.Contains(string(kv.Value), "$argon2id$") {
			h.Errorf("state record %s holds private data: %s", kv.Key, kv.Value)
		}
	}
	size, _ := h.head()
	for i, data := range h.entries(0, size) {
		if strings.Contains(string(data), "@example.org") || strings.Contains(string(data), "argon2") {
			h.Errorf("entry %d holds private data: %s", i, data)
		}
	}
	if err := steward.CheckLogin(h.ctx, h.s, "anna", Password); err != nil {
		h.Errorf("CheckLogin(anna, right password): %v", err)
	}
	if err := steward.CheckLogin(h.ctx, h.s, "anna", Password+"!"); errCode(err) != steward.EUNAUTHORIZED {
		h.Errorf("CheckLogin(anna, wrong password) = %v; want EUNAUTHORIZED", err)
	}
	if err := steward.CheckLogin(h.ctx, h.s, "nobody", Password); errCode(err) != steward.EUNAUTHORIZED {
		h.Errorf("CheckLogin(nobody) = %v; want EUNAUTHORIZED", err)
	}

	// Refused registrations and updates change nothing.
	secrets := []string{"password/carol", "email/carol@example.org", "email-of/carol", "email/anna@example.org", "password/anna"}
	before := h.snapshot(secrets...)
	reg := func(handle, email, group string) steward.Command {
		return steward.Register(steward.ActorInit, steward.Registration{Participant: participant(handle, group, "europe"), Email: email, PasswordHash: PasswordHash(h)})
	}
	h.doFail(steward.ECONFLICT, reg("anna", "carol@example.org", "civil-society"))
	h.doFail(steward.ECONFLICT, reg("carol", "Anna@Example.org", "civil-society"))
	h.doFail(steward.EINVALID, reg("carol", "carol@example.org", "no-such-group"))
	h.doFail(steward.EINVALID, reg("Carol", "carol@example.org", "civil-society"))
	h.doFail(steward.EINVALID, reg("carol", "not an address", "civil-society"))
	h.doFail(steward.EFORBIDDEN, steward.Register("bob", steward.Registration{Participant: participant("carol", "civil-society", "europe"), Email: "carol@example.org", PasswordHash: PasswordHash(h)}))
	upd := participant("anna", "technical-academic", "europe")
	upd.Affiliation = "Elsewhere"
	h.doFail(steward.EFORBIDDEN, steward.UpdateProfile("bob", upd))
	upd.Affiliation = strings.Repeat("x", 201)
	h.doFail(steward.EINVALID, steward.UpdateProfile("anna", upd))
	h.unchanged(before)

	upd.Affiliation = "Elsewhere"
	h.do(steward.UpdateProfile("anna", upd))
	if p, err := steward.LoadParticipant(h.ctx, h.s, "anna"); err != nil || p.Affiliation != "Elsewhere" || !p.Registered.Equal(Epoch) {
		h.Fatalf("after UpdateProfile: %+v, %v", p, err)
	}
	h.replay()
}

func testRolesAndBodies(h *harness) {
	h.createInstance()
	for _, hd := range []string{"ann", "bob", "carol", "dave", "erin"} {
		h.register(hd)
	}
	h.register("fay", "civil-society", "africa")

	h.do(steward.GrantRole(steward.ActorInit, steward.Grant{Participant: "ann", Role: steward.RoleOperator}))
	for hd, want := range map[string]bool{"ann": true, "bob": false, steward.ActorInit: true} {
		if ok, err := steward.IsOperator(h.ctx, h.s, hd); err != nil || ok != want {
			h.Errorf("IsOperator(%s) = %v, %v; want %v", hd, ok, err, want)
		}
	}
	before := h.snapshot()
	h.doFail(steward.EFORBIDDEN, steward.GrantRole("bob", steward.Grant{Participant: "carol", Role: steward.RoleModerator}))
	h.doFail(steward.ECONFLICT, steward.GrantRole("ann", steward.Grant{Participant: "ann", Role: steward.RoleOperator}))
	h.doFail(steward.EINVALID, steward.GrantRole("ann", steward.Grant{Participant: "bob", Role: steward.RoleBodyMember}))
	h.doFail(steward.EINVALID, steward.GrantRole("ann", steward.Grant{Participant: "bob", Role: steward.RoleResourceContact}))
	h.doFail(steward.ENOTFOUND, steward.GrantRole("ann", steward.Grant{Participant: "zed", Role: steward.RoleModerator}))
	h.doFail(steward.EFORBIDDEN, steward.RevokeRole("ann", steward.Grant{Participant: "ann", Role: steward.RoleOperator}))
	h.unchanged(before)

	h.env.clock.Advance(time.Hour)
	h.do(steward.GrantRole("ann", steward.Grant{Participant: "carol", Role: steward.RoleModerator}))
	h.do(steward.GrantRole("ann", steward.Grant{Participant: "carol", Role: steward.RoleResourceContact, Scope: "tld:example"}))
	roles, err := steward.Roles(h.ctx, h.s, "carol")
	if err != nil {
		h.Fatal(err)
	}
	at := Epoch.Add(time.Hour)
	wantRoles := []steward.Grant{
		{Participant: "carol", Role: steward.RoleModerator, Granted: at, By: "ann"},
		{Participant: "carol", Role: steward.RoleResourceContact, Scope: "tld:example", Granted: at, By: "ann"},
	}
	if diff := cmp.Diff(wantRoles, roles); diff != "" {
		h.Errorf("Roles(carol) (-want +got):\n%s", diff)
	}
	if ok, err := steward.IsModerator(h.ctx, h.s, "carol"); err != nil || !ok {
		h.Errorf("IsModerator(carol) = %v, %v", ok, err)
	}
	h.do(steward.RevokeRole("ann", steward.Grant{Participant: "carol", Role: steward.RoleModerator}))
	if ok, err := steward.HasGrant(h.ctx, h.s, "carol", steward.RoleModerator, ""); err != nil || ok {
		h.Errorf("HasGrant(carol, moderator) after revocation = %v, %v", ok, err)
	}

	// The maintainers have three technical seats, one civil-society seat and
	// one private-sector seat.
	for _, hd := range []string{"dave", "bob", "carol", "fay"} {
		m := h.do(steward.SeatMember("ann", "maintainers", hd, "")).(*steward.Member)
		if m.Body != "maintainers" || m.Participant != hd || m.Capacity != "voting" || !m.Seated.Equal(at) {
			h.Errorf("SeatMember(%s) = %+v", hd, m)
		}
	}
	before = h.snapshot()
	h.doFail(steward.ECONFLICT, steward.SeatMember("ann", "maintainers", "erin", ""))  // the technical seats are full
	h.doFail(steward.ECONFLICT, steward.SeatMember("ann", "maintainers", "bob", ""))   // seated already
	h.doFail(steward.EFORBIDDEN, steward.SeatMember("bob", "maintainers", "erin", "")) // not an operator
	h.doFail(steward.ENOTFOUND, steward.SeatMember("ann", "no-such-body", "erin", ""))
	h.doFail(steward.ENOTFOUND, steward.SeatMember("ann", "maintainers", "zed", ""))
	h.doFail(steward.EINVALID, steward.SetChair("ann", "maintainers", "erin"))
	h.unchanged(before)

	members, err := steward.Members(h.ctx, h.s, "maintainers")
	if err != nil {
		h.Fatal(err)
	}
	var got []string
	for _, m := range members {
		got = append(got, m.Participant)
	}
	if want := []string{"bob", "carol", "dave", "fay"}; !slices.Equal(got, want) {
		h.Errorf("Members(maintainers) = %v, want %v", got, want)
	}
	h.do(steward.SetChair("ann", "maintainers", "carol"))
	if ch, err := steward.Chair(h.ctx, h.s, "maintainers"); err != nil || ch != "carol" {
		h.Errorf("Chair = %q, %v; want carol", ch, err)
	}
	h.do(steward.UnseatMember("carol", "maintainers", "carol", "resigned"))
	if ch, err := steward.Chair(h.ctx, h.s, "maintainers"); err != nil || ch != "" {
		h.Errorf("Chair after the chair resigned = %q, %v; want none", ch, err)
	}
	h.do(steward.SeatMember("ann", "maintainers", "erin", ""))
	h.replay()
}

func testTokens(h *harness) {
	h.createInstance()
	for _, hd := range []string{"ann", "bob", "carol"} {
		h.register(hd)
	}
	h.do(steward.GrantRole(steward.ActorInit, steward.Grant{Participant: "ann", Role: steward.RoleOperator}))

	id, bearer, err := steward.NewTokenSecret()
	if err != nil {
		h.Fatal(err)
	}
	tok := h.do(steward.IssueToken("bob", id, bearer, "ci", []string{steward.ScopeWrite, steward.ScopeRead}, 24*time.Hour)).(*steward.Token)
	want := steward.Token{ID: id, Participant: "bob", Name: "ci", Scopes: []string{steward.ScopeRead, steward.ScopeWrite},
		Issued: Epoch, Expires: Epoch.Add(24 * time.Hour)}
	if diff := cmp.Diff(&want, tok); diff != "" {
		h.Errorf("IssueToken (-want +got):\n%s", diff)
	}
	got, err := steward.Authenticate(h.ctx, h.s, h.s, bearer, Epoch.Add(24*time.Hour-time.Nanosecond))
	if err != nil {
		h.Fatalf("Authenticate: %v", err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		h.Errorf("Authenticate (-want +got):\n%s", diff)
	}
	if ts, err := steward.Tokens(h.ctx, h.s, "bob"); err != nil || len(ts) != 1 || ts[0].ID != id {
		h.Errorf("Tokens(bob) = %+v, %v", ts, err)
	}
	if len(h.secret("token-hash/"+id)) == 0 {
		h.Error("no token hash stored")
	}
	for _, b := range []string{
		otherSecret(bearer),
		"stw_" + strings.Repeat("0", 16) + bearer[len("stw_")+16:], // another id
		bearer + "x",
		"",
	} {
		if tk, err := steward.Authenticate(h.ctx, h.s, h.s, b, Epoch); errCode(err) != steward.EUNAUTHORIZED {
			h.Errorf("Authenticate(%q) = %+v, %v; want EUNAUTHORIZED", b, tk, err)
		}
	}
	if tk, err := steward.Authenticate(h.ctx, h.s, h.s, bearer, Epoch.Add(24*time.Hour)); errCode(err) != steward.EUNAUTHORIZED {
		h.Errorf("Authenticate when the token expires = %+v, %v; want EUNAUTHORIZED", tk, err)
	}

	id2, bearer2, _ := steward.NewTokenSecret()
	before := h.snapshot("token-hash/"+id, "token-hash/"+id2)
	h.doFail(steward.EINVALID, steward.IssueToken("bob", id2, bearer2, "x", []string{"root"}, time.Hour))
	h.doFail(steward.EINVALID, steward.IssueToken("bob", id2, bearer2, "x", nil, time.Hour))
	h.doFail(steward.EINVALID, steward.IssueToken("bob", id2, bearer2, "x", []string{"read"}, 0))
	h.doFail(steward.EINVALID, steward.IssueToken("bob", id2, bearer2, "", []string{"read"}, time.Hour))
	h.doFail(steward.EINVALID, steward.IssueToken("bob", id, bearer2, "x", []string{"read"}, time.Hour))
	h.doFail(steward.ENOTFOUND, steward.IssueToken("zed", id2, bearer2, "x", []string{"read"}, time.Hour))
	h.doFail(steward.EFORBIDDEN, steward.RevokeToken("carol", id))
	h.doFail(steward.ENOTFOUND, steward.RevokeToken("bob", id2))
	h.unchanged(before)

	// The owner revokes its token; an operator may revoke anyone's.
	h.do(steward.IssueToken("bob", id2, bearer2, "second", []string{"vote"}, time.Hour))
	h.do(steward.RevokeToken("bob", id))
	h.do(steward.RevokeToken("ann", id2))
	for _, b := range []string{bearer, bearer2} {
		if tk, err := steward.Authenticate(h.ctx, h.s, h.s, b, Epoch); errCode(err) != steward.EUNAUTHORIZED {
			h.Errorf("Authenticate after revocation = %+v, %v; want EUNAUTHORIZED", tk, err)
		}
	}
	for _, x := range []string{id, id2} {
		h.mustNotFindSecret("token-hash/" + x)
		h.mustNotFind("token/" + x)
		h.mustNotFind("token-of/bob/" + x)
	}
	if ts, err := steward.Tokens(h.ctx, h.s, "bob"); err != nil || len(ts) != 0 {
		h.Errorf("Tokens(bob) after revocation = %+v, %v", ts, err)
	}
	h.doFail(steward.ENOTFOUND, steward.RevokeToken("bob", id))
	h.replay()
}

// testScanAllPages issues more tokens than ScanAll reads in one page, from
// several goroutines.
func testScanAllPages(h *harness) {
	h.createInstance()
	h.register("ann")
	h.register("annie") // its tokens must not show among ann's
	const n, workers = 1010, 8
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				id, bearer, err := steward.NewTokenSecret()
				if err != nil {
					h.Error(err)
					return
				}
				if _, err := h.s.Do(h.ctx, steward.IssueToken("ann", id, bearer, fmt.Sprint("t", i), []string{"read"}, time.Hour)); err != nil {
					h.Error(err)
					return
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		})
	}
	id, bearer, _ := steward.NewTokenSecret()
	h.do(steward.IssueToken("annie", id, bearer, "other", []string{"read"}, time.Hour))
	wg.Wait()
	if h.Failed() {
		h.FailNow()
	}
	slices.Sort(ids)
	kvs, err := steward.ScanAll(h.ctx, h.s, "token-of/ann/")
	if err != nil {
		h.Fatal(err)
	}
	var got []string
	for _, kv := range kvs {
		got = append(got, strings.TrimPrefix(kv.Key, "token-of/ann/"))
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		h.Fatalf("ScanAll(token-of/ann/) (-want +got):\n%s", diff)
	}
	ts, err := steward.Tokens(h.ctx, h.s, "ann")
	if err != nil || len(ts) != n {
		h.Fatalf("Tokens(ann) = %d tokens, %v; want %d", len(ts), err, n)
	}
	want := n - 501 // ann's after ids[500], and annie's if it sorts after it
	if id > ids[500] {
		want++
	}
	page, err := h.s.Scan(h.ctx, "token/", "token/"+ids[500], 0)
	if err != nil || len(page) != want {
		h.Errorf("Scan(token/, after ann's 501st) = %d records, %v; want %d", len(page), err, want)
	}
	h.replay()
}

// otherSecret returns bearer with the last character of its secret changed.
func otherSecret(bearer string) string {
	c := byte('A')
	if bearer[len(bearer)-1] == 'A' {
		c = 'B'
	}
	return bearer[:len(bearer)-1] + string(c)
}
