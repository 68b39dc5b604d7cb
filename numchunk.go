package steward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Number blocks recorded by lines-recorded events (the imports' plain
// statistics records) are stored in chunks: one state record holds up to
// maxChunkBlocks blocks of one family recorded by one registry, so that
// importing several hundred thousand records writes a few thousand state
// records rather than one each (every state record costs a row and an
// update of the state digest). Other blocks (recorded, allocated) are kept
// in a record of their own at their block key, as ledgers written before
// chunks have them; a block is changed where it is kept.
//
// A chunk's key is num/blocks/FAMILY/REGISTRY/END, END the fixed-width hex
// of the greatest first value the chunk may hold (as in block keys). The
// chunks of a registry partition its number line: a block belongs to the
// chunk with the smallest END not below the block's first value. Its value
// is {"blocks":[...],"lines":"..."} (see putChunk), blocks in key order (by
// first value, then by last value). A chunk that grows past maxChunkBlocks
// is split into chunks of about splitChunkBlocks; an emptied chunk is
// deleted (the next chunk then covers its part of the line).

const (
	maxChunkBlocks   = 512
	splitChunkBlocks = 256
)

// ChunkKeyPrefix returns the prefix of the state keys of a family's block
// chunks.
func ChunkKeyPrefix(family string) string { return "num/blocks/" + family + "/" }

func chunkRegPrefix(family, registry string) string {
	return ChunkKeyPrefix(family) + registry + "/"
}

// familyMax is the greatest number of a family.
func familyMax(family string) Uint128 {
	if family == FamilyIPv6 {
		return Uint128{^uint64(0), ^uint64(0)}
	}
	return U128(1<<32 - 1)
}

// chunkEntry is a block with its range.
type chunkEntry struct {
	b *Block
	s Span
}

func cmpEntry(a chunkEntry, f, l Uint128) int {
	if c := a.s.First.Cmp(f); c != 0 {
		return c
	}
	return a.s.Last.Cmp(l)
}

// chunk is one chunk record as a blockSet holds it.
type chunk struct {
	family, registry string
	key              string
	end              Uint128
	lo               Uint128 // the chunk surely covers [lo, end]
	blocks           []chunkEntry
	exists, dirty    bool
}

// chunkJSON is a chunk record's value: the blocks that have a line form
// as lines (see numline.go), the others as JSON.
type chunkJSON struct {
	Blocks []*Block `json:"blocks,omitempty"`
	Lines  string   `json:"lines,omitempty"`
}

// parseChunkKey returns the family and registry of a chunk key, and the
// greatest first value the chunk may hold.
func parseChunkKey(key string) (family, registry string, end Uint128, err error) {
	rest, ok := strings.CutPrefix(key, "num/blocks/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 {
		return "", "", Uint128{}, fmt.Errorf("%q is not a number chunk key", key)
	}
	family, registry = parts[0], parts[1]
	if family != FamilyIPv4 && family != FamilyIPv6 && family != FamilyASN {
		return "", "", Uint128{}, fmt.Errorf("%q is not a number chunk key", key)
	}
	end, err = parseHexNum(family, parts[2])
	if err != nil {
		return "", "", Uint128{}, fmt.Errorf("%q is not a number chunk key", key)
	}
	return family, registry, end, nil
}

// decodeChunk decodes a chunk record into its blocks, in key order.
func decodeChunk(key string, value []byte) ([]chunkEntry, error) {
	family, registry, _, err := parseChunkKey(key)
	if err != nil {
		return nil, err
	}
	var c chunkJSON
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("state %s: %w", key, err)
	}
	lines, err := parseBlockLines(family, registry, c.Lines, true)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", key, err)
	}
	out := make([]chunkEntry, 0, len(lines)+len(c.Blocks))
	for _, b := range c.Blocks {
		if b == nil || b.Family != family || b.Registry != registry {
			return nil, fmt.Errorf("state %s holds a block of another family or registry", key)
		}
		out = append(out, chunkEntry{b, b.Span()})
	}
	for _, b := range lines {
		out = append(out, chunkEntry{b, b.Span()})
	}
	if len(c.Blocks) > 0 {
		slices.SortFunc(out, func(a, b chunkEntry) int { return cmpEntry(a, b.s.First, b.s.Last) })
	}
	return out, nil
}

