package steward

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// TLD is the registry's record of a top-level domain's delegation: its name
// servers, the glue addresses of those inside the root zone's bailiwick, its
// DS records, and who manages it.
type TLD struct {
	Name    string    `json:"name"` // lower-case A-label without the trailing dot: "org", "xn--p1ai"
	NS      []string  `json:"ns"`   // name server names, fully qualified, lower case, sorted
	Glue    []Glue    `json:"glue,omitempty"`
	DS      []DS      `json:"ds,omitempty"`
	Manager string    `json:"manager,omitempty"` // the organisation that manages the TLD
	Updated time.Time `json:"updated,omitzero"`
}

// Glue holds the addresses of a name server, published in the parent zone.
type Glue struct {
	Name  string   `json:"name"`  // fully qualified, lower case
	Addrs []string `json:"addrs"` // IPv4 and IPv6 addresses, canonical text, sorted
}

// DS is a delegation signer record (RFC 4034 §5).
type DS struct {
	KeyTag     uint16 `json:"key_tag"`
	Algorithm  uint8  `json:"algorithm"`
	DigestType uint8  `json:"digest_type"`
	Digest     string `json:"digest"` // upper-case hex
}

// Apex is what the root zone says of itself: its SOA fields, its name
// servers and their glue, and the TTLs it gives delegations.
type Apex struct {
	MName   string   `json:"mname"`
	RName   string   `json:"rname"`
	Refresh uint32   `json:"refresh"`
	Retry   uint32   `json:"retry"`
	Expire  uint32   `json:"expire"`
	Minimum uint32   `json:"minimum"`
	SOATTL  uint32   `json:"soa_ttl"`
	NS      []string `json:"ns"`
	NSTTL   uint32   `json:"ns_ttl"`
	Glue    []Glue   `json:"glue,omitempty"`
	// TTLs of delegation records.
	DelegationTTL uint32 `json:"delegation_ttl"` // NS and glue
	DSTTL         uint32 `json:"ds_ttl"`
}

var (
	labelRE = regexp.MustCompile(`^(?:[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?|xn--[a-z0-9-]{1,59})$`)
	hostRE  = regexp.MustCompile(`^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+$`)
)

// ValidTLDName reports whether name may be a TLD: an LDH label that starts
// with a letter, or an IDN A-label (xn--), lower case, 63 characters at most.
// All-numeric labels and hyphens at the ends are refused.
func ValidTLDName(name string) bool {
	return len(name) <= 63 && labelRE.MatchString(name) && !(len(name) >= 4 && name[2:4] == "--" && !strings.HasPrefix(name, "xn--"))
}

// validHost checks a fully qualified name server name.
func validHost(h string) bool { return len(h) <= 254 && hostRE.MatchString(h) }

// Normalize lowers and sorts the TLD's data so that equal delegations have
// equal records, then validates it.
func (t *TLD) Normalize() error {
	t.Name = strings.ToLower(strings.TrimSuffix(t.Name, "."))
	if !ValidTLDName(t.Name) {
		return Errorf(EINVALID, "TLD %q: want a lower-case LDH label or an xn-- A-label of at most 63 characters", t.Name)
	}
	if len(t.NS) == 0 || len(t.NS) > 13 {
		return Errorf(EINVALID, "TLD %s: give 1 to 13 name servers", t.Name)
	}
	for i, ns := range t.NS {
		ns = strings.ToLower(ns)
		if !strings.HasSuffix(ns, ".") {
			ns += "."
		}
		if !validHost(ns) {
			return Errorf(EINVALID, "TLD %s: name server %q is not a valid host name", t.Name, t.NS[i])
		}
		t.NS[i] = ns
	}
	slices.Sort(t.NS)
	if len(slices.Compact(slices.Clone(t.NS))) != len(t.NS) {
		return Errorf(EINVALID, "TLD %s: a name server is listed twice", t.Name)
	}
	glue, err := normalizeGlue(t.Glue)
	if err != nil {
		return Errorf(EINVALID, "TLD %s: %v", t.Name, err)
	}
	t.Glue = glue
	for _, g := range t.Glue {
		if !slices.Contains(t.NS, g.Name) {
			return Errorf(EINVALID, "TLD %s: glue for %s, which is not one of its name servers", t.Name, g.Name)
		}
	}
	for i := range t.DS {
		d := &t.DS[i]
		b, err := hex.DecodeString(d.Digest)
		if err != nil || len(b) == 0 {
			return Errorf(EINVALID, "TLD %s: DS %d has a digest that is not hex", t.Name, d.KeyTag)
		}
		want := map[uint8]int{1: 20, 2: 32, 4: 48}[d.DigestType]
		if want == 0 {
			return Errorf(EINVALID, "TLD %s: DS %d has digest type %d; want 1 (SHA-1), 2 (SHA-256) or 4 (SHA-384)", t.Name, d.KeyTag, d.DigestType)
		}
		if len(b) != want {
			return Errorf(EINVALID, "TLD %s: DS %d digest is %d bytes, digest type %d has %d", t.Name, d.KeyTag, len(b), d.DigestType, want)
		}
		d.Digest = strings.ToUpper(d.Digest)
	}
	slices.SortFunc(t.DS, func(a, b DS) int {
		return strings.Compare(fmt.Sprintf("%05d %03d %03d %s", a.KeyTag, a.Algorithm, a.DigestType, a.Digest), fmt.Sprintf("%05d %03d %03d %s", b.KeyTag, b.Algorithm, b.DigestType, b.Digest))
	})
	return nil
}

