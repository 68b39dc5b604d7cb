// Package numbers answers questions about the number registry quickly: which
// blocks hold an IP address (longest-prefix match), which record holds an
// AS number, what lies inside a block and how much of it is used.
//
// An [Index] is an immutable snapshot of every [steward.Block] of the
// registry, safe for concurrent use by any number of readers. It is built
// once from the state ([Load]) and then changed by [Index.With], which
// returns a new index and leaves the old one intact, in time linear in the
// number of blocks (a few milliseconds for several hundred thousand). A
// [Live] keeps an index current with a store by following its ledger.
//
// # Stable API
//
// The RDAP server uses: [Load], [Live] with [Live.Index], [Index.LookupIP],
// [Index.LookupPrefix], [Index.LookupAS], [Index.Block], [Index.Parent],
// [Index.Children], [Index.Roots] and [Index.Usage]. Blocks returned are
// shared with the index and must not be modified.
//
// # Layout
//
// Each family is one slice of nodes in the order of [steward.CompareBlocks]:
// a pre-order walk of the hierarchy, every block before the blocks inside
// it. Each node records its parent and the end of its subtree, so a lookup
// is a binary search for the last block starting at or before the address
// followed by a walk up the parents, and the children of a block are found
// by skipping from subtree to subtree.
package numbers

import (
	"context"
	"net/netip"
	"slices"

	"steward"
)

// Index is an immutable snapshot of the number registry.
type Index struct {
	trees map[string]*tree
}

type tree struct {
	family string
	nodes  []node
}

type node struct {
	b      *steward.Block
	span   steward.Span
	parent int32 // -1 for a root
	end    int32 // one past the last node of the subtree
	used   steward.Uint128
}

// Usage says how much of a block is delegated: Size values in all, Used of
// them inside blocks recorded inside it that are allocated, assigned or
// reserved. Fraction is Used/Size.
type Usage struct {
	Size     steward.Uint128 `json:"-"`
	Used     steward.Uint128 `json:"-"`
	Fraction float64         `json:"fraction"`
}

// Build builds an index from blocks, which it keeps (callers must not
// change them afterwards). It returns an error if the blocks break the
// nesting rules (see [steward.CheckNesting]).
func Build(blocks []*steward.Block) (*Index, error) {
	ix := &Index{trees: map[string]*tree{}}
	by := map[string][]node{}
	for _, b := range blocks {
		by[b.Family] = append(by[b.Family], node{b: b, span: b.Span()})
	}
	for _, fam := range steward.Families {
		t := &tree{family: fam, nodes: by[fam]}
		slices.SortFunc(t.nodes, cmpNode)
		if err := t.link(); err != nil {
			return nil, err
		}
		ix.trees[fam] = t
	}
	return ix, nil
}

func cmpNode(a, b node) int { return steward.CompareBlocks(a.b, b.b, a.span, b.span) }

// link computes parents, subtree ends and usage of sorted nodes, checking
// the nesting rules.
func (t *tree) link() error {
	stack := make([]int32, 0, 64)
	for i := range t.nodes {
		n := &t.nodes[i]
		for len(stack) > 0 && t.nodes[stack[len(stack)-1]].span.Last.Less(n.span.First) {
			t.nodes[stack[len(stack)-1]].end = int32(i)
			stack = stack[:len(stack)-1]
		}
		n.parent = -1
		n.used = steward.Uint128{}
		if len(stack) > 0 {
			p := &t.nodes[stack[len(stack)-1]]
			if p.span.Last.Less(n.span.Last) {
				return steward.Errorf(steward.EINVALID, "%s block %s (%s) overlaps %s (%s) without lying inside it", t.family, n.b.Label(), n.b.Registry, p.b.Label(), p.b.Registry)
			}
			if p.b.Registry == n.b.Registry && p.b.Status != steward.StatusReserved {
				return steward.Errorf(steward.EINVALID, "%s block %s overlaps %s, both recorded by %s", t.family, n.b.Label(), p.b.Label(), n.b.Registry)
			}
			n.parent = stack[len(stack)-1]
			if n.b.Status != steward.StatusAvailable {
				p.used = p.used.Add(n.span.Size())
			}
		}
		stack = append(stack, int32(i))
	}
	for _, j := range stack {
		t.nodes[j].end = int32(len(t.nodes))
	}
	return nil
}

