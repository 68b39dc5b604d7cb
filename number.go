package steward

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Number resources: the IPv4 and IPv6 address space and the AS numbers, as
// the registries hold them. See docs/numbers.md for the whole model; in
// short:
//
//   - A [Block] is one record: a range of one family, the registry that
//     recorded (delegated) it, who holds it, its status in the RIR
//     statistics vocabulary, country, date, contacts.
//   - The hierarchy is by containment: ietf -> iana -> regional registry
//     (RIR) -> local registry (LIR) -> holder. Any two blocks of a family
//     are nested or disjoint, never partly overlapping; one registry never
//     records two overlapping blocks (but may note a reservation inside its
//     own reserved block); two blocks may cover the same range
//     only if recorded by different registries (IANA's /8 and the RIR's
//     record of the same /8), and then the higher registry's is the outer.
//   - Block keys are num/FAMILY/FIRST-LAST/REGISTRY, FIRST and LAST in
//     fixed-width hex (8 digits for ipv4 and asn, 32 for ipv6), so keys sort
//     by first value and then by size, smallest first. A block is kept in a
//     record of its own at its key, or in a chunk record (see numchunk.go).

// Number families, named as in the RIR statistics files.
const (
	FamilyIPv4 = "ipv4"
	FamilyIPv6 = "ipv6"
	FamilyASN  = "asn"
)

// Families lists the number families in a fixed order.
var Families = []string{FamilyIPv4, FamilyIPv6, FamilyASN}

// Statuses of a block, the RIR statistics vocabulary: allocated (delegated
// to a registry that delegates further), assigned (delegated to an end
// holder), available (in the registry's free pool) and reserved (held back:
// special use, returned space in quarantine, documentation, private use).
const (
	StatusAllocated = "allocated"
	StatusAssigned  = "assigned"
	StatusAvailable = "available"
	StatusReserved  = "reserved"
)

// Registries above the RIRs. RIRs are named as in their statistics files.
const (
	RegistryIETF = "ietf" // the address architecture: what RFCs set aside
	RegistryIANA = "iana"
)

// RIRs lists the five regional Internet registries by their statistics ids.
var RIRs = []string{"afrinic", "apnic", "arin", "lacnic", "ripencc"}

// IsRIR reports whether id names a regional Internet registry.
func IsRIR(id string) bool { return slices.Contains(RIRs, id) }

// RegistryRank orders registries in the hierarchy: ietf 0, iana 1, an RIR
// 2, any other (a local registry or holder) 3.
func RegistryRank(id string) int {
	switch {
	case id == RegistryIETF:
		return 0
	case id == RegistryIANA:
		return 1
	case IsRIR(id):
		return 2
	}
	return 3
}

// Block is a registry's record of a range of IPv4 or IPv6 addresses or of AS
// numbers. The zero value is not valid; see [Block.Normalize].
type Block struct {
	Family string `json:"family"` // ipv4, ipv6 or asn
	// First and Last are the range's first and last address (canonical
	// text: dotted quad, RFC 5952) or AS number (decimal). IPv6 blocks are
	// CIDR prefixes; IPv4 blocks may be any range (the statistics files
	// count addresses, and 768 is not a power of two); AS blocks any range.
	First string `json:"first"`
	Last  string `json:"last"`
	// Registry is the registry that recorded the block: ietf, iana, an RIR
	// id (afrinic, apnic, arin, lacnic, ripencc) or a local registry's
	// organisation handle.
	Registry string `json:"registry"`
	// Holder is who the block is delegated to: an RIR id for IANA's
	// allocations, otherwise an organisation handle (the extended statistics'
	// opaque id). Empty for available and reserved space.
	Holder string `json:"holder,omitempty"`
	Status string `json:"status"`
	// Country is the ISO 3166 code the registry gives (also EU, AP, ZZ).
	Country string `json:"country,omitempty"`
	// Date is the date of the delegation as the registry gives it, YYYYMMDD.
	Date string `json:"date,omitempty"`
	// Name is the holder organisation's or network's name, or IANA's
	// designation.
	Name     string    `json:"name,omitempty"`
	Contacts []Contact `json:"contacts,omitempty"`
	// Ext holds the extra fields of an extended statistics line after the
	// opaque id, kept to write the line back.
	Ext []string `json:"ext,omitempty"`
	// IANA holds the fields of IANA's registry entry the block came from.
	IANA *IANAEntry `json:"iana,omitempty"`
	// Events lists the ledger entries that changed this record, oldest
	// first. Appliers set it; commands leave it empty.
	Events []int64 `json:"events,omitempty"`
}

