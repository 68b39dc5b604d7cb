package steward

import (
	"context"
	"math/big"
	"strings"
)

// Special-purpose AS numbers (RFC 7607, 6793, 5398, 6996, 7300): no registry
// allocates or assigns them; they may only be recorded as reserved.
var specialASNs = []struct {
	first, last uint64
	what        string
}{
	{0, 0, "AS0 (RFC 7607)"},
	{23456, 23456, "AS_TRANS (RFC 6793)"},
	{64496, 64511, "documentation (RFC 5398)"},
	{64512, 65534, "private use (RFC 6996)"},
	{65535, 65535, "reserved (RFC 7300)"},
	{65536, 65551, "documentation (RFC 5398)"},
	{4200000000, 4294967294, "private use (RFC 6996)"},
	{4294967295, 4294967295, "reserved (RFC 7300)"},
}

// specialASN returns what special range s overlaps, or "".
func specialASN(s Span) string {
	for _, r := range specialASNs {
		if s.Overlaps(Span{U128(r.first), U128(r.last)}) {
			return r.what
		}
	}
	return ""
}

// AllocateBlock returns the command by which a registry delegates a block
// (b.Registry delegates b to b.Holder with status allocated, assigned or
// reserved). The block must lie inside space the registry holds (a block
// delegated to it, or its own available space) and overlap nothing it has
// delegated already; address blocks must be aligned prefixes; AS numbers
// must be in range and not special-purpose. The size must be one the
// policy in force allows: for IANA's allocations to RIRs, what the global
// policy grants the RIR today (see EvaluatePolicies); for an RIR's or a
// local registry's delegations, no longer a prefix than the delegation
// policy allows. A block carved from an available record leaves the rest of
// that record available. Only an operator may allocate.
func AllocateBlock(actor string, b Block) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := canAdminNumbers(ctx, tx, actor, "allocate number resources"); err != nil {
			return nil, err
		}
		b.Contacts, b.Ext, b.Events, b.IANA = append([]Contact(nil), b.Contacts...), nil, nil, nil
		if b.Date == "" {
			b.Date = tx.Now().Format("20060102")
		}
		if err := b.Normalize(); err != nil {
			return nil, err
		}
		if b.Status == StatusAvailable {
			return nil, Errorf(EINVALID, "block %s: allocate with status allocated, assigned or reserved; space becomes available by being returned", b.Label())
		}
		if b.Holder == "" && b.Status != StatusReserved {
			return nil, Errorf(EINVALID, "block %s: name the holder it is delegated to", b.Label())
		}
		if b.Holder == b.Registry {
			return nil, Errorf(EINVALID, "block %s: %s cannot delegate to itself", b.Label(), b.Registry)
		}
		span := b.Span()
		if b.Family != FamilyASN {
			if _, ok := b.Prefix(); !ok {
				return nil, Errorf(EINVALID, "block %s-%s is not an aligned CIDR prefix", b.First, b.Last)
			}
		} else if what := specialASN(span); what != "" && b.Status != StatusReserved {
			return nil, Errorf(EINVALID, "%s includes %s: such AS numbers are never allocated", b.Label(), what)
		}
		all, err := LoadBlocks(ctx, tx, b.Family)
		if err != nil {
			return nil, err
		}
		// The space b comes from: the smallest block containing it that
		// b.Registry holds, or an available record of its own.
		var from *Block
		var fromSpan Span
		for _, x := range all {
			xs := x.Span()
			if !xs.Contains(span) {
				if x.Registry == b.Registry && xs.Overlaps(span) {
					return nil, Errorf(EINVALID, "%s overlaps %s, which %s has delegated already", b.Label(), x.Label(), b.Registry)
				}
				continue
			}
			if x.Registry == b.Registry {
				if x.Status != StatusAvailable {
					return nil, Errorf(EINVALID, "%s lies inside %s, which %s has delegated already (to %s)", b.Label(), x.Label(), b.Registry, orNone(x.Holder))
				}
			} else if x.Holder != b.Registry {
				continue
			}
			if from == nil || fromSpan.Contains(xs) {
				from, fromSpan = x, xs
			}
		}
		if from == nil && RegistryRank(b.Registry) > RegistryRank(RegistryIANA) {
			return nil, Errorf(EINVALID, "%s is outside every block %s holds: a registry delegates only from its own space", b.Label(), b.Registry)
		}
		if err := checkPolicySize(ctx, tx, &b, from); err != nil {
			return nil, err
		}
		p := AllocatedPayload{Block: b}
		final := make([]*Block, 0, len(all)+3)
		for _, x := range all {
			if from == nil || x != from || from.Status != StatusAvailable || from.Registry != b.Registry {
				final = append(final, x)
			}
		}
		final = append(final, &p.Block)
		if from != nil && from.Status == StatusAvailable && from.Registry == b.Registry {
			ref := from.Ref()
			p.From = &ref
			p.Remainder = remainder(from, fromSpan, span)
			for i := range p.Remainder {
				final = append(final, &p.Remainder[i])
			}
		}
		if err := CheckNesting(final); err != nil {
			return nil, err
		}
		if _, err := tx.Emit(ctx, actor, eventKind(b.Family, "allocated"), p); err != nil {
			return nil, err
		}
		return &p, nil
	}
}