func normalizeGlue(in []Glue) ([]Glue, error) {
	out := make([]Glue, 0, len(in))
	for _, g := range in {
		name := strings.ToLower(g.Name)
		if !strings.HasSuffix(name, ".") {
			name += "."
		}
		if !validHost(name) {
			return nil, fmt.Errorf("glue name %q is not a valid host name", g.Name)
		}
		if len(g.Addrs) == 0 {
			return nil, fmt.Errorf("glue for %s has no address", name)
		}
		addrs := make([]string, 0, len(g.Addrs))
		for _, a := range g.Addrs {
			ip, err := netip.ParseAddr(a)
			if err != nil || ip.Zone() != "" {
				return nil, fmt.Errorf("glue for %s: %q is not an IP address", name, a)
			}
			addrs = append(addrs, ip.Unmap().String())
		}
		slices.Sort(addrs)
		out = append(out, Glue{Name: name, Addrs: slices.Compact(addrs)})
	}
	slices.SortFunc(out, func(a, b Glue) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("glue for %s is given twice", out[i].Name)
		}
	}
	return out, nil
}

// Normalize lowers, sorts and validates the apex.
func (a *Apex) Normalize() error {
	if len(a.NS) == 0 {
		return Errorf(EINVALID, "the apex needs name servers")
	}
	for i, ns := range a.NS {
		ns = strings.ToLower(ns)
		if !validHost(ns) {
			return Errorf(EINVALID, "apex name server %q is not a fully qualified host name", ns)
		}
		a.NS[i] = ns
	}
	slices.Sort(a.NS)
	a.MName, a.RName = strings.ToLower(a.MName), strings.ToLower(a.RName)
	if !validHost(a.MName) || !validHost(a.RName) {
		return Errorf(EINVALID, "SOA mname %q or rname %q is not a fully qualified name", a.MName, a.RName)
	}
	glue, err := normalizeGlue(a.Glue)
	if err != nil {
		return Errorf(EINVALID, "apex: %v", err)
	}
	a.Glue = glue
	return nil
}

func tldKey(name string) string { return "tld/" + name }

const keyApex = "zone/apex"

type tldRemoved struct {
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

func init() {
	put := func(ctx context.Context, w StateWriter, e *Event, t *TLD) error {
		t.Updated = e.Time
		return PutJSON(ctx, w, tldKey(t.Name), t)
	}
	register("tld.delegated", applyJSON(func(ctx context.Context, w StateWriter, e *Event, t *TLD) error {
		if err := mustNotExist(ctx, w, tldKey(t.Name)); err != nil {
			return err
		}
		return put(ctx, w, e, t)
	}))
	register("tld.changed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, t *TLD) error {
		if _, err := w.Get(ctx, tldKey(t.Name)); err != nil {
			return fmt.Errorf("TLD %s: %w", t.Name, err)
		}
		return put(ctx, w, e, t)
	}))
	register("tld.removed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, r *tldRemoved) error {
		if _, err := w.Get(ctx, tldKey(r.Name)); err != nil {
			return fmt.Errorf("TLD %s: %w", r.Name, err)
		}
		return w.Delete(ctx, tldKey(r.Name))
	}))
	register("zone.apex-set", applyJSON(func(ctx context.Context, w StateWriter, e *Event, a *Apex) error {
		return PutJSON(ctx, w, keyApex, a)
	}))
}

