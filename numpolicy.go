package steward

import (
	"context"
	"fmt"
	"math"
	"math/big"
	mbits "math/bits"
	"slices"
	"strings"
	"time"
)

// NumberPolicies is the registry's policy set for number resources: the
// parameters of the global policies that govern IANA's allocations to the
// RIRs, and the sizes the registries may delegate. It lives in the state at
// num/policy and changes only by a block.policy-set event, so a policy
// development process can change it; until one is set, DefaultNumberPolicies
// is in force.
type NumberPolicies struct {
	IPv6       IPv6Policy          `json:"ipv6"`
	ASN        ASNPolicy           `json:"asn"`
	IPv4       IPv4RecoveredPolicy `json:"ipv4_recovered"`
	Delegation DelegationPolicy    `json:"delegation"`
}

// IPv6Policy is the global policy for IPv6 allocations from IANA to RIRs
// (ICANN, ratified 7 September 2006): IANA allocates in units of a /UnitBits;
// an RIR is eligible when its available space is under ThresholdPercent of
// a unit or under NeedMonths of its necessary space, and then gets one
// allocation covering SupplyMonths of need. Necessary space is the average
// monthly allocation over the past HistoryMonths; free blocks smaller than
// a /MinAllocBits are fragmented and do not count as available.
type IPv6Policy struct {
	UnitBits         int64 `json:"unit_bits"`         // 12: a /12
	ThresholdPercent int64 `json:"threshold_percent"` // 50
	NeedMonths       int64 `json:"need_months"`       // 9
	SupplyMonths     int64 `json:"supply_months"`     // 18
	HistoryMonths    int64 `json:"history_months"`    // 6
	MinAllocBits     int64 `json:"min_alloc_bits"`    // 32: an RIR's minimum allocation
}

// ASNPolicy is the global policy for AS number blocks from IANA to RIRs
// (ripe-480, 2010): blocks of BlockSize; an RIR is eligible when it has
// assigned AssignedPercent of its latest block or its free AS numbers are
// under NeedMonths of need, and then gets enough blocks for SupplyMonths.
type ASNPolicy struct {
	BlockSize       int64 `json:"block_size"`       // 1024
	AssignedPercent int64 `json:"assigned_percent"` // 80
	NeedMonths      int64 `json:"need_months"`      // 2
	SupplyMonths    int64 `json:"supply_months"`    // 12
	HistoryMonths   int64 `json:"history_months"`   // 6
}

// IPv4RecoveredPolicy is the post-exhaustion global policy (ratified 6 May
// 2012): IANA's recovered IPv4 pool is shared in Shares equal parts in each
// period of PeriodMonths starting on day 1 of the months in StartMonths,
// each part rounded down to a CIDR boundary and no smaller than a
// /MinBits; the pool is active once an RIR's inventory falls under a
// /ActivationBits.
type IPv4RecoveredPolicy struct {
	StartMonths    []int64 `json:"start_months"`    // [3, 9]: 1 March and 1 September
	PeriodMonths   int64   `json:"period_months"`   // 6
	Shares         int64   `json:"shares"`          // 5: the pool in fifths
	MinBits        int64   `json:"min_bits"`        // 24: no unit smaller than a /24
	ActivationBits int64   `json:"activation_bits"` // 9: active once an RIR holds less than a /9
}

// DelegationPolicy bounds what RIRs and local registries delegate: the
// longest prefix an RIR may allocate or assign (IPv4 and IPv6), and the
// longest IPv6 prefix a local registry may assign.
type DelegationPolicy struct {
	RIRIPv4Longest int64 `json:"rir_ipv4_longest"` // 24
	RIRIPv6Longest int64 `json:"rir_ipv6_longest"` // 48
	LIRIPv6Longest int64 `json:"lir_ipv6_longest"` // 64
}

