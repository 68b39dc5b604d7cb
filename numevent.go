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

// LinesPayload is the payload of the lines-recorded events: new blocks of
// one family recorded by one registry, one line each (see numline.go),
// each line ended by a line break. Imports use it: it costs far less to
// write and read than BlocksPayload's JSON.
type LinesPayload struct {
	Source   string `json:"source,omitempty"`
	Family   string `json:"family"`
	Registry string `json:"registry"`
	Lines    string `json:"lines"`
}

// Blocks returns the payload's blocks, as the lines give them (not yet
// normalized).
func (p *LinesPayload) Blocks() ([]*Block, error) {
	return parseBlockLines(p.Family, p.Registry, p.Lines, false)
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

// putNewBlock normalizes and writes a block that must not exist yet: in a
// chunk record (inChunk) or in a record of its own at its key.
func putNewBlock(ctx context.Context, set *blockSet, e *Event, b *Block, inChunk bool) error {
	if err := checkFamily(e.Kind, b.Family); err != nil {
		return err
	}
	if err := b.Normalize(); err != nil {
		return err
	}
	if len(b.Events) != 0 {
		return fmt.Errorf("block %s: events are the applier's to set", b.Label())
	}
	b.Events = []int64{e.Seq}
	return set.put(ctx, b, true, inChunk)
}

// applyBlocks is the common shape of the block appliers: they change blocks
// through a blockSet, whose chunks are written once at the end.
func applyBlocks[T any](f func(ctx context.Context, set *blockSet, e *Event, p *T) error) applier {
	return applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *T) error {
		set := newBlockSet(w)
		if err := f(ctx, set, e, p); err != nil {
			return err
		}
		return set.flush(ctx, w)
	})
}

