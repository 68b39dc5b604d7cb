package zone

import (
	"bytes"
	"errors"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/miekg/dns"
)

// This file reads a large zone file on all cores: a file in the
// one-record-per-line form (see fast.go) whose owner names come in
// canonical order, each name's records together, as signers and Write
// write them. The file is cut into chunks at changes of owner name; each
// chunk is read into its own names, RRsets and wire-format records, which
// are then joined in order, so that neither a map of names nor a sort of
// the records is needed. Anything else (names out of order, a name's
// records apart, any line loadSimple would not read) gives errNotSimple,
// and Load reads the file again by the sequential way, which gives the
// same zone or the error with its line.

// chunkSize is how much of the file one chunk takes, at most; files of
// fewer than two chunks are read by loadSimple.
var chunkSize = 4 << 20

// chunk is the part of a zone read from one piece of the file.
type chunk struct {
	names []byte   // lower-case owner names, one after the other
	ends  []uint32 // end of each name in names
	first []uint32 // per name: its first RRset in sets
	sets  []rrset  // first counts records of the chunk
	recs  []uint32 // offsets in data
	data  []byte
	soas  int
	err   error
}

// loadParallel reads the file from r (at offset start, size octets in
// all) in chunks on up to GOMAXPROCS goroutines, or returns errNotSimple.
func loadParallel(r io.ReaderAt, start, size int64) (*Zone, error) {
	workers := runtime.GOMAXPROCS(0)
	if size < 2*int64(chunkSize) {
		return nil, errNotSimple
	}
	// The first line: the SOA, which names the zone.
	head := make([]byte, 4096)
	n, err := r.ReadAt(head, start)
	if err != nil && err != io.EOF {
		return nil, err
	}
	head = head[:n]
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		return nil, errNotSimple
	}
	var f [24][]byte
	fields := splitFields(bytes.TrimRight(head[:nl], "\r"), f[:0])
	if len(fields) < 5 || string(fields[3]) != "SOA" || !plainBytes(fields[0]) || fields[0][len(fields[0])-1] != '.' {
		return nil, errNotSimple
	}
	origin := string(bytes.ToLower(fields[0]))

	type job struct {
		i   int
		buf []byte
	}
	jobs := make(chan job, workers)
	free := make(chan []byte, 2*workers)
	var (
		mu     sync.Mutex
		chunks []*chunk
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c := readChunk(j.buf, origin)
				select {
				case free <- j.buf[:cap(j.buf)]:
				default:
				}
				mu.Lock()
				for len(chunks) <= j.i {
					chunks = append(chunks, nil)
				}
				chunks[j.i] = c
				mu.Unlock()
			}
		}()
	}
	// Cut the file into chunks that end where an owner name's records
	// end.
	readErr := func() error {
		defer close(jobs)
		off, end := start, start+size
		for i := 0; off < end; i++ {
			var buf []byte
			select {
			case buf = <-free:
			default:
				buf = make([]byte, chunkSize)
			}
			want := min(int64(len(buf)), end-off)
			n, err := r.ReadAt(buf[:want], off)
			if err != nil && !(err == io.EOF && int64(n) == want) {
				return err
			}
			buf = buf[:n]
			if off+int64(n) < end {
				cut := cutAtOwner(buf)
				if cut <= 0 {
					return errNotSimple // one name's records fill a chunk
				}
				buf = buf[:cut]
			}
			jobs <- job{i: i, buf: buf}
			off += int64(len(buf))
		}
		return nil
	}()
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	for _, c := range chunks {
		if c == nil || c.err != nil {
			return nil, errNotSimple
		}
	}
	return joinChunks(origin, chunks)
}

// cutAtOwner returns the offset in buf, which ends within or after a
// line, where the chunk ends: the start of the line after the last line
// whose owner differs from that of the last complete line (blank lines
// aside). It returns 0 if there is none.
func cutAtOwner(buf []byte) int {
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 {
		return 0
	}
	var owner []byte
	for end > 0 {
		ls := bytes.LastIndexByte(buf[:end], '\n') + 1
		line := buf[ls:end]
		if len(bytes.TrimSpace(line)) > 0 {
			o := ownerOf(line)
			if owner == nil {
				owner = o
			} else if !bytes.Equal(o, owner) {
				return end + 1
			}
		}
		end = ls - 1
	}
	return 0
}

// ownerOf returns the first field of a line.
func ownerOf(line []byte) []byte {
	if i := bytes.IndexAny(line, " \t"); i >= 0 {
		return line[:i]
	}
	return line
}