// DefaultNumberPolicies returns the global policies as ratified.
func DefaultNumberPolicies() NumberPolicies {
	return NumberPolicies{
		IPv6:       IPv6Policy{UnitBits: 12, ThresholdPercent: 50, NeedMonths: 9, SupplyMonths: 18, HistoryMonths: 6, MinAllocBits: 32},
		ASN:        ASNPolicy{BlockSize: 1024, AssignedPercent: 80, NeedMonths: 2, SupplyMonths: 12, HistoryMonths: 6},
		IPv4:       IPv4RecoveredPolicy{StartMonths: []int64{3, 9}, PeriodMonths: 6, Shares: 5, MinBits: 24, ActivationBits: 9},
		Delegation: DelegationPolicy{RIRIPv4Longest: 24, RIRIPv6Longest: 48, LIRIPv6Longest: 64},
	}
}

// Validate checks the parameters' ranges.
func (p *NumberPolicies) Validate() error {
	bad := func(field string, v int64, lo, hi int64) error {
		if v < lo || v > hi {
			return Errorf(EINVALID, "number policy %s = %d: want %d to %d", field, v, lo, hi)
		}
		return nil
	}
	for _, c := range []struct {
		f         string
		v, lo, hi int64
	}{
		{"ipv6.unit_bits", p.IPv6.UnitBits, 3, 64},
		{"ipv6.threshold_percent", p.IPv6.ThresholdPercent, 0, 100},
		{"ipv6.need_months", p.IPv6.NeedMonths, 0, 120},
		{"ipv6.supply_months", p.IPv6.SupplyMonths, 1, 120},
		{"ipv6.history_months", p.IPv6.HistoryMonths, 1, 120},
		{"ipv6.min_alloc_bits", p.IPv6.MinAllocBits, p.IPv6.UnitBits, 128},
		{"asn.block_size", p.ASN.BlockSize, 1, 1 << 24},
		{"asn.assigned_percent", p.ASN.AssignedPercent, 0, 100},
		{"asn.need_months", p.ASN.NeedMonths, 0, 120},
		{"asn.supply_months", p.ASN.SupplyMonths, 1, 120},
		{"asn.history_months", p.ASN.HistoryMonths, 1, 120},
		{"ipv4_recovered.period_months", p.IPv4.PeriodMonths, 1, 12},
		{"ipv4_recovered.shares", p.IPv4.Shares, 1, 256},
		{"ipv4_recovered.min_bits", p.IPv4.MinBits, 8, 32},
		{"ipv4_recovered.activation_bits", p.IPv4.ActivationBits, 1, 32},
		{"delegation.rir_ipv4_longest", p.Delegation.RIRIPv4Longest, 8, 32},
		{"delegation.rir_ipv6_longest", p.Delegation.RIRIPv6Longest, 12, 128},
		{"delegation.lir_ipv6_longest", p.Delegation.LIRIPv6Longest, 12, 128},
	} {
		if err := bad(c.f, c.v, c.lo, c.hi); err != nil {
			return err
		}
	}
	if len(p.IPv4.StartMonths) == 0 || len(p.IPv4.StartMonths) > 12 {
		return Errorf(EINVALID, "number policy ipv4_recovered.start_months: give 1 to 12 months")
	}
	for _, m := range p.IPv4.StartMonths {
		if m < 1 || m > 12 {
			return Errorf(EINVALID, "number policy ipv4_recovered.start_months: %d is not a month (1 to 12)", m)
		}
	}
	if !slices.IsSorted(p.IPv4.StartMonths) || len(slices.Compact(slices.Clone(p.IPv4.StartMonths))) != len(p.IPv4.StartMonths) {
		return Errorf(EINVALID, "number policy ipv4_recovered.start_months: list months once each, in order")
	}
	return nil
}

const keyNumPolicy = "num/policy"

// PolicySetPayload is the payload of block.policy-set.
type PolicySetPayload struct {
	Policies NumberPolicies `json:"policies"`
	Reason   string         `json:"reason,omitempty"`
}

