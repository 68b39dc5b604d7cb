package zone

import "encoding/binary"

// Wire access, for a server that composes answers from the zone's own
// bytes instead of decoded records. A name's records are in a flat version
// (the zone itself, or for a patched version its base or the small version
// of its changes), numbered there: Locate finds them, Span and Record
// read them.

// Locate returns the flat version holding the records of a fully
// qualified name (in any case) and the name's number there, or nil and -1
// if no records are owned by it.
func (z *Zone) Locate(name string) (*Zone, int) {
	zz := z
	if z.over != nil {
		zz = z.pick(name)
	}
	i := zz.find(name)
	if i < 0 {
		return nil, -1
	}
	return zz, i
}

// Span returns the numbers [first, end) of the records of the RRset of
// type t at name number i of a flat version (as Locate returns it);
// first == end if there are none.
func (z *Zone) Span(i int, t uint16) (first, end uint32) {
	if s := z.set(i, t); s != nil {
		return s.first, s.first + s.n
	}
	return 0, 0
}

// Record returns record k (of a flat version)'s TTL, class and RDATA in uncompressed wire
// format. rdata must not be modified, and is valid as long as the zone.
func (z *Zone) Record(k uint32) (ttl uint32, class uint16, rdata []byte) {
	off := int(z.recs[k])
	d := z.data[off:]
	n := int(binary.BigEndian.Uint16(d[6:]))
	return binary.BigEndian.Uint32(d), binary.BigEndian.Uint16(d[4:]), d[recHeader : recHeader+n : recHeader+n]
}