// ChunkBlocks decodes a chunk record (a state record under
// ChunkKeyPrefix) into its blocks, in key order.
func ChunkBlocks(key string, value []byte) ([]*Block, error) {
	es, err := decodeChunk(key, value)
	if err != nil {
		return nil, err
	}
	out := make([]*Block, len(es))
	for i, e := range es {
		out[i] = e.b
	}
	return out, nil
}

// BlockText returns a text that says everything a block record says: two
// blocks are the same record exactly when their texts are equal.
func BlockText(b *Block) string {
	if lineable(b) {
		return string(appendBlockLine([]byte(b.Family+"|"+b.Registry+"|"), b, true))
	}
	data, _ := canonicalBlock(b)
	return string(data)
}

// blockSet reads and changes number blocks, in their chunks or in
// records of their own, for one applier or one command. Changes are kept
// until flush writes them.
type blockSet struct {
	r      StateReader
	chunks map[string]*chunk
	last   map[string]*chunk // family/registry -> the chunk found last

	// Blocks in records of their own, by block key: read (nil if absent)
	// or changed (nil if deleted); which existed; which changed; and the
	// ranges of first values whose records were all read (scanned).
	rows    map[string]*Block
	existed map[string]bool
	changed map[string]bool
	scanned map[string][]Span
}

func newBlockSet(r StateReader) *blockSet {
	return &blockSet{r: r, chunks: map[string]*chunk{}, last: map[string]*chunk{},
		rows: map[string]*Block{}, existed: map[string]bool{}, changed: map[string]bool{}, scanned: map[string][]Span{}}
}

// row returns the block in the record of its own at key, or nil.
func (s *blockSet) row(ctx context.Context, key string, fam string, sp Span) (*Block, error) {
	if b, ok := s.rows[key]; ok {
		return b, nil
	}
	if s.inScanned(fam, sp) {
		return nil, nil
	}
	v, err := s.r.Get(ctx, key)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		s.rows[key] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	b := new(Block)
	if err := unmarshalStrict(v, b); err != nil {
		return nil, fmt.Errorf("state %s: %w", key, err)
	}
	s.rows[key], s.existed[key] = b, true
	return b, nil
}

// inScanned reports whether the records of their own of family with the
// first value of sp were all read.
func (s *blockSet) inScanned(fam string, sp Span) bool {
	for _, r := range s.scanned[fam] {
		if r.Contains(Span{sp.First, sp.First}) {
			return true
		}
	}
	return false
}