func init() {
	register("block.policy-set", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *PolicySetPayload) error {
		if err := p.Policies.Validate(); err != nil {
			return err
		}
		return PutJSON(ctx, w, keyNumPolicy, p.Policies)
	}))
}

// LoadNumberPolicies returns the policy set in force: the one last set, or
// the defaults.
func LoadNumberPolicies(ctx context.Context, r StateReader) (NumberPolicies, error) {
	var p NumberPolicies
	err := GetJSON(ctx, r, keyNumPolicy, &p)
	if ErrorCode(err) == ENOTFOUND {
		return DefaultNumberPolicies(), nil
	}
	return p, err
}

// SetNumberPolicies returns the command by which an operator puts a new
// policy set in force (for instance once a policy process has adopted it).
func SetNumberPolicies(actor string, p NumberPolicies, reason string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := canAdminNumbers(ctx, tx, actor, "change number policies"); err != nil {
			return nil, err
		}
		p.IPv4.StartMonths = slices.Clone(p.IPv4.StartMonths)
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if len(reason) > 1000 {
			return nil, Errorf(EINVALID, "reason: at most 1000 characters")
		}
		cur, err := LoadNumberPolicies(ctx, tx)
		if err != nil {
			return nil, err
		}
		if equalJSON(&cur, &p) {
			return nil, Errorf(ECONFLICT, "these number policies are in force already")
		}
		_, err = tx.Emit(ctx, actor, "block.policy-set", PolicySetPayload{Policies: p, Reason: reason})
		return &p, err
	}
}

// PolicyGrant is what one global policy grants one RIR at a moment, and why.
type PolicyGrant struct {
	Registry string `json:"registry"`
	Policy   string `json:"policy"` // ipv6, asn, ipv4-recovered
	Eligible bool   `json:"eligible"`
	// Grant describes the allocation ("one /12", "2 blocks of 1024 AS
	// numbers", "a /20"); empty when nothing is granted.
	Grant string `json:"grant,omitempty"`
	// Size is the number of addresses or AS numbers granted (decimal).
	Size string `json:"size"`
	// Bits is the prefix length of an address grant (0 for AS numbers or
	// none).
	Bits int `json:"bits,omitempty"`
	// Facts are the measured inputs, in order.
	Facts []Fact `json:"facts"`
	// Why explains the outcome in words.
	Why string `json:"why"`
}

// Fact is one measured input of a policy evaluation.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PolicyReport is the evaluation of every global number policy for every
// RIR at a moment.
type PolicyReport struct {
	At       time.Time      `json:"at"`
	Policies NumberPolicies `json:"policies"`
	Grants   []PolicyGrant  `json:"grants"`
	// Notes are observations about the registry that bear on every grant
	// (the IPv4 recovered pool's size and period, for instance).
	Notes []Fact `json:"notes"`
}

// EvaluatePolicies applies the policy set to the recorded allocation
// history in blocks (every block of every family) at the moment at. It
// reads dates from the blocks' Date fields; a block without a date counts
// as held but not as recent activity.
func EvaluatePolicies(p NumberPolicies, blocks []*Block, at time.Time) *PolicyReport {
	at = at.UTC()
	rep := &PolicyReport{At: at, Policies: p}
	fam := map[string][]*Block{}
	for _, b := range blocks {
		fam[b.Family] = append(fam[b.Family], b)
	}
	v4 := evalIPv4Recovered(p.IPv4, fam[FamilyIPv4], at, rep)
	for _, rir := range RIRs {
		rep.Grants = append(rep.Grants, evalIPv6(p.IPv6, rir, fam[FamilyIPv6], at))
		rep.Grants = append(rep.Grants, evalASN(p.ASN, rir, fam[FamilyASN], at))
		rep.Grants = append(rep.Grants, v4(rir))
	}
	return rep
}

// monthsBefore returns the YYYYMMDD date n months before at.
func monthsBefore(at time.Time, n int64) string {
	return at.AddDate(0, -int(n), 0).Format("20060102")
}

