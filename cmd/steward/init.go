package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"steward"
	"steward/charter"
)

func (m *Main) initCmd(ctx context.Context, args []string) error {
	fs := m.flags("init", "[flags] DIR")
	preset := fs.String("preset", "community", "preset charter: "+strings.Join(charter.PresetNames(), ", "))
	charterFile := fs.String("charter", "", "charter file to adopt instead of a preset")
	origin := fs.String("origin", "", "the log's origin (default steward.example/BASENAME-OF-DIR)")
	name := fs.String("name", "", "the instance's name (default: the charter's name)")
	store := fs.String("store", "sqlite", "store: sqlite, sqlite:PATH or a postgres:// URL")
	httpAddr := fs.String("http", defaultHTTP, "address serve listens on by default")
	operator := fs.String("operator", "operator", "handle of the first operator account")
	operatorEmail := fs.String("operator-email", "", "e-mail address of the first operator (default OPERATOR@localhost)")
	demo := fs.Bool("demo", false, "add demo participants in every stakeholder group and seat every body")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("init takes one directory")
	}
	dir := pos[0]
	text, presetName, err := charterText(*preset, *charterFile)
	if err != nil {
		return err
	}
	o := *origin
	if o == "" {
		base := strings.ToLower(filepath.Base(filepath.Clean(dir)))
		o = "steward.example/" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
				return r
			}
			return '-'
		}, base)
	}
	in, err := m.create(ctx, dir, &Config{Origin: o, Store: *store, HTTP: *httpAddr}, *name, presetName, text, setup{
		operator: *operator, operatorEmail: *operatorEmail, demo: *demo,
	})
	if err != nil {
		return err
	}
	return in.Close()
}

// charterText returns the text of a charter file or a preset.
func charterText(preset, file string) ([]byte, string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, "", err
		}
		if _, err := charter.Parse(file, b); err != nil {
			return nil, "", fmt.Errorf("the charter is not valid:\n%w", err)
		}
		return b, "", nil
	}
	b, err := charter.Preset(preset)
	if err != nil {
		return nil, "", usagef("%v", err)
	}
	return b, preset, nil
}

// setup is what create does after the instance exists.
type setup struct {
	operator      string
	operatorEmail string
	demo          bool
}

// create makes an instance, its first operator and, for a demo, its demo
// participants, and reports what it did.
func (m *Main) create(ctx context.Context, dir string, cfg *Config, name, preset string, text []byte, su setup) (*instance, error) {
	c, err := charter.Parse("charter", text)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = c.Name
	}
	in, err := createInstance(ctx, dir, cfg, name, preset, text, openOptions{clock: m.Clock, checkpointInterval: -1})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*instance, error) {
		in.Close()
		return nil, fmt.Errorf("%w (the instance in %s is incomplete: remove it and run init again)", err, dir)
	}
	fmt.Fprintf(m.Stdout, "Created instance %q in %s\n  origin:  %s\n  charter: %s\n  key:     %s\n", name, dir, cfg.Origin, c.Name, in.vkey)

	password := "demo-password"
	if !su.demo {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return fail(err)
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	hash, err := steward.HashPassword(password, m.PasswordParams)
	if err != nil {
		return fail(err)
	}
	email := su.operatorEmail
	if email == "" {
		email = su.operator + "@localhost"
	}
	op := steward.Participant{Handle: su.operator, Name: "Instance operator", Group: c.Groups[0].ID,
		Affiliation: "the operator", Region: c.Regions[0], Languages: []string{"en"}}
	for _, g := range c.Groups {
		if strings.Contains(g.ID, "technical") {
			op.Group = g.ID
		}
	}
	if _, err := in.store.Do(ctx, steward.Register(steward.ActorInit, steward.Registration{Participant: op, Email: email, PasswordHash: hash})); err != nil {
		return fail(fmt.Errorf("operator account: %w", err))
	}
	if _, err := in.store.Do(ctx, steward.GrantRole(steward.ActorInit, steward.Grant{Participant: op.Handle, Role: steward.RoleOperator})); err != nil {
		return fail(err)
	}
	if _, err := in.store.Do(ctx, steward.SeedForum()); err != nil {
		return fail(fmt.Errorf("forum issue catalogue: %w", err))
	}
	if su.demo {
		n, err := seatDemo(ctx, in, c, hash)
		if err != nil {
			return fail(fmt.Errorf("demo participants: %w", err))
		}
		fmt.Fprintf(m.Stdout, "  demo:    %d participants seated in %d bodies; every account's password is %q (operator: %s)\n", n, len(c.Bodies), password, op.Handle)
		if err := demoZone(ctx, in, op.Handle); err != nil {
			return fail(fmt.Errorf("demo root zone: %w", err))
		}
		fmt.Fprintf(m.Stdout, "  root:    a small demo root zone (%s), whose TLDs' contact is %s; replace it with steward import rootzone\n", strings.Join(demoTLDs, ", "), op.Handle)
	} else {
		fmt.Fprintf(m.Stdout, "  operator: %s, password %s (shown once; change it after logging in)\n", op.Handle, password)
	}
	if _, err := in.store.SignCheckpoint(ctx); err != nil {
		return fail(err)
	}
	return in, nil
}