// scanRows reads every block in a record of its own of family whose
// first value lies in sp, so that row needs no query for them: one query
// where checking each of a batch of new blocks would take one each.
func (s *blockSet) scanRows(ctx context.Context, fam string, sp Span) error {
	prefix := BlockKeyPrefix(fam)
	after := ""
	if !sp.First.IsZero() {
		after = prefix + hexNum(fam, sp.First.Dec()) + "-~"
	}
	end := prefix + hexNum(fam, sp.Last) + "-~"
	for {
		kvs, err := s.r.Scan(ctx, prefix, after, 1000)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if kv.Key > end {
				s.scanned[fam] = append(s.scanned[fam], sp)
				return nil
			}
			if _, ok := s.rows[kv.Key]; ok {
				continue
			}
			b := new(Block)
			if err := unmarshalStrict(kv.Value, b); err != nil {
				return fmt.Errorf("state %s: %w", kv.Key, err)
			}
			s.rows[kv.Key], s.existed[kv.Key] = b, true
		}
		if len(kvs) < 1000 {
			s.scanned[fam] = append(s.scanned[fam], sp)
			return nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// find returns the chunk of registry's family blocks that holds first value
// v, loading it, or a new empty chunk if no chunk covers v.
func (s *blockSet) find(ctx context.Context, family, registry string, v Uint128) (*chunk, error) {
	lk := family + "/" + registry
	if c := s.last[lk]; c != nil && !v.Less(c.lo) && !c.end.Less(v) {
		return c, nil
	}
	prefix := chunkRegPrefix(family, registry)
	after := ""
	if !v.IsZero() {
		after = prefix + hexNum(family, v.Dec())
	}
	kvs, err := s.r.Scan(ctx, prefix, after, 1)
	if err != nil {
		return nil, err
	}
	var c *chunk
	if len(kvs) == 0 {
		end := familyMax(family)
		key := prefix + hexNum(family, end)
		if c = s.chunks[key]; c == nil {
			c = &chunk{family: family, registry: registry, key: key, end: end, lo: v}
			s.chunks[key] = c
		}
	} else if c = s.chunks[kvs[0].Key]; c == nil {
		end, err := parseHexNum(family, strings.TrimPrefix(kvs[0].Key, prefix))
		if err != nil {
			return nil, fmt.Errorf("state %s: not a chunk key", kvs[0].Key)
		}
		c = &chunk{family: family, registry: registry, key: kvs[0].Key, end: end, lo: v, exists: true}
		if c.blocks, err = decodeChunk(c.key, kvs[0].Value); err != nil {
			return nil, err
		}
		s.chunks[c.key] = c
	}
	if v.Less(c.lo) {
		c.lo = v
	}
	s.last[lk] = c
	return c, nil
}

// locate returns the chunk that holds (or would hold) the block of family
// with range sp recorded by registry, and the block's position in it.
func (s *blockSet) locate(ctx context.Context, family string, sp Span, registry string) (*chunk, int, bool, error) {
	c, err := s.find(ctx, family, registry, sp.First)
	if err != nil {
		return nil, 0, false, err
	}
	i, ok := slices.BinarySearchFunc(c.blocks, sp, func(e chunkEntry, sp Span) int { return cmpEntry(e, sp.First, sp.Last) })
	return c, i, ok, nil
}

// get returns the block at a block key, or nil.
func (s *blockSet) get(ctx context.Context, key string) (*Block, error) {
	fam, sp, reg, err := ParseBlockKey(key)
	if err != nil {
		return nil, err
	}
	if b, err := s.row(ctx, key, fam, sp); b != nil || err != nil {
		return b, err
	}
	c, i, ok, err := s.locate(ctx, fam, sp, reg)
	if err != nil || !ok {
		return nil, err
	}
	return c.blocks[i].b, nil
}

// load returns the block at a block key, or ENOTFOUND.
func (s *blockSet) load(ctx context.Context, key string) (*Block, error) {
	b, err := s.get(ctx, key)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, Errorf(ENOTFOUND, "no number block %s", strings.TrimPrefix(key, "num/"))
	}
	return b, nil
}

// put writes a normalized block where it is (a record of its own or a
// chunk), replacing it, or, if there is none at its key, in a chunk
// (inChunk) or a record of its own. With mustBeNew, a block at its key is
// an error.
func (s *blockSet) put(ctx context.Context, b *Block, mustBeNew, inChunk bool) error {
	sp := b.Span()
	var old *Block
	key := ""
	// With no records of their own read, and the range read, there is
	// none at the block's key: no need to build the key.
	if len(s.rows) > 0 || !s.inScanned(b.Family, sp) {
		key = b.Key()
		var err error
		if old, err = s.row(ctx, key, b.Family, sp); err != nil {
			return err
		}
	}
	if old != nil {
		if mustBeNew {
			return fmt.Errorf("%s exists already", key)
		}
		s.rows[key], s.changed[key] = b, true
		return nil
	}
	c, i, ok, err := s.locate(ctx, b.Family, sp, b.Registry)
	if err != nil {
		return err
	}
	switch {
	case ok && mustBeNew:
		return fmt.Errorf("%s exists already", b.Key())
	case ok:
		c.blocks[i] = chunkEntry{b, sp}
	case !inChunk:
		if key == "" {
			key = b.Key()
		}
		s.rows[key], s.changed[key] = b, true
		return nil
	default:
		c.blocks = slices.Insert(c.blocks, i, chunkEntry{b, sp})
	}
	c.dirty = true
	return nil
}

// del removes the block at a block key; it is an error if there is none.
func (s *blockSet) del(ctx context.Context, key string) error {
	fam, sp, reg, err := ParseBlockKey(key)
	if err != nil {
		return err
	}
	old, err := s.row(ctx, key, fam, sp)
	if err != nil {
		return err
	}
	if old != nil {
		s.rows[key], s.changed[key] = nil, true
		return nil
	}
	c, i, ok, err := s.locate(ctx, fam, sp, reg)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(ENOTFOUND, "no number block %s", strings.TrimPrefix(key, "num/"))
	}
	c.blocks = slices.Delete(c.blocks, i, i+1)
	c.dirty = true
	return nil
}