// holdings returns IANA's blocks held by rir, the RIR's own records inside
// them that are delegated (allocated, assigned or reserved), and its
// available records.
type holding struct {
	pool      []*Block // IANA's blocks delegated to the RIR
	used      []*Block // the RIR's delegations inside pool
	available []*Block // the RIR's available records
}

func holdingsOf(rir string, blocks []*Block) holding {
	var h holding
	for _, b := range blocks {
		switch {
		case b.Registry == RegistryIANA && b.Holder == rir && b.Status != StatusAvailable:
			h.pool = append(h.pool, b)
		case b.Registry == rir && b.Status == StatusAvailable:
			h.available = append(h.available, b)
		case b.Registry == rir:
			h.used = append(h.used, b)
		}
	}
	return h
}

// freeSpans returns the parts of the pool that no used block covers, sorted.
func freeSpans(pool, used []*Block) []Span {
	type iv = Span
	var ps, us []iv
	for _, b := range pool {
		ps = append(ps, b.Span())
	}
	for _, b := range used {
		us = append(us, b.Span())
	}
	cmp := func(a, b iv) int { return a.First.Cmp(b.First) }
	slices.SortFunc(ps, cmp)
	slices.SortFunc(us, cmp)
	var out []iv
	j := 0
	for _, p := range ps {
		cur := p.First
		done := false
		for ; j < len(us) && !p.Last.Less(us[j].First); j++ {
			u := us[j]
			if u.Last.Less(cur) {
				continue
			}
			if cur.Less(u.First) {
				out = append(out, iv{cur, u.First.Dec()})
			}
			if !u.Last.Less(p.Last) {
				done = true
				j++
				break
			}
			cur = u.Last.Inc()
		}
		if !done && !p.Last.Less(cur) {
			out = append(out, iv{cur, p.Last})
		}
	}
	return out
}

func sumSizes(bs []*Block) Uint128 {
	var n Uint128
	for _, b := range bs {
		n = n.Add(b.Span().Size())
	}
	return n
}

// recentSize sums the sizes of delegations dated in [from, to).
func recentSize(bs []*Block, from, to string) Uint128 {
	var n Uint128
	for _, b := range bs {
		if b.Status == StatusReserved || b.Date == "" || b.Date < from || b.Date >= to {
			continue
		}
		n = n.Add(b.Span().Size())
	}
	return n
}

func bigOf(u Uint128) *big.Int { return u.Big() }

// ratText writes n×2^-shift in a readable unit (a count of /L prefixes).
func prefixCount(n *big.Int, width, bits int) string {
	unit := new(big.Int).Lsh(big.NewInt(1), uint(width-bits))
	q, r := new(big.Int).QuoRem(n, unit, new(big.Int))
	if r.Sign() == 0 {
		return fmt.Sprintf("%s × /%d", q, bits)
	}
	f, _ := new(big.Rat).SetFrac(n, unit).Float64()
	return fmt.Sprintf("%.3g × /%d", f, bits)
}