// Load builds the index of every block in the state.
func Load(ctx context.Context, r steward.StateReader) (*Index, error) {
	var all []*steward.Block
	for _, fam := range steward.Families {
		bs, err := steward.LoadBlocks(ctx, r, fam)
		if err != nil {
			return nil, err
		}
		all = append(all, bs...)
	}
	return Build(all)
}

// Len returns the number of blocks of a family.
func (ix *Index) Len(family string) int {
	if t := ix.trees[family]; t != nil {
		return len(t.nodes)
	}
	return 0
}

// LookupIP returns the blocks that contain a, outermost first: the last is
// the most specific (longest prefix). It returns nil if none does.
func (ix *Index) LookupIP(a netip.Addr) []*steward.Block {
	a = a.Unmap()
	fam := steward.FamilyIPv6
	if a.Is4() {
		fam = steward.FamilyIPv4
	}
	u := steward.AddrU128(a)
	return ix.lookup(fam, steward.Span{First: u, Last: u})
}

// LookupPrefix returns the blocks that contain all of p, outermost first.
func (ix *Index) LookupPrefix(p netip.Prefix) []*steward.Block {
	p = p.Masked()
	fam := steward.FamilyIPv6
	if p.Addr().Is4() {
		fam = steward.FamilyIPv4
	}
	return ix.lookup(fam, steward.PrefixSpan(p))
}

// LookupAS returns the blocks that contain the AS number, outermost first.
func (ix *Index) LookupAS(asn uint32) []*steward.Block {
	u := steward.U128(uint64(asn))
	return ix.lookup(steward.FamilyASN, steward.Span{First: u, Last: u})
}

// LookupSpan returns the blocks of family that contain all of s, outermost
// first.
func (ix *Index) LookupSpan(family string, s steward.Span) []*steward.Block {
	return ix.lookup(family, s)
}

func (ix *Index) lookup(family string, s steward.Span) []*steward.Block {
	t := ix.trees[family]
	if t == nil {
		return nil
	}
	i := t.deepest(s)
	if i < 0 {
		return nil
	}
	var chain []*steward.Block
	for ; i >= 0; i = int(t.nodes[i].parent) {
		chain = append(chain, t.nodes[i].b)
	}
	slices.Reverse(chain)
	return chain
}

// deepest returns the index of the most specific node that contains s, or
// -1.
func (t *tree) deepest(s steward.Span) int {
	// The last node starting at or before s.First.
	i, _ := slices.BinarySearchFunc(t.nodes, s.First, func(n node, v steward.Uint128) int {
		if v.Less(n.span.First) {
			return 1
		}
		return -1
	})
	i--
	for i >= 0 && !t.nodes[i].span.Contains(s) {
		i = int(t.nodes[i].parent)
	}
	return i
}

// find returns the node index of the block at key, or -1.
func (t *tree) find(b *steward.Block, s steward.Span) int {
	i, ok := slices.BinarySearchFunc(t.nodes, node{b: b, span: s}, cmpNode)
	if !ok || t.nodes[i].b.Registry != b.Registry {
		return -1
	}
	return i
}

func (ix *Index) node(key string) (*tree, int) {
	fam, s, reg, err := steward.ParseBlockKey(key)
	if err != nil {
		return nil, -1
	}
	t := ix.trees[fam]
	if t == nil {
		return nil, -1
	}
	// Registry order among blocks of one range depends on holders, so
	// search the run of nodes with this range.
	i, _ := slices.BinarySearchFunc(t.nodes, s, func(n node, v steward.Span) int {
		if c := n.span.First.Cmp(v.First); c != 0 {
			return c
		}
		return v.Last.Cmp(n.span.Last)
	})
	for ; i < len(t.nodes) && t.nodes[i].span == s; i++ {
		if t.nodes[i].b.Registry == reg {
			return t, i
		}
	}
	return nil, -1
}

