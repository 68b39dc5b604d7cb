package zone

import "encoding/binary"

// Wire access, for a server that composes answers from the zone's own
// bytes instead of decoded records. Names are numbered by their position
// in Names, records by their place in the zone's tables; both numbers
// belong to one version.

// Index returns the position in Names of a fully qualified name (in any
// case), or -1 if no records are owned by it.
func (z *Zone) Index(name string) int { return z.find(name) }

// Span returns the numbers [first, end) of the records of the RRset of
// type t at the name at position i of Names; first == end if there are
// none.
func (z *Zone) Span(i int, t uint16) (first, end uint32) {
	if s := z.set(i, t); s != nil {
		return s.first, s.first + s.n
	}
	return 0, 0
}

// Record returns record k's TTL, class and RDATA in uncompressed wire
// format. rdata must not be modified, and is valid as long as the zone.
func (z *Zone) Record(k uint32) (ttl uint32, class uint16, rdata []byte) {
	off := int(z.recs[k])
	d := z.data[off:]
	n := int(binary.BigEndian.Uint16(d[6:]))
	return binary.BigEndian.Uint32(d), binary.BigEndian.Uint16(d[4:]), d[recHeader : recHeader+n : recHeader+n]
}