func evalIPv6(p IPv6Policy, rir string, blocks []*Block, at time.Time) PolicyGrant {
	g := PolicyGrant{Registry: rir, Policy: "ipv6", Size: "0"}
	h := holdingsOf(rir, blocks)
	unit := new(big.Int).Lsh(big.NewInt(1), uint(128-p.UnitBits))
	// Available: free space in the pool, in pieces no smaller than the
	// RIR's minimum allocation.
	minAlloc := int(128 - p.MinAllocBits)
	avail, frag := new(big.Int), new(big.Int)
	free := freeSpans(h.pool, h.used)
	for _, s := range free {
		for _, part := range s.CIDRSplit(128) {
			size := new(big.Int).Lsh(big.NewInt(1), uint(part.Bits))
			if part.Bits >= minAlloc {
				avail.Add(avail, size)
			} else {
				frag.Add(frag, size)
			}
		}
	}
	held := bigOf(sumSizes(h.pool))
	recent := bigOf(recentSize(h.used, monthsBefore(at, p.HistoryMonths), at.Format("20060102")))
	monthly := new(big.Rat).SetFrac(recent, big.NewInt(p.HistoryMonths))
	need := func(months int64) *big.Rat { return new(big.Rat).Mul(monthly, new(big.Rat).SetInt64(months)) }
	threshold := new(big.Rat).SetFrac(new(big.Int).Mul(unit, big.NewInt(p.ThresholdPercent)), big.NewInt(100))
	availR := new(big.Rat).SetInt(avail)
	g.Facts = []Fact{
		{"held from IANA", prefixCount(held, 128, int(p.UnitBits))},
		{"available (free, unfragmented)", prefixCount(avail, 128, int(p.MinAllocBits))},
		{"fragmented (free blocks under /" + fmt.Sprint(p.MinAllocBits) + ")", prefixCount(frag, 128, 48)},
		{fmt.Sprintf("allocated in the past %d months", p.HistoryMonths), prefixCount(recent, 128, int(p.MinAllocBits))},
		{fmt.Sprintf("necessary space, %d months", p.NeedMonths), ratPrefix(need(p.NeedMonths), int(p.MinAllocBits))},
		{fmt.Sprintf("%d%% of a /%d", p.ThresholdPercent, p.UnitBits), ratPrefix(threshold, int(p.MinAllocBits))},
	}
	low := availR.Cmp(threshold) < 0
	short := availR.Cmp(need(p.NeedMonths)) < 0
	switch {
	case len(h.pool) == 0:
		g.Eligible = true
		g.Why = fmt.Sprintf("%s holds no IPv6 space from IANA: its first allocation is one /%d", rir, p.UnitBits)
	case low:
		g.Eligible = true
		g.Why = fmt.Sprintf("available space is under %d%% of a /%d", p.ThresholdPercent, p.UnitBits)
	case short:
		g.Eligible = true
		g.Why = fmt.Sprintf("available space is under %d months of necessary space", p.NeedMonths)
	default:
		g.Why = fmt.Sprintf("available space is at least %d%% of a /%d and at least %d months of necessary space", p.ThresholdPercent, p.UnitBits, p.NeedMonths)
		return g
	}
	// One allocation covering SupplyMonths of need: whole units, and a
	// single CIDR block, so a power of two of them.
	want := new(big.Rat).Sub(need(p.SupplyMonths), availR)
	units := int64(1)
	if want.Sign() > 0 {
		q := new(big.Rat).Quo(want, new(big.Rat).SetInt(unit))
		f, _ := q.Float64()
		units = max(1, int64(math.Ceil(f)))
	}
	bits := int(p.UnitBits)
	for n := int64(1); n < units && bits > 0; n *= 2 {
		bits--
	}
	g.Bits = bits
	size := new(big.Int).Lsh(big.NewInt(1), uint(128-bits))
	g.Size = size.String()
	g.Grant = fmt.Sprintf("one /%d", bits)
	g.Facts = append(g.Facts, Fact{fmt.Sprintf("necessary space, %d months", p.SupplyMonths), ratPrefix(need(p.SupplyMonths), int(p.MinAllocBits))})
	g.Why += fmt.Sprintf("; one allocation covering %d months of need: %s", p.SupplyMonths, g.Grant)
	return g
}

func ratPrefix(r *big.Rat, bits int) string {
	unit := new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(128-bits)))
	f, _ := new(big.Rat).Quo(r, unit).Float64()
	return fmt.Sprintf("%.3g × /%d", f, bits)
}