// readChunk reads the lines of one chunk.
func readChunk(buf []byte, origin string) *chunk {
	c := &chunk{}
	lines := bytes.Count(buf, []byte{'\n'}) + 1
	c.recs = make([]uint32, 0, lines)
	c.data = make([]byte, 0, len(buf)*3/4)
	var recs []pending // the current name's records
	var rdata []byte
	var last []byte // the current owner as written
	flush := func() bool {
		if len(recs) == 0 {
			return true
		}
		if !slices.IsSortedFunc(recs, func(a, b pending) int { return int(a.typ) - int(b.typ) }) {
			slices.SortStableFunc(recs, func(a, b pending) int { return int(a.typ) - int(b.typ) })
		}
		c.first = append(c.first, uint32(len(c.sets)))
		for i, r := range recs {
			if i == 0 || recs[i-1].typ != r.typ {
				c.sets = append(c.sets, rrset{typ: r.typ, first: uint32(len(c.recs))})
			}
			c.sets[len(c.sets)-1].n++
			c.recs = append(c.recs, r.off)
		}
		recs = recs[:0]
		return true
	}
	fail := func() *chunk {
		c.err = errNotSimple
		return c
	}
	for len(buf) > 0 {
		var line []byte
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, buf = buf[:i], buf[i+1:]
		} else {
			line, buf = buf, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		// Quoted strings (TXT) are in the RDATA only: miekg/dns reads it.
		special, quoted := scanLine(line)
		if special || line[0] == ' ' || line[0] == '\t' {
			return fail()
		}
		var f [24][]byte
		fields := splitFields(line, f[:0])
		if len(fields) < 5 || string(fields[2]) != "IN" {
			return fail()
		}
		owner := fields[0]
		if owner[len(owner)-1] != '.' || !plainBytes(owner) {
			return fail()
		}
		ttl, ok := atoi(fields[1], 32)
		if !ok {
			return fail()
		}
		typ, ok := dns.StringToType[string(fields[3])]
		if !ok {
			return fail()
		}
		if !bytes.Equal(owner, last) {
			// A new name: after the one before in canonical order.
			flush()
			start := len(c.names)
			for _, b := range owner {
				if 'A' <= b && b <= 'Z' {
					b += 'a' - 'A'
				}
				c.names = append(c.names, b)
			}
			name := c.names[start:]
			if len(c.ends) > 0 {
				prev := c.names[c.prevStart():start]
				if !canonicalLess(unsafeString(prev), unsafeString(name)) {
					return fail()
				}
			} else if !isSubOrigin(unsafeString(name), origin) {
				return fail()
			}
			c.ends = append(c.ends, uint32(len(c.names)))
			last = owner
		}
		if typ == dns.TypeSOA {
			if string(c.names[c.prevStart():]) != origin {
				return fail()
			}
			c.soas++
		}
		ok = false
		if !quoted {
			rdata, ok = packRdata(rdata[:0], typ, fields[4:])
		}
		if !ok {
			var err error
			if rdata, err = rdataOfLine(line, rdata[:0]); err != nil {
				return fail()
			}
		}
		if len(rdata) > 0xffff || uint64(len(c.data))+recHeader+uint64(len(rdata)) > 1<<32-1 {
			return fail()
		}
		recs = append(recs, pending{typ: typ, off: uint32(len(c.data))})
		c.data = appendRecord(c.data, uint32(ttl), dns.ClassINET, rdata)
	}
	flush()
	if len(c.ends) > 0 && !isSubOrigin(unsafeString(c.names[c.prevStart():]), origin) {
		return fail()
	}
	return c
}

// scanLine reports whether a line has parentheses, semicolons,
// backslashes or dollar signs, which the chunked reader leaves to
// miekg/dns's zone parser, and whether it has quotes.
func scanLine(line []byte) (special, quoted bool) {
	for _, c := range line {
		if lineChars[c] {
			if c == '"' {
				quoted = true
			} else {
				special = true
			}
		}
	}
	return special, quoted
}

var lineChars = [256]bool{'(': true, ')': true, ';': true, '\\': true, '$': true, '"': true}

// prevStart returns where the chunk's last name starts in names.
func (c *chunk) prevStart() int {
	if len(c.ends) < 2 {
		return 0
	}
	return int(c.ends[len(c.ends)-2])
}

// isSubOrigin reports whether a lower-case plain name is at or below the
// origin.
func isSubOrigin(name, origin string) bool {
	return dns.IsSubDomain(origin, name)
}

