package steward

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Number events. Every family has the same five kinds, named block.* for
// address blocks and asn.* for AS numbers (see docs/ledger.md):
//
//	recorded   blocks enter the registry as a registry publishes them (imports)
//	updated    recorded blocks change holder, status, country, date or contacts
//	removed    blocks leave the registry (no longer published)
//	allocated  a registry delegates a block, from its available pool if any
//	returned   a block goes back to its registry's pool (returned or recovered)
//
// Appliers check each block on its own (its syntax, that it exists or not,
// that an allocation lies in the pool it comes from); the commands check a
// change against the whole family (nesting, overlaps) before emitting it.

// BlocksPayload is the payload of the recorded and updated events.
type BlocksPayload struct {
	Source string  `json:"source,omitempty"` // where the records come from: "rir-stats:ripencc", "iana:ipv4-address-space"
	Blocks []Block `json:"blocks"`
}

// RemovedPayload is the payload of the removed events.
type RemovedPayload struct {
	Source string     `json:"source,omitempty"`
	Reason string     `json:"reason,omitempty"`
	Blocks []BlockRef `json:"blocks"`
}

// AllocatedPayload is the payload of the allocated events: the new block,
// the available record it was carved from (if any) and what remains of that
// record, as available blocks of the same registry.
type AllocatedPayload struct {
	Block     Block     `json:"block"`
	From      *BlockRef `json:"from,omitempty"`
	Remainder []Block   `json:"remainder,omitempty"`
}

// ReturnedPayload is the payload of the returned events. Recovered says the
// registry took the block back (rather than the holder giving it back).
type ReturnedPayload struct {
	Block     BlockRef `json:"block"`
	Reason    string   `json:"reason,omitempty"`
	Recovered bool     `json:"recovered,omitempty"`
}

// eventKind returns the kind of a number event for the family: block.VERB
// for addresses, asn.VERB for AS numbers.
func eventKind(family, verb string) string {
	if family == FamilyASN {
		return "asn." + verb
	}
	return "block." + verb
}

func checkFamily(kind, family string) error {
	if (strings.HasPrefix(kind, "asn.")) != (family == FamilyASN) {
		return fmt.Errorf("%s event carries a %s block", kind, family)
	}
	return nil
}

// putNewBlock normalizes and writes a block that must not exist yet.
func putNewBlock(ctx context.Context, w StateWriter, e *Event, b *Block) error {
	if err := checkFamily(e.Kind, b.Family); err != nil {
		return err
	}
	if err := b.Normalize(); err != nil {
		return err
	}
	if len(b.Events) != 0 {
		return fmt.Errorf("block %s: events are the applier's to set", b.Label())
	}
	key := b.Key()
	if err := mustNotExist(ctx, w, key); err != nil {
		return err
	}
	b.Events = []int64{e.Seq}
	return putBlock(ctx, w, b)
}