// Block returns the block at the state key, or nil.
func (ix *Index) Block(key string) *steward.Block {
	t, i := ix.node(key)
	if i < 0 {
		return nil
	}
	return t.nodes[i].b
}

// Parent returns the smallest block that contains the block at key (its
// place in the hierarchy), or nil for a top-level block or an unknown key.
func (ix *Index) Parent(key string) *steward.Block {
	t, i := ix.node(key)
	if i < 0 || t.nodes[i].parent < 0 {
		return nil
	}
	return t.nodes[t.nodes[i].parent].b
}

// Children returns the blocks directly inside the block at key, in order.
func (ix *Index) Children(key string) []*steward.Block {
	t, i := ix.node(key)
	if i < 0 {
		return nil
	}
	var out []*steward.Block
	for j := i + 1; j < int(t.nodes[i].end); j = int(t.nodes[j].end) {
		out = append(out, t.nodes[j].b)
	}
	return out
}

// Roots returns the top-level blocks of a family, in order.
func (ix *Index) Roots(family string) []*steward.Block {
	t := ix.trees[family]
	if t == nil {
		return nil
	}
	var out []*steward.Block
	for j := 0; j < len(t.nodes); j = int(t.nodes[j].end) {
		out = append(out, t.nodes[j].b)
	}
	return out
}

// Usage returns how much of the block at key is delegated further.
func (ix *Index) Usage(key string) Usage {
	t, i := ix.node(key)
	if i < 0 {
		return Usage{}
	}
	n := &t.nodes[i]
	u := Usage{Size: n.span.Size(), Used: n.used}
	size := u.Size.Float()
	if u.Size.IsZero() {
		size = 1 << 64 * float64(1<<63) * 2 // the whole IPv6 space
	}
	u.Fraction = n.used.Float() / size
	return u
}

// Blocks calls f for every block of a family in order (a pre-order walk of
// the hierarchy) with its depth, until f returns false.
func (ix *Index) Blocks(family string, f func(b *steward.Block, depth int) bool) {
	t := ix.trees[family]
	if t == nil {
		return
	}
	var depth []int32
	for i := range t.nodes {
		n := &t.nodes[i]
		d := 0
		if n.parent >= 0 {
			d = int(depth[n.parent]) + 1
		}
		depth = append(depth, int32(d))
		if !f(n.b, d) {
			return
		}
	}
}

// With returns a new index in which the blocks at keys are replaced by
// get's answer for each key: a block (added or replaced) or nil (removed).
// The receiver is unchanged. It runs in time linear in the index's size.
func (ix *Index) With(keys []string, get func(key string) (*steward.Block, error)) (*Index, error) {
	out := &Index{trees: make(map[string]*tree, len(ix.trees))}
	drop := map[string]map[int]bool{}
	add := map[string][]node{}
	for _, k := range keys {
		fam, _, _, err := steward.ParseBlockKey(k)
		if err != nil {
			return nil, err
		}
		if t, i := ix.node(k); i >= 0 {
			if drop[fam] == nil {
				drop[fam] = map[int]bool{}
			}
			drop[fam][i] = true
			_ = t
		}
		b, err := get(k)
		if err != nil {
			return nil, err
		}
		if b != nil {
			add[fam] = append(add[fam], node{b: b, span: b.Span()})
		}
	}
	for fam, t := range ix.trees {
		if drop[fam] == nil && add[fam] == nil {
			out.trees[fam] = t
			continue
		}
		news := add[fam]
		slices.SortFunc(news, cmpNode)
		nodes := make([]node, 0, len(t.nodes)+len(news))
		j := 0
		for i := range t.nodes {
			if drop[fam][i] {
				continue
			}
			for j < len(news) && cmpNode(news[j], t.nodes[i]) < 0 {
				nodes = append(nodes, news[j])
				j++
			}
			nodes = append(nodes, t.nodes[i])
		}
		nodes = append(nodes, news[j:]...)
		nt := &tree{family: fam, nodes: nodes}
		if err := nt.link(); err != nil {
			return nil, err
		}
		out.trees[fam] = nt
	}
	return out, nil
}