func evalASN(p ASNPolicy, rir string, blocks []*Block, at time.Time) PolicyGrant {
	g := PolicyGrant{Registry: rir, Policy: "asn", Size: "0"}
	h := holdingsOf(rir, blocks)
	held := sumSizes(h.pool).Lo
	var used uint64
	for _, b := range h.used {
		if b.Status != StatusReserved {
			used += b.Span().Size().Lo
		}
	}
	var free uint64
	for _, s := range freeSpans(h.pool, h.used) {
		free += s.Size().Lo
	}
	// The latest block: the one IANA allocated last (by date, then number).
	var latest *Block
	for _, b := range h.pool {
		if latest == nil || b.Date > latest.Date || b.Date == latest.Date && latest.Span().First.Less(b.Span().First) {
			latest = b
		}
	}
	recent := recentSize(h.used, monthsBefore(at, p.HistoryMonths), at.Format("20060102")).Lo
	monthly := float64(recent) / float64(p.HistoryMonths)
	need := func(m int64) float64 { return monthly * float64(m) }
	g.Facts = []Fact{
		{"held from IANA", fmt.Sprint(held)},
		{"assigned", fmt.Sprint(used)},
		{"free", fmt.Sprint(free)},
		{fmt.Sprintf("assigned in the past %d months", p.HistoryMonths), fmt.Sprint(recent)},
		{fmt.Sprintf("need, %d months", p.NeedMonths), fmt.Sprintf("%.1f", need(p.NeedMonths))},
	}
	var latestUsed float64
	if latest != nil {
		ls := latest.Span()
		var n uint64
		for _, b := range h.used {
			if b.Status != StatusReserved && ls.Contains(b.Span()) {
				n += b.Span().Size().Lo
			}
		}
		latestUsed = 100 * float64(n) / float64(ls.Size().Lo)
		g.Facts = append(g.Facts, Fact{"latest block from IANA", latest.Label() + " (" + latest.Date + ")"}, Fact{"of it assigned", fmt.Sprintf("%.1f%%", latestUsed)})
	}
	switch {
	case latest == nil:
		g.Eligible = true
		g.Why = fmt.Sprintf("%s holds no AS numbers from IANA: its first allocation is one block", rir)
	case latestUsed >= float64(p.AssignedPercent):
		g.Eligible = true
		g.Why = fmt.Sprintf("%.1f%% of its latest block is assigned, at least %d%%", latestUsed, p.AssignedPercent)
	case float64(free) < need(p.NeedMonths):
		g.Eligible = true
		g.Why = fmt.Sprintf("its free AS numbers are under %d months of need", p.NeedMonths)
	default:
		g.Why = fmt.Sprintf("%.1f%% of its latest block is assigned (under %d%%) and its free AS numbers cover %d months of need", latestUsed, p.AssignedPercent, p.NeedMonths)
		return g
	}
	blocksN := int64(1)
	if want := need(p.SupplyMonths) - float64(free); want > 0 {
		blocksN = max(1, int64(math.Ceil(want/float64(p.BlockSize))))
	}
	g.Size = fmt.Sprint(blocksN * p.BlockSize)
	g.Grant = fmt.Sprintf("%d block(s) of %d AS numbers", blocksN, p.BlockSize)
	g.Facts = append(g.Facts, Fact{fmt.Sprintf("need, %d months", p.SupplyMonths), fmt.Sprintf("%.1f", need(p.SupplyMonths))})
	g.Why += fmt.Sprintf("; enough blocks for %d months: %s", p.SupplyMonths, g.Grant)
	return g
}

// PeriodStart returns the start of the allocation period of the recovered
// IPv4 pool that contains at.
func (p IPv4RecoveredPolicy) PeriodStart(at time.Time) time.Time {
	at = at.UTC()
	var best time.Time
	for y := at.Year() - 1; y <= at.Year(); y++ {
		for _, m := range p.StartMonths {
			t := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			if !t.After(at) && t.After(best) {
				best = t
			}
		}
	}
	return best
}