// seatDemo registers demo participants and fills every body's seats, so a
// demo instance shows the charter at work. It returns the number of
// participants registered.
func seatDemo(ctx context.Context, in *instance, c *charter.Charter, hash string) (int, error) {
	type gr struct{ group, region string }
	pool := map[gr][]string{}
	count := 0
	newParticipant := func(k gr) (string, error) {
		n := len(pool[k]) + 1
		handle := fmt.Sprintf("%s-%s-%d", abbrev(k.group), abbrev(k.region), n)
		g, _ := c.Group(k.group)
		p := steward.Participant{Handle: handle, Name: fmt.Sprintf("%s %s %d", g.Name, title(k.region), n),
			Group: k.group, Affiliation: "Demo " + g.Name, Region: k.region, Languages: []string{"en"}}
		if _, err := in.store.Do(ctx, steward.Register(steward.ActorInit, steward.Registration{Participant: p, Email: handle + "@demo.invalid", PasswordHash: hash})); err != nil {
			return "", err
		}
		pool[k] = append(pool[k], handle)
		count++
		return handle, nil
	}
	// At least one participant in every group and region.
	for _, g := range c.Groups {
		for _, r := range c.Regions {
			if _, err := newParticipant(gr{g.ID, r}); err != nil {
				return 0, err
			}
		}
	}
	for bi := range c.Bodies {
		b := &c.Bodies[bi]
		seated := map[string]bool{}
		var voting []string
		for _, s := range b.Seats {
			regions := []string{s.Region}
			if s.Region == charter.AnyRegion {
				regions = c.Regions
			}
			want := s.Count
			if b.Open {
				want = len(regions) // a few members of each open seat
			}
			for i := 0; i < want; i++ {
				k := gr{s.Group, regions[i%len(regions)]}
				handle := ""
				for _, h := range pool[k] {
					if !seated[h] {
						handle = h
						break
					}
				}
				if handle == "" {
					var err error
					if handle, err = newParticipant(k); err != nil {
						return 0, err
					}
				}
				if _, err := in.store.Do(ctx, steward.SeatMember(steward.ActorInit, b.ID, handle, string(s.Capacity))); err != nil {
					return 0, fmt.Errorf("seat %s in %s: %w", handle, b.ID, err)
				}
				seated[handle] = true
				if s.Capacity == charter.CapacityVoting {
					voting = append(voting, handle)
				}
			}
		}
		if b.Rule != nil && len(voting) > 0 {
			if _, err := in.store.Do(ctx, steward.SetChair(steward.ActorInit, b.ID, voting[0])); err != nil {
				return 0, err
			}
		}
	}
	return count, nil
}

// abbrev shortens an id for demo handles: "latin-america-caribbean" → "lac".
func abbrev(id string) string {
	parts := strings.Split(id, "-")
	if len(parts) == 1 {
		if len(id) > 4 {
			return id[:4]
		}
		return id
	}
	var b strings.Builder
	for _, p := range parts {
		if p != "" {
			b.WriteByte(p[0])
		}
	}
	return b.String()
}

func title(id string) string {
	parts := strings.Split(id, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

// demoTLDs are the TLDs of a demo instance's root zone.
var demoTLDs = []string{"demonet", "labnet", "meshnet"}

// demoZone gives a demo instance a small root zone, served by steward
// itself on loopback, with TLDs whose name servers are on documentation
// addresses, and makes the operator their contact: enough to follow change
// requests through to publication.
func demoZone(ctx context.Context, in *instance, contact string) error {
	imp := steward.RootZoneImport{Apex: steward.Apex{
		MName: "a.root.steward.localhost.", RName: "hostmaster.steward.localhost.",
		Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400, SOATTL: 86400,
		NS: []string{"a.root.steward.localhost."}, NSTTL: 518400, DelegationTTL: 172800, DSTTL: 86400,
		Glue: []steward.Glue{{Name: "a.root.steward.localhost.", Addrs: []string{"127.0.0.1"}}},
	}}
	for i, t := range demoTLDs {
		imp.TLDs = append(imp.TLDs, steward.TLD{Name: t, NS: []string{"ns1.nic." + t + ".", "ns2.nic." + t + "."}, Glue: []steward.Glue{
			{Name: "ns1.nic." + t + ".", Addrs: []string{fmt.Sprintf("192.0.2.%d", 10+i), fmt.Sprintf("2001:db8::%d:1", 10+i)}},
			{Name: "ns2.nic." + t + ".", Addrs: []string{fmt.Sprintf("198.51.100.%d", 10+i)}},
		}})
	}
	if _, err := in.store.Do(ctx, steward.ImportRootZone(steward.ActorImport, imp)); err != nil {
		return err
	}
	for _, t := range demoTLDs {
		if _, err := in.store.Do(ctx, steward.GrantRole(steward.ActorInit, steward.Grant{Participant: contact, Role: steward.RoleResourceContact, Scope: steward.TLDScope(t)})); err != nil {
			return err
		}
	}
	return nil
}