// Contact is a contact handle with its role, as RDAP names roles:
// registrant, administrative, technical, abuse, noc.
type Contact struct {
	Handle string `json:"handle"`
	Role   string `json:"role"`
}

// IANAEntry is what an IANA number registry says of a block beyond the
// common fields, kept so the registry can be written back.
type IANAEntry struct {
	Registry    string   `json:"registry"`              // the IANA registry's id: ipv4-address-space, as-numbers-1, ...
	Prefix      string   `json:"prefix"`                // the entry's number as IANA writes it: "001/8", "2001:0200::/23", "1-6"
	Designation string   `json:"designation,omitempty"` // or description
	Status      string   `json:"status,omitempty"`      // IANA's word: ALLOCATED, LEGACY, RESERVED, ...
	Date        string   `json:"date,omitempty"`        // YYYY-MM or YYYY-MM-DD
	Whois       string   `json:"whois,omitempty"`
	RDAP        []string `json:"rdap,omitempty"`
	Xrefs       []string `json:"xrefs,omitempty"` // "type:data", e.g. "rfc:rfc1122", "note:2"
	Notes       string   `json:"notes,omitempty"` // the notes element's content, as XML
	// Raw is the record's XML as IANA published it, written back as is
	// while the block is unchanged.
	Raw string `json:"raw,omitempty"`
}

// IANARegistry is what an IANA number registry's XML holds besides its
// records: the text around them (title, rules, notes, footnotes) as
// segments, each raw XML or the place of one sub-registry's records.
type IANARegistry struct {
	ID       string        `json:"id"` // ipv4-address-space, ipv6-unicast-address-assignments, as-numbers, ...
	Title    string        `json:"title,omitempty"`
	Updated  string        `json:"updated,omitempty"`
	Segments []IANASegment `json:"segments"`
}

// IANASegment is a stretch of an IANA registry file: raw XML, or the
// records of the sub-registry Records separated by Sep.
type IANASegment struct {
	Raw     string `json:"raw,omitempty"`
	Records string `json:"records,omitempty"`
	Sep     string `json:"sep,omitempty"`
}

// BlockRef names a block: family, range and recording registry.
type BlockRef struct {
	Family   string `json:"family"`
	First    string `json:"first"`
	Last     string `json:"last"`
	Registry string `json:"registry"`
}

// Ref returns the block's reference.
func (b *Block) Ref() BlockRef {
	return BlockRef{Family: b.Family, First: b.First, Last: b.Last, Registry: b.Registry}
}

var (
	// The patterns are checked byte by byte (an import checks hundreds of
	// thousands of blocks); a test checks each against its regexp.
	registryRE = charRule{first: isAlnum, rest: func(c byte) bool { return isAlnum(c) || c == '.' || c == '_' || c == '-' }, min: 1, max: 64} // ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
	holderRE   = charRule{first: isHolderChar, rest: isHolderChar, min: 1, max: 128}                                                          // ^[!-{}~]{1,128}$: printable ASCII but '|' and space
	countryRE  = charRule{first: isUpper, rest: isUpper, min: 2, max: 2}                                                                      // ^[A-Z]{2}$
	dateRE     = charRule{first: isDigit, rest: isDigit, min: 8, max: 8}                                                                      // ^[0-9]{8}$
)

// charRule matches a string of min to max bytes, the first of which
// satisfies first and the others rest.
type charRule struct {
	first, rest func(byte) bool
	min, max    int
}