func orNone(s string) string {
	if s == "" {
		return "no one"
	}
	return s
}

// remainder returns what is left of the available record from once s is
// taken out: IPv4 and AS ranges as they are, IPv6 as aligned prefixes.
func remainder(from *Block, fs, s Span) []Block {
	var parts []Span
	if fs.First.Less(s.First) {
		parts = append(parts, Span{fs.First, s.First.Dec()})
	}
	if s.Last.Less(fs.Last) {
		parts = append(parts, Span{s.Last.Inc(), fs.Last})
	}
	var out []Block
	mk := func(p Span) {
		out = append(out, Block{Family: from.Family, First: FormatNumber(from.Family, p.First), Last: FormatNumber(from.Family, p.Last),
			Registry: from.Registry, Status: StatusAvailable})
	}
	for _, p := range parts {
		if from.Family != FamilyIPv6 {
			mk(p)
			continue
		}
		for _, c := range p.CIDRSplit(128) {
			last := c.First.Add(U128(1).Lsh(uint(c.Bits))).Dec()
			if c.Bits == 128 {
				last = Uint128{^uint64(0), ^uint64(0)}
			}
			mk(Span{c.First, last})
		}
	}
	return out
}

// checkPolicySize checks b's size against the policy in force.
func checkPolicySize(ctx context.Context, tx Tx, b *Block, from *Block) error {
	pol, err := LoadNumberPolicies(ctx, tx)
	if err != nil {
		return err
	}
	bits := 0
	if pfx, ok := b.Prefix(); ok {
		bits = pfx.Bits()
	}
	switch {
	case b.Registry == RegistryIANA && IsRIR(b.Holder) && b.Status != StatusReserved:
		var all []*Block
		for _, fam := range Families {
			bs, err := LoadBlocks(ctx, tx, fam)
			if err != nil {
				return err
			}
			all = append(all, bs...)
		}
		rep := EvaluatePolicies(pol, all, tx.Now())
		policy := map[string]string{FamilyIPv6: "ipv6", FamilyASN: "asn", FamilyIPv4: "ipv4-recovered"}[b.Family]
		var g *PolicyGrant
		for i := range rep.Grants {
			if rep.Grants[i].Registry == b.Holder && rep.Grants[i].Policy == policy {
				g = &rep.Grants[i]
			}
		}
		if g == nil || !g.Eligible {
			why := ""
			if g != nil {
				why = ": " + g.Why
			}
			return Errorf(EINVALID, "the %s global policy grants %s nothing today%s", policy, b.Holder, why)
		}
		size := b.Span().Size()
		switch b.Family {
		case FamilyIPv6:
			if bits != g.Bits {
				return Errorf(EINVALID, "the ipv6 global policy grants %s %s today, not a /%d", b.Holder, g.Grant, bits)
			}
		case FamilyASN:
			if size.Lo%uint64(pol.ASN.BlockSize) != 0 || size.Big().Cmp(mustBig(g.Size)) > 0 {
				return Errorf(EINVALID, "the asn global policy grants %s %s today; %s is %s AS numbers", b.Holder, g.Grant, b.Label(), size)
			}
		case FamilyIPv4:
			if from == nil || from.Registry != RegistryIANA || from.Status != StatusAvailable {
				return Errorf(EINVALID, "IANA allocates IPv4 only from its recovered pool (its available space); %s is not in it", b.Label())
			}
			if size.Big().Cmp(mustBig(g.Size)) > 0 {
				return Errorf(EINVALID, "the ipv4-recovered global policy grants %s %s this period; %s is larger", b.Holder, g.Grant, b.Label())
			}
		}
	case IsRIR(b.Registry):
		if b.Family == FamilyIPv4 && int64(bits) > pol.Delegation.RIRIPv4Longest {
			return Errorf(EINVALID, "%s is longer than a /%d, the longest IPv4 prefix an RIR delegates under the policy in force", b.Label(), pol.Delegation.RIRIPv4Longest)
		}
		if b.Family == FamilyIPv6 && int64(bits) > pol.Delegation.RIRIPv6Longest {
			return Errorf(EINVALID, "%s is longer than a /%d, the longest IPv6 prefix an RIR delegates under the policy in force", b.Label(), pol.Delegation.RIRIPv6Longest)
		}
	case RegistryRank(b.Registry) > 2:
		if b.Family == FamilyIPv6 && int64(bits) > pol.Delegation.LIRIPv6Longest {
			return Errorf(EINVALID, "%s is longer than a /%d, the longest IPv6 prefix a local registry assigns under the policy in force", b.Label(), pol.Delegation.LIRIPv6Longest)
		}
	}
	return nil
}

func mustBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return new(big.Int)
	}
	return n
}

// ReturnBlock returns the command by which a block goes back to the pool of
// the registry that delegated it: the holder returns it, or the registry
// recovers it (recovered). Nothing may still be delegated inside it.
func ReturnBlock(actor string, ref BlockRef, reason string, recovered bool) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if err := canAdminNumbers(ctx, tx, actor, "return number resources"); err != nil {
			return nil, err
		}
		key := ref.Key()
		if key == "" {
			return nil, Errorf(EINVALID, "%s %s-%s is not a valid block", ref.Family, ref.First, ref.Last)
		}
		b, err := LoadBlock(ctx, tx, key)
		if err != nil {
			return nil, err
		}
		if b.Status == StatusAvailable {
			return nil, Errorf(ECONFLICT, "%s is available already", b.Label())
		}
		if len(reason) > 1000 || strings.ContainsAny(reason, "\n\r") {
			return nil, Errorf(EINVALID, "reason: at most 1000 characters on one line")
		}
		if b.Holder != "" {
			inside, err := LoadRegistryBlocksIn(ctx, tx, b.Family, b.Holder, b.Span())
			if err != nil {
				return nil, err
			}
			n := 0
			for _, x := range inside {
				if x.Status != StatusAvailable {
					n++
				}
			}
			if n > 0 {
				return nil, Errorf(ECONFLICT, "%s still has %d delegation(s) by %s inside it: return or recover those first", b.Label(), n, b.Holder)
			}
		}
		p := ReturnedPayload{Block: b.Ref(), Reason: reason, Recovered: recovered}
		if _, err := tx.Emit(ctx, actor, eventKind(b.Family, "returned"), p); err != nil {
			return nil, err
		}
		return &p, nil
	}
}