func init() {
	for _, prefix := range []string{"block.", "asn."} {
		register(prefix+"recorded", applyBlocks(func(ctx context.Context, set *blockSet, e *Event, p *BlocksPayload) error {
			for i := range p.Blocks {
				if err := putNewBlock(ctx, set, e, &p.Blocks[i], false); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"lines-recorded", applyBlocks(func(ctx context.Context, set *blockSet, e *Event, p *LinesPayload) error {
			if !registryRE.MatchString(p.Registry) {
				return fmt.Errorf("registry %q", p.Registry)
			}
			if p.Lines == "" {
				return fmt.Errorf("no blocks")
			}
			bs, err := p.Blocks()
			if err != nil {
				return err
			}
			// The blocks are checked first, then the records of their own
			// in the range they cover are read at once (none of the new
			// blocks may be one of them), then the blocks written.
			var lo, hi Uint128
			for i, b := range bs {
				if err := checkFamily(e.Kind, b.Family); err != nil {
					return err
				}
				if err := b.Normalize(); err != nil {
					return err
				}
				sp := b.Span()
				if i == 0 || sp.First.Less(lo) {
					lo = sp.First
				}
				if i == 0 || hi.Less(sp.First) {
					hi = sp.First
				}
			}
			if err := set.scanRows(ctx, p.Family, Span{lo, hi}); err != nil {
				return err
			}
			for _, b := range bs {
				b.Events = []int64{e.Seq}
				if err := set.put(ctx, b, true, true); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"updated", applyBlocks(func(ctx context.Context, set *blockSet, e *Event, p *BlocksPayload) error {
			for i := range p.Blocks {
				b := &p.Blocks[i]
				if err := checkFamily(e.Kind, b.Family); err != nil {
					return err
				}
				if err := b.Normalize(); err != nil {
					return err
				}
				old, err := set.load(ctx, b.Key())
				if err != nil {
					return err
				}
				b.Events = append(slices.Clip(old.Events), e.Seq)
				if err := set.put(ctx, b, false, false); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"removed", applyBlocks(func(ctx context.Context, set *blockSet, e *Event, p *RemovedPayload) error {
			for _, r := range p.Blocks {
				if err := checkFamily(e.Kind, r.Family); err != nil {
					return err
				}
				key := r.Key()
				if key == "" {
					return fmt.Errorf("%s %s-%s is not a valid block", r.Family, r.First, r.Last)
				}
				if err := set.del(ctx, key); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"allocated", applyBlocks(func(ctx context.Context, set *blockSet, e *Event, p *AllocatedPayload) error {
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
				return putNewBlock(ctx, set, e, b, false)
			}
			fromKey := p.From.Key()
			if fromKey == "" {
				return fmt.Errorf("%s %s-%s is not a valid block", p.From.Family, p.From.First, p.From.Last)
			}
			from, err := set.load(ctx, fromKey)
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
			if err := set.del(ctx, fromKey); err != nil {
				return err
			}
			for _, x := range parts {
				if err := putNewBlock(ctx, set, e, x, false); err != nil {
					return err
				}
			}
			return nil
		}))
		register(prefix+"returned", applyBlocks(func(ctx context.Context, set *blockSet, e *Event, p *ReturnedPayload) error {
			if err := checkFamily(e.Kind, p.Block.Family); err != nil {
				return err
			}
			key := p.Block.Key()
			if key == "" {
				return fmt.Errorf("%s %s-%s is not a valid block", p.Block.Family, p.Block.First, p.Block.Last)
			}
			old, err := set.load(ctx, key)
			if err != nil {
				return err
			}
			if old.Status == StatusAvailable {
				return fmt.Errorf("block %s is available already", old.Label())
			}
			b := *old
			if old.IANA != nil {
				iana := *old.IANA
				b.IANA = &iana
			}
			returnToPool(&b, e.Time)
			b.Events = append(slices.Clip(old.Events), e.Seq)
			return set.put(ctx, &b, false, false)
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

// emitRecorded emits the recording of new blocks: those with a line form
// (see numline.go) as lines-recorded events, by family and registry in key
// order, the others as recorded events.
func emitRecorded(ctx context.Context, tx Tx, actor, source string, blocks []*Block) error {
	var other []Block
	type group struct{ family, registry string }
	groups := map[group][]chunkEntry{}
	var order []group
	for _, b := range blocks {
		if !lineable(b) || len(b.Events) > 0 {
			other = append(other, *b)
			continue
		}
		g := group{b.Family, b.Registry}
		if groups[g] == nil {
			order = append(order, g)
		}
		groups[g] = append(groups[g], chunkEntry{b, b.Span()})
	}
	slices.SortFunc(order, func(a, b group) int {
		if c := slices.Index(Families, a.family) - slices.Index(Families, b.family); c != 0 {
			return c
		}
		return strings.Compare(a.registry, b.registry)
	})
	for _, g := range order {
		es := groups[g]
		slices.SortFunc(es, func(a, b chunkEntry) int { return cmpEntry(a, b.s.First, b.s.Last) })
		var lines []byte
		size := 0
		flush := func() error {
			if len(lines) == 0 {
				return nil
			}
			_, err := tx.Emit(ctx, actor, eventKind(g.family, "lines-recorded"), LinesPayload{Source: source, Family: g.family, Registry: g.registry, Lines: string(lines)})
			lines, size = lines[:0], 0
			return err
		}
		for _, e := range es {
			n := len(lines)
			lines = appendBlockLine(lines, e.b, false)
			lines = append(lines, '\n')
			// The line's size in the payload, with JSON escaping at its
			// worst (\u00XX) for the characters it escapes.
			sz := len(lines) - n
			for _, c := range lines[n:] {
				if c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c == '\n' {
					sz += 5
				}
			}
			if size+sz > maxPayloadBytes && size > 0 {
				line := slices.Clone(lines[n:])
				lines = lines[:n]
				if err := flush(); err != nil {
					return err
				}
				lines = append(lines, line...)
			}
			size += sz
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return emitBlocks(ctx, tx, actor, "recorded", source, other)
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
	return syncBlocks(actor, source, scope, families, [][]Block{blocks})
}

// syncBlocks is SyncBlocks over the blocks of several lists (the files of
// one import), without copying them into one.
func syncBlocks(actor, source string, scope func(*Block) bool, families []string, lists [][]Block) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := canAdminNumbers(ctx, tx, actor, "import number resources"); err != nil {
			return nil, err
		}
		n := 0
		for _, l := range lists {
			n += len(l)
		}
		// The given blocks, normalized: copies, so the caller's are left
		// as they are, in one allocation.
		given := make([]Block, 0, n)
		var c RecordCounts
		add := make([]*Block, 0, n)
		var change []Block
		var remove []BlockRef
		for _, fam := range families {
			existing, err := LoadBlocks(ctx, tx, fam)
			if err != nil {
				return nil, err
			}
			// Blocks by family, range and registry: keys that cost no
			// allocation, for hundreds of thousands of blocks.
			type id struct {
				s   Span
				reg string
			}
			have := make(map[id]*Block, len(existing))
			final := make([]*Block, 0, len(existing)+n)
			for _, b := range existing {
				if scope(b) {
					have[id{b.Span(), b.Registry}] = b
				} else {
					final = append(final, b)
				}
			}
			nfam := 0
			for _, l := range lists {
				for i := range l {
					if l[i].Family == fam {
						nfam++
					}
				}
			}
			seen := make(map[id]bool, nfam)
			for _, l := range lists {
				for i := range l {
					if l[i].Family != fam {
						continue
					}
					given = append(given, l[i])
					b := &given[len(given)-1]
					b.Contacts, b.Ext = slices.Clone(b.Contacts), slices.Clone(b.Ext)
					if err := b.Normalize(); err != nil {
						return nil, err
					}
					b.Events = nil
					if !scope(b) {
						return nil, Errorf(EINVALID, "block %s (%s) is outside what this import may change", b.Label(), b.Registry)
					}
					key := id{b.Span(), b.Registry}
					if seen[key] {
						return nil, Errorf(EINVALID, "%s block %s is given twice for %s", fam, b.Label(), b.Registry)
					}
					seen[key] = true
					final = append(final, b)
					old, ok := have[key]
					switch {
					case !ok:
						add = append(add, b)
						c.Added++
					case sameBlock(old, b):
						c.Unchanged++
					default:
						change = append(change, *b)
						c.Changed++
					}
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
		if err := emitRecorded(ctx, tx, actor, source, add); err != nil {
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