func init() {
	for _, prefix := range []string{"block.", "asn."} {
		register(prefix+"recorded", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *BlocksPayload) error {
			for i := range p.Blocks {
				if err := putNewBlock(ctx, w, e, &p.Blocks[i]); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"updated", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *BlocksPayload) error {
			for i := range p.Blocks {
				b := &p.Blocks[i]
				if err := checkFamily(e.Kind, b.Family); err != nil {
					return err
				}
				if err := b.Normalize(); err != nil {
					return err
				}
				old, err := LoadBlock(ctx, w, b.Key())
				if err != nil {
					return err
				}
				b.Events = append(old.Events, e.Seq)
				if err := putBlock(ctx, w, b); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"removed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *RemovedPayload) error {
			for _, r := range p.Blocks {
				if err := checkFamily(e.Kind, r.Family); err != nil {
					return err
				}
				key := r.Key()
				if _, err := LoadBlock(ctx, w, key); err != nil {
					return err
				}
				if err := w.Delete(ctx, key); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"allocated", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *AllocatedPayload) error {
			b := &p.Block
			if err := checkFamily(e.Kind, b.Family); err != nil {
				return err
			}
			if err := b.Normalize(); err != nil {
				return err
			}
			if p.From == nil {
				if len(p.Remainder) > 0 {
					return fmt.Errorf("a remainder without the pool it remains of")
				}
				return putNewBlock(ctx, w, e, b)
			}
			from, err := LoadBlock(ctx, w, p.From.Key())
			if err != nil {
				return err
			}
			if from.Status != StatusAvailable || from.Registry != b.Registry || from.Family != b.Family {
				return fmt.Errorf("block %s comes from %s, which is not %s's available space", b.Label(), from.Label(), b.Registry)
			}
			// The new block and the remainder tile the pool exactly.
			pool := from.Span()
			parts := []*Block{b}
			total := b.Span().Size()
			for i := range p.Remainder {
				r := &p.Remainder[i]
				if err := r.Normalize(); err != nil {
					return err
				}
				if r.Registry != b.Registry || r.Status != StatusAvailable || r.Family != b.Family {
					return fmt.Errorf("remainder %s is not %s's available space", r.Label(), b.Registry)
				}
				parts = append(parts, r)
				total = total.Add(r.Span().Size())
			}
			for _, x := range parts {
				if !pool.Contains(x.Span()) {
					return fmt.Errorf("%s lies outside the pool %s", x.Label(), from.Label())
				}
			}
			if err := CheckNesting(parts); err != nil {
				return err
			}
			if total != pool.Size() {
				return fmt.Errorf("the allocation and the remainder do not cover the pool %s exactly", from.Label())
			}
			if err := w.Delete(ctx, from.Key()); err != nil {
				return err
			}
			for _, x := range parts {
				if err := putNewBlock(ctx, w, e, x); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"returned", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *ReturnedPayload) error {
			if err := checkFamily(e.Kind, p.Block.Family); err != nil {
				return err
			}
			b, err := LoadBlock(ctx, w, p.Block.Key())
			if err != nil {
				return err
			}
			if b.Status == StatusAvailable {
				return fmt.Errorf("block %s is available already", b.Label())
			}
			returnToPool(b, e.Time)
			b.Events = append(b.Events, e.Seq)
			return putBlock(ctx, w, b)
		}))
	}
	register("block.iana-registry", applyJSON(func(ctx context.Context, w StateWriter, e *Event, r *IANARegistry) error {
		if !registryRE.MatchString(r.ID) {
			return fmt.Errorf("IANA registry id %q", r.ID)
		}
		return PutJSON(ctx, w, ianaKey(r.ID), r)
	}))
	register("block.stats-header", applyJSON(func(ctx context.Context, w StateWriter, e *Event, h *StatsHeader) error {
		if !registryRE.MatchString(h.Registry) {
			return fmt.Errorf("statistics header: registry %q", h.Registry)
		}
		return PutJSON(ctx, w, statsKey(h.Registry), h)
	}))
}

// returnToPool clears what a returned block says of its holder: it becomes
// available space of the registry that recorded it.
func returnToPool(b *Block, t time.Time) {
	b.Status = StatusAvailable
	b.Holder, b.Country, b.Name, b.Date = "", "", "", ""
	b.Contacts, b.Ext = nil, nil
	if b.IANA != nil {
		b.IANA.Raw = ""
		b.IANA.Status = "AVAILABLE"
		b.IANA.Designation = "Returned to IANA " + t.Format("2006-01-02")
		b.IANA.Whois, b.IANA.RDAP = "", nil
	}
}

// canAdminNumbers checks that actor may change the number registry: an
// operator, or the import actor.
func canAdminNumbers(ctx context.Context, r StateReader, actor, what string) error {
	if actor == ActorImport {
		return nil
	}
	return requireOperator(ctx, r, actor, what)
}

// maxPayloadBytes bounds the blocks put in one event, well under
// MaxEventSize.
const maxPayloadBytes = 48 << 10

// emitBlocks emits the blocks in as many events of kind verb as needed to
// keep each under the ledger's entry size.
func emitBlocks(ctx context.Context, tx Tx, actor, verb, source string, blocks []Block) error {
	for _, fam := range Families {
		var batch []Block
		size := 0
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			_, err := tx.Emit(ctx, actor, eventKind(fam, verb), BlocksPayload{Source: source, Blocks: batch})
			batch, size = nil, 0
			return err
		}
		for _, b := range blocks {
			if b.Family != fam {
				continue
			}
			n := approxSize(&b)
			if size+n > maxPayloadBytes {
				if err := flush(); err != nil {
					return err
				}
			}
			batch = append(batch, b)
			size += n
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

func emitRemoved(ctx context.Context, tx Tx, actor, source, reason string, refs []BlockRef) error {
	for _, fam := range Families {
		var batch []BlockRef
		size := 0
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			_, err := tx.Emit(ctx, actor, eventKind(fam, "removed"), RemovedPayload{Source: source, Reason: reason, Blocks: batch})
			batch, size = nil, 0
			return err
		}
		for _, r := range refs {
			if r.Family != fam {
				continue
			}
			n := 120 + len(r.First) + len(r.Last) + len(r.Registry)
			if size+n > maxPayloadBytes {
				if err := flush(); err != nil {
					return err
				}
			}
			batch = append(batch, r)
			size += n
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

// approxSize bounds the encoded size of a block in a payload, with JSON
// escaping at its worst.
func approxSize(b *Block) int {
	n := 200 + len(b.First) + len(b.Last) + len(b.Registry) + len(b.Holder) + len(b.Country) + len(b.Date) + 6*len(b.Name)
	for _, c := range b.Contacts {
		n += 40 + 6*len(c.Handle)
	}
	for _, x := range b.Ext {
		n += 4 + 6*len(x)
	}
	if b.IANA != nil {
		i := b.IANA
		n += 200 + 6*(len(i.Registry)+len(i.Prefix)+len(i.Designation)+len(i.Status)+len(i.Date)+len(i.Whois))
		for _, s := range i.RDAP {
			n += 6 * (len(s) + 4)
		}
		for _, s := range i.Xrefs {
			n += 6 * (len(s) + 4)
		}
	}
	return n
}

// RecordCounts says what a number import or record command changed.
type RecordCounts struct {
	Added     int `json:"added"`
	Changed   int `json:"changed"`
	Removed   int `json:"removed"`
	Unchanged int `json:"unchanged"`
}

// SyncBlocks returns the command that makes the registry hold exactly the
// given blocks among those recorded by the registries in scope, for the
// families in families: blocks not yet held are recorded, those that
// differ are updated, those held but not given are removed. The final set
// of every family is checked for nesting and overlaps against all other
// registries' blocks before anything is emitted. Syncing the same blocks
// again changes nothing. Used by the statistics and IANA imports.
func SyncBlocks(actor, source string, scope func(*Block) bool, families []string, blocks []Block) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := canAdminNumbers(ctx, tx, actor, "import number resources"); err != nil {
			return nil, err
		}
		var c RecordCounts
		add := make([]Block, 0, len(blocks))
		var change []Block
		var remove []BlockRef
		for _, fam := range families {
			existing, err := LoadBlocks(ctx, tx, fam)
			if err != nil {
				return nil, err
			}
			have := make(map[string]*Block, len(existing))
			final := make([]*Block, 0, len(existing)+len(blocks))
			for _, b := range existing {
				if scope(b) {
					have[b.Key()] = b
				} else {
					final = append(final, b)
				}
			}
			seen := make(map[string]bool)
			for i := range blocks {
				b := blocks[i]
				if b.Family != fam {
					continue
				}
				b.Contacts, b.Ext = slices.Clone(b.Contacts), slices.Clone(b.Ext)
				if err := b.Normalize(); err != nil {
					return nil, err
				}
				b.Events = nil
				if !scope(&b) {
					return nil, Errorf(EINVALID, "block %s (%s) is outside what this import may change", b.Label(), b.Registry)
				}
				key := b.Key()
				if seen[key] {
					return nil, Errorf(EINVALID, "%s block %s is given twice for %s", fam, b.Label(), b.Registry)
				}
				seen[key] = true
				final = append(final, &b)
				old, ok := have[key]
				switch {
				case !ok:
					add = append(add, b)
					c.Added++
				case sameBlock(old, &b):
					c.Unchanged++
				default:
					change = append(change, b)
					c.Changed++
				}
			}
			for key, b := range have {
				if !seen[key] {
					remove = append(remove, b.Ref())
					c.Removed++
				}
			}
			if err := CheckNesting(final); err != nil {
				return nil, err
			}
		}
		slices.SortFunc(remove, func(a, b BlockRef) int { return strings.Compare(a.Key(), b.Key()) })
		if err := emitRemoved(ctx, tx, actor, source, "no longer published by "+source, remove); err != nil {
			return nil, err
		}
		if err := emitBlocks(ctx, tx, actor, "updated", source, change); err != nil {
			return nil, err
		}
		if err := emitBlocks(ctx, tx, actor, "recorded", source, add); err != nil {
			return nil, err
		}
		return &c, nil
	}
}

// sameBlock reports whether two records say the same, ignoring history.
func sameBlock(a, b *Block) bool {
	x, y := *a, *b
	x.Events, y.Events = nil, nil
	return equalJSON(&x, &y)
}

// blockJSON is a Block with its members in key order, so that
// encoding/json writes its canonical encoding directly (see putBlock).
type blockJSON struct {
	Contacts []Contact      `json:"contacts,omitempty"`
	Country  string         `json:"country,omitempty"`
	Date     string         `json:"date,omitempty"`
	Events   []int64        `json:"events,omitempty"`
	Ext      []string       `json:"ext,omitempty"`
	Family   string         `json:"family"`
	First    string         `json:"first"`
	Holder   string         `json:"holder,omitempty"`
	IANA     *ianaEntryJSON `json:"iana,omitempty"`
	Last     string         `json:"last"`
	Name     string         `json:"name,omitempty"`
	Registry string         `json:"registry"`
	Status   string         `json:"status"`
}

type ianaEntryJSON struct {
	Date        string   `json:"date,omitempty"`
	Designation string   `json:"designation,omitempty"`
	Notes       string   `json:"notes,omitempty"`
	Prefix      string   `json:"prefix"`
	Raw         string   `json:"raw,omitempty"`
	RDAP        []string `json:"rdap,omitempty"`
	Registry    string   `json:"registry"`
	Status      string   `json:"status,omitempty"`
	Whois       string   `json:"whois,omitempty"`
	Xrefs       []string `json:"xrefs,omitempty"`
}

// canonicalBlock returns the canonical JSON of a block without the generic
// re-encoding CanonicalJSON does (a test checks they agree).
func canonicalBlock(b *Block) ([]byte, error) {
	j := blockJSON{Contacts: b.Contacts, Country: b.Country, Date: b.Date, Events: b.Events, Ext: b.Ext, Family: b.Family, First: b.First,
		Holder: b.Holder, Last: b.Last, Name: b.Name, Registry: b.Registry, Status: b.Status}
	if e := b.IANA; e != nil {
		j.IANA = &ianaEntryJSON{Date: e.Date, Designation: e.Designation, Notes: e.Notes, Prefix: e.Prefix, Raw: e.Raw, RDAP: e.RDAP,
			Registry: e.Registry, Status: e.Status, Whois: e.Whois, Xrefs: e.Xrefs}
	}
	return json.Marshal(&j)
}

// putBlock writes a block at its key.
func putBlock(ctx context.Context, w StateWriter, b *Block) error {
	data, err := canonicalBlock(b)
	if err != nil {
		return err
	}
	return w.Put(ctx, b.Key(), data)
}