// evalIPv4Recovered measures the recovered pool and returns the per-RIR
// evaluation.
func evalIPv4Recovered(p IPv4RecoveredPolicy, blocks []*Block, at time.Time, rep *PolicyReport) func(rir string) PolicyGrant {
	start := p.PeriodStart(at)
	next := start.AddDate(0, int(p.PeriodMonths), 0)
	for _, m := range p.StartMonths {
		for _, y := range []int{start.Year(), start.Year() + 1} {
			t := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
			if t.After(start) && t.Before(next) {
				next = t
			}
		}
	}
	from, to := start.Format("20060102"), next.Format("20060102")
	var pool uint64
	var pieces int
	served := map[string]uint64{}
	for _, b := range blocks {
		if b.Registry != RegistryIANA {
			continue
		}
		switch {
		case b.Status == StatusAvailable:
			pool += b.Span().Size().Lo
			pieces++
		case IsRIR(b.Holder) && b.Date >= from && b.Date < to:
			served[b.Holder] += b.Span().Size().Lo
		}
	}
	var given uint64
	for _, n := range served {
		given += n
	}
	// The pool as it stood when the period began: what is left plus what
	// was allocated from it since.
	atStart := pool + given
	share := atStart / uint64(p.Shares)
	bits := 0
	if share > 0 {
		bits = 32 - (63 - mbits.LeadingZeros64(share)) // round down to a power of two
	}
	inventory := map[string]uint64{}
	for _, b := range blocks {
		if IsRIR(b.Registry) && b.Status == StatusAvailable {
			inventory[b.Registry] += b.Span().Size().Lo
		}
	}
	active := false
	var lowest []string
	for _, rir := range RIRs {
		if inventory[rir] < 1<<(32-p.ActivationBits) {
			active = true
			lowest = append(lowest, rir)
		}
	}
	unitOK := share > 0 && int64(bits) <= p.MinBits
	rep.Notes = append(rep.Notes,
		Fact{"IPv4 period", start.Format("2006-01-02") + " to " + next.AddDate(0, 0, -1).Format("2006-01-02")},
		Fact{"recovered IPv4 pool now", fmt.Sprintf("%d addresses in %d blocks", pool, pieces)},
		Fact{"recovered IPv4 pool at the period's start", fmt.Sprint(atStart)},
	)
	if unitOK {
		rep.Notes = append(rep.Notes, Fact{"IPv4 allocation unit", fmt.Sprintf("1/%d of the pool = %d, rounded down to a /%d", p.Shares, share, bits)})
	}
	if active {
		rep.Notes = append(rep.Notes, Fact{"pool active", fmt.Sprintf("yes: %s hold(s) less than a /%d", strings.Join(lowest, ", "), p.ActivationBits)})
	} else {
		rep.Notes = append(rep.Notes, Fact{"pool active", fmt.Sprintf("no: every RIR holds at least a /%d", p.ActivationBits)})
	}
	return func(rir string) PolicyGrant {
		g := PolicyGrant{Registry: rir, Policy: "ipv4-recovered", Size: "0"}
		g.Facts = []Fact{
			{"inventory (available)", fmt.Sprint(inventory[rir])},
			{"received this period", fmt.Sprint(served[rir])},
		}
		switch {
		case !active:
			g.Why = fmt.Sprintf("the recovered pool is not active: every RIR holds at least a /%d", p.ActivationBits)
		case !unitOK:
			g.Why = fmt.Sprintf("1/%d of the pool (%d addresses) is smaller than a /%d", p.Shares, share, p.MinBits)
		case served[rir] > 0:
			g.Why = fmt.Sprintf("%s received its allocation for the period beginning %s", rir, start.Format("2 January 2006"))
		default:
			g.Eligible = true
			g.Bits = bits
			g.Size = fmt.Sprint(uint64(1) << (32 - bits))
			g.Grant = fmt.Sprintf("a /%d", bits)
			g.Why = fmt.Sprintf("one allocation unit for the period beginning %s: 1/%d of the pool, rounded down to a /%d", start.Format("2 January 2006"), p.Shares, bits)
		}
		return g
	}
}