// appendRecord appends a record's TTL, class, RDATA length and RDATA.
func appendRecord(data []byte, ttl uint32, class uint16, rdata []byte) []byte {
	data = append(data, byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl),
		byte(class>>8), byte(class), byte(len(rdata)>>8), byte(len(rdata)))
	return append(data, rdata...)
}

// rdataOfLine reads one line with miekg/dns and appends its RDATA in
// uncompressed wire format.
func rdataOfLine(line []byte, out []byte) ([]byte, error) {
	rr, err := dns.NewRR(string(line))
	if err != nil || rr == nil || empty(rr) {
		return nil, errNotSimple
	}
	buf := make([]byte, dns.Len(rr)+256)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	i := 0
	for i < end && buf[i] != 0 {
		i += int(buf[i]) + 1
	}
	start := i + 1 + 10
	if start > end {
		return nil, errors.New("cannot pack the record")
	}
	return append(out, buf[start:end]...), nil
}

// canonicalLess reports whether the plain lower-case name a comes before
// b in canonical order: label by label from the root, as octets.
func canonicalLess(a, b string) bool {
	ea, eb := len(a)-1, len(b)-1 // ends of the last labels, at the final dots
	for {
		if ea <= 0 {
			return eb > 0
		}
		if eb <= 0 {
			return false
		}
		sa := lastDot(a[:ea]) + 1
		sb := lastDot(b[:eb]) + 1
		la, lb := a[sa:ea], b[sb:eb]
		if la != lb {
			return la < lb
		}
		ea, eb = max(sa-1, 0), max(sb-1, 0)
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// joinChunks makes the zone version of the chunks, in order.
func joinChunks(origin string, chunks []*chunk) (*Zone, error) {
	var nNames, nSets, nRecs, nData, nBytes, soas int
	for i, c := range chunks {
		nNames += len(c.ends)
		nSets += len(c.sets)
		nRecs += len(c.recs)
		nData += len(c.data)
		nBytes += len(c.names)
		soas += c.soas
		if i > 0 && len(c.ends) > 0 {
			// The first name after the last of the chunks before.
			var prev []byte
			for j := i - 1; j >= 0 && prev == nil; j-- {
				if p := chunks[j]; len(p.ends) > 0 {
					prev = p.names[p.prevStart():]
				}
			}
			if prev != nil && !canonicalLess(unsafeString(prev), unsafeString(c.names[:c.ends[0]])) {
				return nil, errNotSimple
			}
		}
	}
	if soas != 1 || nData > 1<<32-1 {
		return nil, errNotSimple
	}
	z := &Zone{Origin: origin, seed: maphash.MakeSeed(), nrec: nRecs}
	block := make([]byte, nBytes)
	z.names = make([]string, nNames)
	z.first = make([]uint32, nNames+1)
	z.sets = make([]rrset, nSets)
	z.recs = make([]uint32, nRecs)
	z.data = make([]byte, nData)
	// Each chunk's part of the tables, copied by the goroutines in turn.
	type base struct{ names, bytes, sets, recs, data int }
	bases := make([]base, len(chunks))
	var at base
	for i, c := range chunks {
		bases[i] = at
		at.names += len(c.ends)
		at.bytes += len(c.names)
		at.sets += len(c.sets)
		at.recs += len(c.recs)
		at.data += len(c.data)
	}
	var next sync.Mutex
	k := 0
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := k
				k++
				next.Unlock()
				if i >= len(chunks) {
					return
				}
				c, b := chunks[i], bases[i]
				copy(block[b.bytes:], c.names)
				start := 0
				for j, e := range c.ends {
					z.names[b.names+j] = unsafeString(block[b.bytes+start : b.bytes+int(e)])
					start = int(e)
				}
				for j, f := range c.first {
					z.first[b.names+j] = f + uint32(b.sets)
				}
				for j, s := range c.sets {
					s.first += uint32(b.recs)
					z.sets[b.sets+j] = s
				}
				for j, r := range c.recs {
					z.recs[b.recs+j] = r + uint32(b.data)
				}
				copy(z.data[b.data:], c.data)
				chunks[i] = nil
			}
		}()
	}
	wg.Wait()
	z.first[nNames] = uint32(nSets)
	if len(z.names) == 0 || z.names[0] != origin {
		return nil, errNotSimple
	}
	if err := z.finish(); err != nil {
		return nil, err
	}
	return z, nil
}
