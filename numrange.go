package steward

import (
	"encoding/binary"
	"math/big"
	"math/bits"
	"net/netip"
)

// Uint128 is an unsigned 128-bit integer: an IPv6 address, an IPv4 address
// or an AS number as a number, so that ranges of all three families share
// one arithmetic. The zero value is 0.
type Uint128 struct{ Hi, Lo uint64 }

// U128 returns n as a Uint128.
func U128(n uint64) Uint128 { return Uint128{Lo: n} }

// AddrU128 returns the address as a number (IPv4 addresses are 32-bit numbers).
func AddrU128(a netip.Addr) Uint128 {
	if a.Is4() {
		b := a.As4()
		return Uint128{Lo: uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return Uint128{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:])}
}

// Addr4 returns the IPv4 address whose number is u's low 32 bits.
func (u Uint128) Addr4() netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(u.Lo))
	return netip.AddrFrom4(b)
}

// Addr6 returns the IPv6 address whose number is u.
func (u Uint128) Addr6() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.Hi)
	binary.BigEndian.PutUint64(b[8:], u.Lo)
	return netip.AddrFrom16(b)
}

// Cmp returns -1, 0 or +1 as u is less than, equal to or greater than v.
func (u Uint128) Cmp(v Uint128) int {
	switch {
	case u.Hi < v.Hi:
		return -1
	case u.Hi > v.Hi:
		return 1
	case u.Lo < v.Lo:
		return -1
	case u.Lo > v.Lo:
		return 1
	}
	return 0
}

// Less reports whether u < v.
func (u Uint128) Less(v Uint128) bool { return u.Cmp(v) < 0 }

// IsZero reports whether u is 0.
func (u Uint128) IsZero() bool { return u.Hi == 0 && u.Lo == 0 }

// Add returns u+v, wrapping on overflow.
func (u Uint128) Add(v Uint128) Uint128 {
	lo, c := bits.Add64(u.Lo, v.Lo, 0)
	hi, _ := bits.Add64(u.Hi, v.Hi, c)
	return Uint128{hi, lo}
}

// Sub returns u-v, wrapping on underflow.
func (u Uint128) Sub(v Uint128) Uint128 {
	lo, b := bits.Sub64(u.Lo, v.Lo, 0)
	hi, _ := bits.Sub64(u.Hi, v.Hi, b)
	return Uint128{hi, lo}
}

// Inc returns u+1 and Dec u-1, wrapping.
func (u Uint128) Inc() Uint128 { return u.Add(U128(1)) }

// Dec returns u-1, wrapping.
func (u Uint128) Dec() Uint128 { return u.Sub(U128(1)) }

// Lsh returns u shifted left by n bits (n < 128).
func (u Uint128) Lsh(n uint) Uint128 {
	switch {
	case n == 0:
		return u
	case n >= 128:
		return Uint128{}
	case n >= 64:
		return Uint128{Hi: u.Lo << (n - 64)}
	}
	return Uint128{Hi: u.Hi<<n | u.Lo>>(64-n), Lo: u.Lo << n}
}

// And returns u & v.
func (u Uint128) And(v Uint128) Uint128 { return Uint128{u.Hi & v.Hi, u.Lo & v.Lo} }

// TrailingZeros returns the number of trailing zero bits (128 for 0).
func (u Uint128) TrailingZeros() int {
	if u.Lo != 0 {
		return bits.TrailingZeros64(u.Lo)
	}
	return 64 + bits.TrailingZeros64(u.Hi)
}

// Len returns the number of bits needed to represent u.
func (u Uint128) Len() int {
	if u.Hi != 0 {
		return 64 + bits.Len64(u.Hi)
	}
	return bits.Len64(u.Lo)
}

// Float returns u as a float64 (rounded).
func (u Uint128) Float() float64 { return float64(u.Hi)*(1<<64) + float64(u.Lo) }

// Big returns u as a big.Int.
func (u Uint128) Big() *big.Int {
	b := new(big.Int).SetUint64(u.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(u.Lo))
}

// String returns u in decimal.
func (u Uint128) String() string { return u.Big().String() }

// Span is a closed range [First, Last] of numbers: addresses of one family
// or AS numbers.
type Span struct{ First, Last Uint128 }

// Size returns the number of values in the span, Last-First+1; the whole
// IPv6 space (2^128) does not fit and returns 0.
func (s Span) Size() Uint128 { return s.Last.Sub(s.First).Inc() }

// Contains reports whether t lies inside s.
func (s Span) Contains(t Span) bool { return !t.First.Less(s.First) && !s.Last.Less(t.Last) }

// Overlaps reports whether s and t share a value.
func (s Span) Overlaps(t Span) bool { return !s.Last.Less(t.First) && !t.Last.Less(s.First) }

// ContainsValue reports whether v lies inside s.
func (s Span) ContainsValue(v Uint128) bool { return !v.Less(s.First) && !s.Last.Less(v) }

// CIDRSplit splits the span into the fewest aligned power-of-two blocks, in
// order, as (first, log2 size) pairs; width is the family's bit width (32 or
// 128). A span that is itself a CIDR block returns one pair.
func (s Span) CIDRSplit(width int) []CIDRPart {
	var out []CIDRPart
	cur := s.First
	for {
		// The largest block that starts at cur, is aligned, and ends by Last.
		tz := cur.TrailingZeros()
		if tz > width {
			tz = width
		}
		rem := s.Last.Sub(cur).Inc() // values left; 0 means 2^128
		n := tz
		for n > 0 {
			if n == 128 {
				if rem.IsZero() {
					break
				}
				n--
				continue
			}
			if rem.IsZero() || !rem.Less(U128(1).Lsh(uint(n))) {
				break
			}
			n--
		}
		out = append(out, CIDRPart{First: cur, Bits: n})
		end := cur.Add(U128(1).Lsh(uint(n))).Dec()
		if end.Cmp(s.Last) >= 0 || n == 128 {
			return out
		}
		cur = end.Inc()
	}
}

// CIDRPart is an aligned block of 2^Bits values starting at First.
type CIDRPart struct {
	First Uint128
	Bits  int
}