// LoadTLD reads a TLD, or returns ENOTFOUND naming it.
func LoadTLD(ctx context.Context, r StateReader, name string) (*TLD, error) {
	return loadJSON[TLD](ctx, r, tldKey(name), func() error { return Errorf(ENOTFOUND, "no TLD %q", name) })
}

// ListTLDs returns up to limit TLDs after the name after, in name order.
func ListTLDs(ctx context.Context, r StateReader, after string, limit int) ([]TLD, error) {
	kvs, err := r.Scan(ctx, "tld/", afterKey("tld/", after), limit)
	if err != nil {
		return nil, err
	}
	return decodeAll[TLD](kvs)
}

// LoadApex reads the zone apex, or ENOTFOUND before one is set.
func LoadApex(ctx context.Context, r StateReader) (*Apex, error) {
	var a Apex
	if err := GetJSON(ctx, r, keyApex, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// RootZoneImport is the content of a root zone file, as the registry holds
// it: the apex and every delegation.
type RootZoneImport struct {
	Apex Apex
	TLDs []TLD
}

// ImportCounts says what an import changed.
type ImportCounts struct {
	Added     int  `json:"added"`
	Changed   int  `json:"changed"`
	Removed   int  `json:"removed"`
	Unchanged int  `json:"unchanged"`
	ApexSet   bool `json:"apex_set"`
}

// ImportRootZone returns the command that makes the registry hold exactly
// the delegations of a root zone file: TLDs in the file and not in the
// registry are delegated, those that differ are changed, those no longer in
// the file are removed. Importing the same file again changes nothing. Only
// an operator (or the import actor) may import.
func ImportRootZone(actor string, imp RootZoneImport) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if actor != ActorImport {
			if err := requireOperator(ctx, tx, actor, "import a root zone"); err != nil {
				return nil, err
			}
		}
		apex := imp.Apex
		apex.NS, apex.Glue = slices.Clone(apex.NS), slices.Clone(apex.Glue)
		if err := apex.Normalize(); err != nil {
			return nil, err
		}
		var c ImportCounts
		if cur, err := LoadApex(ctx, tx); err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		} else if err != nil || !equalJSON(cur, &apex) {
			if _, err := tx.Emit(ctx, actor, "zone.apex-set", apex); err != nil {
				return nil, err
			}
			c.ApexSet = true
		}
		seen := map[string]bool{}
		for _, t := range imp.TLDs {
			t.NS, t.Glue, t.DS = slices.Clone(t.NS), slices.Clone(t.Glue), slices.Clone(t.DS)
			if err := t.Normalize(); err != nil {
				return nil, err
			}
			if seen[t.Name] {
				return nil, Errorf(EINVALID, "TLD %s appears twice", t.Name)
			}
			seen[t.Name] = true
			cur, err := LoadTLD(ctx, tx, t.Name)
			switch {
			case ErrorCode(err) == ENOTFOUND:
				if _, err := tx.Emit(ctx, actor, "tld.delegated", t); err != nil {
					return nil, err
				}
				c.Added++
			case err != nil:
				return nil, err
			default:
				t.Manager = cur.Manager // a zone file does not say who manages a TLD
				t.Updated = time.Time{}
				cur.Updated = time.Time{}
				if equalJSON(cur, &t) {
					c.Unchanged++
					continue
				}
				if _, err := tx.Emit(ctx, actor, "tld.changed", t); err != nil {
					return nil, err
				}
				c.Changed++
			}
		}
		all, err := ScanAll(ctx, tx, "tld/")
		if err != nil {
			return nil, err
		}
		for _, kv := range all {
			name := strings.TrimPrefix(kv.Key, "tld/")
			if !seen[name] {
				if _, err := tx.Emit(ctx, actor, "tld.removed", tldRemoved{Name: name, Reason: "not in the imported root zone"}); err != nil {
					return nil, err
				}
				c.Removed++
			}
		}
		return &c, nil
	}
}

func equalJSON(a, b any) bool {
	x, err1 := canonicalOf(a)
	y, err2 := canonicalOf(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