// flush writes the changed chunks, in key order: an emptied chunk is
// deleted, one grown past maxChunkBlocks split.
func (s *blockSet) flush(ctx context.Context, w StateWriter) error {
	for _, k := range slices.Sorted(maps.Keys(s.changed)) {
		b := s.rows[k]
		switch {
		case b != nil:
			data, err := canonicalBlock(b)
			if err != nil {
				return err
			}
			if err := w.Put(ctx, k, data); err != nil {
				return err
			}
		case s.existed[k]:
			if err := w.Delete(ctx, k); err != nil {
				return err
			}
		}
	}
	clear(s.rows)
	clear(s.existed)
	clear(s.changed)
	clear(s.scanned)
	keys := make([]string, 0, len(s.chunks))
	for k, c := range s.chunks {
		if c.dirty {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := s.chunks[k]
		if len(c.blocks) == 0 {
			if c.exists {
				if err := w.Delete(ctx, c.key); err != nil {
					return err
				}
			}
			continue
		}
		prefix := chunkRegPrefix(c.family, c.registry)
		rest := c.blocks
		for len(rest) > maxChunkBlocks {
			// Cut after splitChunkBlocks blocks, where the first value
			// changes, so the piece's END separates it from the rest.
			cut := splitChunkBlocks
			for cut < len(rest) && !rest[cut-1].s.First.Less(rest[cut].s.First) {
				cut++
			}
			if cut >= len(rest) {
				break
			}
			if err := putChunk(ctx, w, prefix+hexNum(c.family, rest[cut-1].s.First), rest[:cut]); err != nil {
				return err
			}
			rest = rest[cut:]
		}
		if err := putChunk(ctx, w, c.key, rest); err != nil {
			return err
		}
	}
	clear(s.chunks)
	clear(s.last)
	return nil
}

func putChunk(ctx context.Context, w StateWriter, key string, blocks []chunkEntry) error {
	var js [][]byte
	var lines []byte
	for _, e := range blocks {
		if lineable(e.b) {
			lines = appendBlockLine(lines, e.b, true)
			lines = append(lines, '\n')
			continue
		}
		data, err := canonicalBlock(e.b)
		if err != nil {
			return err
		}
		js = append(js, data)
	}
	buf := []byte{'{'}
	if len(js) > 0 {
		buf = append(buf, `"blocks":[`...)
		buf = append(buf, bytes.Join(js, []byte{','})...)
		buf = append(buf, ']')
	}
	if len(lines) > 0 {
		if len(js) > 0 {
			buf = append(buf, ',')
		}
		text, err := json.Marshal(string(lines))
		if err != nil {
			return err
		}
		buf = append(buf, `"lines":`...)
		buf = append(buf, text...)
	}
	buf = append(buf, '}')
	return w.Put(ctx, key, buf)
}

// parseHexNum parses a fixed-width hex number of a key.
func parseHexNum(family, h string) (Uint128, error) {
	_, s, _, err := ParseBlockKey(BlockKeyPrefix(family) + h + "-" + h + "/x")
	return s.First, err
}

// scanChunks calls f with the blocks of every chunk under prefix whose key
// sorts after after, in key order, until f returns false.
func scanChunks(ctx context.Context, r StateReader, prefix, after string, f func(key string, es []chunkEntry) bool) error {
	for {
		kvs, err := r.Scan(ctx, prefix, after, 200)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			es, err := decodeChunk(kv.Key, kv.Value)
			if err != nil {
				return err
			}
			if !f(kv.Key, es) {
				return nil
			}
		}
		if len(kvs) < 200 {
			return nil
		}
		after = kvs[len(kvs)-1].Key
	}
}