// MatchString reports whether s matches the rule.
func (r charRule) MatchString(s string) bool {
	if len(s) < r.min || len(s) > r.max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 0 && !r.first(s[i]) || i > 0 && !r.rest(s[i]) {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool      { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool      { return isUpper(c) || isDigit(c) || c >= 'a' && c <= 'z' }
func isHolderChar(c byte) bool { return c >= '!' && c <= '~' && c != '|' }

// maxASN is the largest AS number (RFC 6793).
const maxASN = 1<<32 - 1

// ParseNumber parses one value of the family: an address, or an AS number
// (decimal, optionally with an AS prefix), into its number.
func ParseNumber(family, s string) (Uint128, error) {
	switch family {
	case FamilyIPv4, FamilyIPv6:
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return Uint128{}, Errorf(EINVALID, "%q is not an %s address", s, family)
		}
		if (family == FamilyIPv4) != a.Is4() {
			return Uint128{}, Errorf(EINVALID, "%q is not an %s address", s, family)
		}
		return AddrU128(a), nil
	case FamilyASN:
		t := strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
		if t == "" || len(t) > 10 || strings.TrimLeft(t, "0123456789") != "" {
			return Uint128{}, Errorf(EINVALID, "AS number %q: want a decimal number from 0 to 4294967295", s)
		}
		n, err := strconv.ParseUint(t, 10, 64)
		if err != nil || n > maxASN {
			return Uint128{}, Errorf(EINVALID, "AS number %q is out of range: AS numbers run from 0 to 4294967295", s)
		}
		return U128(n), nil
	}
	return Uint128{}, Errorf(EINVALID, "family %q: want ipv4, ipv6 or asn", family)
}

// FormatNumber writes a number of the family as text.
func FormatNumber(family string, u Uint128) string {
	switch family {
	case FamilyIPv4:
		return u.Addr4().String()
	case FamilyIPv6:
		return u.Addr6().String()
	}
	return strconv.FormatUint(u.Lo, 10)
}

// canonicalNumber returns the canonical text of u, which ParseNumber read
// from text: text itself when it is canonical already (an IPv4 address
// netip parsed, decimal digits without a leading zero), to spare the
// allocation.
func canonicalNumber(family, text string, u Uint128) string {
	switch family {
	case FamilyIPv4:
		return text // netip.ParseAddr takes only the canonical dotted quad
	case FamilyASN:
		if text != "" && (text[0] != '0' || len(text) == 1) && strings.Trim(text, "0123456789") == "" {
			return text
		}
	}
	return FormatNumber(family, u)
}

// FamilyWidth returns the bit width of the family's numbers: 32 or 128.
func FamilyWidth(family string) int {
	if family == FamilyIPv6 {
		return 128
	}
	return 32
}

// ParseSpan parses a range of the family: "FIRST-LAST", a CIDR prefix
// "ADDR/LEN" (addresses), or a single value.
func ParseSpan(family, s string) (Span, error) {
	if family != FamilyIPv4 && family != FamilyIPv6 && family != FamilyASN {
		return Span{}, Errorf(EINVALID, "family %q: want ipv4, ipv6 or asn", family)
	}
	s = strings.TrimSpace(s)
	if family != FamilyASN && strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || (family == FamilyIPv4) != p.Addr().Is4() {
			return Span{}, Errorf(EINVALID, "%q is not an %s prefix", s, family)
		}
		if p.Masked() != p {
			return Span{}, Errorf(EINVALID, "prefix %s is not aligned: its first address is %s", s, p.Masked().Addr())
		}
		return PrefixSpan(p), nil
	}
	first, last, ok := strings.Cut(s, "-")
	if !ok {
		last = first
	}
	lo, err := ParseNumber(family, strings.TrimSpace(first))
	if err != nil {
		return Span{}, err
	}
	hi, err := ParseNumber(family, strings.TrimSpace(last))
	if err != nil {
		return Span{}, err
	}
	if hi.Less(lo) {
		return Span{}, Errorf(EINVALID, "range %q ends before it begins", s)
	}
	return Span{lo, hi}, nil
}

// PrefixSpan returns the range of addresses of a (masked) prefix.
func PrefixSpan(p netip.Prefix) Span {
	p = p.Masked()
	lo := AddrU128(p.Addr())
	width := 128
	if p.Addr().Is4() {
		width = 32
	}
	hostBits := uint(width - p.Bits())
	if hostBits == 128 {
		return Span{lo, Uint128{^uint64(0), ^uint64(0)}}
	}
	return Span{lo, lo.Add(U128(1).Lsh(hostBits)).Dec()}
}

// Span returns the block's range as numbers. It assumes a normalized block
// and returns the zero span for a malformed one.
func (b *Block) Span() Span {
	lo, err1 := ParseNumber(b.Family, b.First)
	hi, err2 := ParseNumber(b.Family, b.Last)
	if err1 != nil || err2 != nil {
		return Span{}
	}
	return Span{lo, hi}
}

// Prefix returns the block as a CIDR prefix, if it is one.
func (b *Block) Prefix() (netip.Prefix, bool) {
	if b.Family == FamilyASN {
		return netip.Prefix{}, false
	}
	parts := b.Span().CIDRSplit(FamilyWidth(b.Family))
	if len(parts) != 1 {
		return netip.Prefix{}, false
	}
	return partPrefix(b.Family, parts[0]), true
}

// Prefixes returns the fewest CIDR prefixes that cover an address block
// exactly, in order; nil for AS blocks.
func (b *Block) Prefixes() []netip.Prefix {
	if b.Family == FamilyASN {
		return nil
	}
	var out []netip.Prefix
	for _, p := range b.Span().CIDRSplit(FamilyWidth(b.Family)) {
		out = append(out, partPrefix(b.Family, p))
	}
	return out
}

func partPrefix(family string, p CIDRPart) netip.Prefix {
	if family == FamilyIPv4 {
		return netip.PrefixFrom(p.First.Addr4(), 32-p.Bits)
	}
	return netip.PrefixFrom(p.First.Addr6(), 128-p.Bits)
}

// Label is how people write the block: a prefix ("2.0.0.0/12"), a range
// ("41.57.113.0-41.57.115.255"), or AS numbers ("AS64496" or
// "AS64496-AS64511").
func (b *Block) Label() string {
	if b.Family == FamilyASN {
		if b.First == b.Last {
			return "AS" + b.First
		}
		return "AS" + b.First + "-AS" + b.Last
	}
	if p, ok := b.Prefix(); ok {
		return p.String()
	}
	return b.First + "-" + b.Last
}

// Key returns the block's key (see BlockKey).
func (b *Block) Key() string { return BlockKey(b.Family, b.Span(), b.Registry) }

// Key returns the referenced block's key, or "" if the reference is
// malformed.
func (r BlockRef) Key() string {
	lo, err1 := ParseNumber(r.Family, r.First)
	hi, err2 := ParseNumber(r.Family, r.Last)
	if err1 != nil || err2 != nil {
		return ""
	}
	return BlockKey(r.Family, Span{lo, hi}, r.Registry)
}

// BlockKey returns the key that names the block of family with range s
// recorded by registry: num/FAMILY/FIRST-LAST/REGISTRY.
func BlockKey(family string, s Span, registry string) string {
	return BlockKeyPrefix(family) + hexNum(family, s.First) + "-" + hexNum(family, s.Last) + "/" + registry
}

// BlockKeyPrefix returns the prefix of the keys of a family's blocks.
func BlockKeyPrefix(family string) string { return "num/" + family + "/" }

func hexNum(family string, u Uint128) string {
	if family == FamilyIPv6 {
		var b [16]byte
		a := u.Addr6().As16()
		copy(b[:], a[:])
		return hex.EncodeToString(b[:])
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(u.Lo))
	return hex.EncodeToString(b[:])
}

// ParseBlockKey returns the family, range and registry a block key names.
func ParseBlockKey(key string) (family string, s Span, registry string, err error) {
	rest, ok := strings.CutPrefix(key, "num/")
	if !ok {
		return "", Span{}, "", fmt.Errorf("%q is not a number block key", key)
	}
	family, rest, _ = strings.Cut(rest, "/")
	rng, registry, _ := strings.Cut(rest, "/")
	first, last, _ := strings.Cut(rng, "-")
	width := 8
	if family == FamilyIPv6 {
		width = 32
	} else if family != FamilyIPv4 && family != FamilyASN {
		return "", Span{}, "", fmt.Errorf("%q is not a number block key", key)
	}
	parse := func(h string) (Uint128, bool) {
		if len(h) != width {
			return Uint128{}, false
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return Uint128{}, false
		}
		var u Uint128
		for _, c := range b {
			u = u.Lsh(8).Add(U128(uint64(c)))
		}
		return u, true
	}
	lo, ok1 := parse(first)
	hi, ok2 := parse(last)
	if !ok1 || !ok2 || registry == "" {
		return "", Span{}, "", fmt.Errorf("%q is not a number block key", key)
	}
	return family, Span{lo, hi}, registry, nil
}

// Normalize puts the block's values in canonical form and checks them: the
// family, the range (an AS number out of range, an address of the wrong
// family, a misaligned IPv6 prefix), the registry and holder handles, the
// status, country and date.
func (b *Block) Normalize() error {
	lo, err := ParseNumber(b.Family, b.First)
	if err != nil {
		return err
	}
	hi, err := ParseNumber(b.Family, b.Last)
	if err != nil {
		return err
	}
	if hi.Less(lo) {
		return Errorf(EINVALID, "%s block %s-%s ends before it begins", b.Family, b.First, b.Last)
	}
	b.First, b.Last = canonicalNumber(b.Family, b.First, lo), canonicalNumber(b.Family, b.Last, hi)
	if b.Family == FamilyIPv6 {
		if _, ok := b.Prefix(); !ok {
			return Errorf(EINVALID, "ipv6 block %s-%s is not a CIDR prefix: IPv6 is delegated in aligned prefixes", b.First, b.Last)
		}
	}
	if !registryRE.MatchString(b.Registry) {
		return Errorf(EINVALID, "block %s: registry %q: want ietf, iana, an RIR (%s) or an organisation handle of letters, digits, '.', '_' and '-'", b.Label(), b.Registry, strings.Join(RIRs, ", "))
	}
	if b.Holder != "" && !holderRE.MatchString(b.Holder) {
		return Errorf(EINVALID, "block %s: holder %q: want 1 to 128 printable characters without spaces or '|'", b.Label(), b.Holder)
	}
	switch b.Status {
	case StatusAllocated, StatusAssigned, StatusAvailable, StatusReserved:
	default:
		return Errorf(EINVALID, "block %s: status %q: want allocated, assigned, available or reserved", b.Label(), b.Status)
	}
	if b.Country != "" && !countryRE.MatchString(b.Country) {
		return Errorf(EINVALID, "block %s: country %q: want two capital letters (ISO 3166, or EU, AP, ZZ)", b.Label(), b.Country)
	}
	if b.Date != "" && !dateRE.MatchString(b.Date) {
		return Errorf(EINVALID, "block %s: date %q: want YYYYMMDD", b.Label(), b.Date)
	}
	if len(b.Name) > 500 || strings.ContainsAny(b.Name, "\n\r") {
		return Errorf(EINVALID, "block %s: name: at most 500 characters on one line", b.Label())
	}
	if len(b.Contacts) > 20 {
		return Errorf(EINVALID, "block %s: at most 20 contacts", b.Label())
	}
	for _, c := range b.Contacts {
		if !holderRE.MatchString(c.Handle) {
			return Errorf(EINVALID, "block %s: contact handle %q: want 1 to 128 printable characters without spaces", b.Label(), c.Handle)
		}
		switch c.Role {
		case "registrant", "administrative", "technical", "abuse", "noc", "billing":
		default:
			return Errorf(EINVALID, "block %s: contact %s: role %q: want registrant, administrative, technical, abuse, noc or billing", b.Label(), c.Handle, c.Role)
		}
	}
	for _, x := range b.Ext {
		if strings.ContainsAny(x, "|\n\r") {
			return Errorf(EINVALID, "block %s: extension field %q contains '|' or a line break", b.Label(), x)
		}
	}
	return nil
}

// CompareBlocks orders blocks of one family as a pre-order walk of the
// hierarchy: by first value, then larger ranges first, then higher
// registries first (so IANA's /8 comes before the RIR's record of the same
// /8), then by registry id.
func CompareBlocks(a, b *Block, sa, sb Span) int {
	if c := sa.First.Cmp(sb.First); c != 0 {
		return c
	}
	if c := sb.Last.Cmp(sa.Last); c != 0 {
		return c
	}
	if a.Holder != "" && a.Holder == b.Registry {
		return -1
	}
	if b.Holder != "" && b.Holder == a.Registry {
		return 1
	}
	if c := RegistryRank(a.Registry) - RegistryRank(b.Registry); c != 0 {
		return c
	}
	return strings.Compare(a.Registry, b.Registry)
}

// CheckNesting checks the hierarchy rules over a set of blocks of one
// family: any two are nested or disjoint, no registry records two
// overlapping blocks unless the outer one is reserved (IANA's 3000::/4
// holds its 3ffe::/16, both reserved). It sorts blocks (with CompareBlocks) and returns an
// EINVALID error naming the first two blocks that break a rule.
func CheckNesting(blocks []*Block) error {
	type item struct {
		b *Block
		s Span
	}
	items := make([]item, len(blocks))
	for i, b := range blocks {
		items[i] = item{b, b.Span()}
	}
	slices.SortFunc(items, func(x, y item) int { return CompareBlocks(x.b, y.b, x.s, y.s) })
	var stack []item
	open := map[string]*Block{} // registry -> its block on the stack
	for _, it := range items {
		for len(stack) > 0 && stack[len(stack)-1].s.Last.Less(it.s.First) {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if open[top.b.Registry] == top.b {
				delete(open, top.b.Registry)
			}
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.s.Last.Less(it.s.Last) {
				return Errorf(EINVALID, "%s block %s (%s) overlaps %s (%s) without lying inside it", it.b.Family, it.b.Label(), it.b.Registry, top.b.Label(), top.b.Registry)
			}
		}
		if other := open[it.b.Registry]; other != nil && other.Status != StatusReserved {
			if other.Ref() == it.b.Ref() {
				return Errorf(EINVALID, "%s block %s is recorded twice by %s", it.b.Family, it.b.Label(), it.b.Registry)
			}
			return Errorf(EINVALID, "%s block %s overlaps %s, which %s has recorded already", it.b.Family, it.b.Label(), other.Label(), it.b.Registry)
		}
		stack = append(stack, it)
		open[it.b.Registry] = it.b
	}
	return nil
}

// LoadBlock reads the block at a block key (see BlockKey), or returns
// ENOTFOUND.
func LoadBlock(ctx context.Context, r StateReader, key string) (*Block, error) {
	return newBlockSet(r).load(ctx, key)
}

// LoadBlocks reads every block of a family, in key order. It reads the
// whole family: callers building an index use it once and keep the result.
func LoadBlocks(ctx context.Context, r StateReader, family string) ([]*Block, error) {
	var all []chunkEntry
	err := scanChunks(ctx, r, ChunkKeyPrefix(family), "", func(_ string, es []chunkEntry) bool {
		all = append(all, es...)
		return true
	})
	if err != nil {
		return nil, err
	}
	rows, err := loadRows(ctx, r, family, "", "")
	if err != nil {
		return nil, err
	}
	all = append(all, rows...)
	slices.SortFunc(all, func(a, b chunkEntry) int {
		if c := cmpEntry(a, b.s.First, b.s.Last); c != 0 {
			return c
		}
		return strings.Compare(a.b.Registry, b.b.Registry)
	})
	out := make([]*Block, len(all))
	for i, e := range all {
		out[i] = e.b
	}
	return out, nil
}

// loadRows reads the blocks of a family kept in records of their own, with
// keys after after and up to end ("" for no bound).
func loadRows(ctx context.Context, r StateReader, family, after, end string) ([]chunkEntry, error) {
	prefix := BlockKeyPrefix(family)
	var out []chunkEntry
	for {
		kvs, err := r.Scan(ctx, prefix, after, 5000)
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			if end != "" && kv.Key > end {
				return out, nil
			}
			b := new(Block)
			if err := unmarshalStrict(kv.Value, b); err != nil {
				return nil, fmt.Errorf("state %s: %w", kv.Key, err)
			}
			out = append(out, chunkEntry{b, b.Span()})
		}
		if len(kvs) < 5000 {
			return out, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// LoadRegistryBlocksIn reads the blocks of a family recorded by registry
// whose first value lies in s, in key order.
func LoadRegistryBlocksIn(ctx context.Context, r StateReader, family, registry string, s Span) ([]*Block, error) {
	prefix := chunkRegPrefix(family, registry)
	after := ""
	if !s.First.IsZero() {
		after = prefix + hexNum(family, s.First.Dec())
	}
	var all []chunkEntry
	err := scanChunks(ctx, r, prefix, after, func(_ string, es []chunkEntry) bool {
		for _, e := range es {
			if s.Last.Less(e.s.First) {
				return false
			}
			if !e.s.First.Less(s.First) {
				all = append(all, e)
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	rowsAfter := ""
	if !s.First.IsZero() {
		rowsAfter = BlockKeyPrefix(family) + hexNum(family, s.First.Dec()) + "-~"
	}
	rows, err := loadRows(ctx, r, family, rowsAfter, BlockKeyPrefix(family)+hexNum(family, s.Last)+"-~")
	if err != nil {
		return nil, err
	}
	for _, e := range rows {
		if e.b.Registry == registry {
			all = append(all, e)
		}
	}
	slices.SortFunc(all, func(a, b chunkEntry) int { return cmpEntry(a, b.s.First, b.s.Last) })
	out := make([]*Block, len(all))
	for i, e := range all {
		out[i] = e.b
	}
	return out, nil
}
