package steward

import (
	"fmt"
	"strconv"
	"strings"
)

// Block lines are a compact text form of the blocks the statistics files
// describe, used in the payload of the lines-recorded events and in chunk
// records (see numchunk.go), where JSON would cost more to write and read
// than everything else an import does:
//
//	FIRST|LAST|STATUS|COUNTRY|DATE|HOLDER[|EVENTS]|EXT...
//
// FIRST and LAST as in Block (canonical text), EVENTS (chunk records only)
// the ledger entries that changed the block, comma-separated, EXT the
// extension fields, each after a '|'. Family and registry are the
// payload's or the chunk's. A block with a name, contacts or IANA fields
// has no line form. None of the fields of a normalized block holds '|' or
// a line break, so the form is unambiguous.

// lineable reports whether b has a line form.
func lineable(b *Block) bool {
	return b.Name == "" && len(b.Contacts) == 0 && b.IANA == nil
}

// appendBlockLine appends b's line, without a line break, to dst.
func appendBlockLine(dst []byte, b *Block, withEvents bool) []byte {
	dst = append(dst, b.First...)
	dst = append(dst, '|')
	dst = append(dst, b.Last...)
	dst = append(dst, '|')
	dst = append(dst, b.Status...)
	dst = append(dst, '|')
	dst = append(dst, b.Country...)
	dst = append(dst, '|')
	dst = append(dst, b.Date...)
	dst = append(dst, '|')
	dst = append(dst, b.Holder...)
	if withEvents {
		dst = append(dst, '|')
		for i, e := range b.Events {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, e, 10)
		}
	}
	for _, x := range b.Ext {
		dst = append(dst, '|')
		dst = append(dst, x...)
	}
	return dst
}

// parseBlockLine parses one block line of family and registry. It checks
// the form, not the values: callers normalize the block.
func parseBlockLine(family, registry, line string, withEvents bool) (*Block, error) {
	n := 6
	if withEvents {
		n = 7
	}
	f := strings.Split(line, "|")
	if len(f) < n {
		return nil, fmt.Errorf("block line %q: want at least %d fields separated by '|'", line, n)
	}
	if strings.ContainsAny(line, "\n\r") {
		return nil, fmt.Errorf("block line %q holds a line break", line)
	}
	b := &Block{Family: family, Registry: registry, First: f[0], Last: f[1], Status: f[2], Country: f[3], Date: f[4], Holder: f[5]}
	if withEvents {
		if f[6] == "" {
			return nil, fmt.Errorf("block line %q: no events", line)
		}
		for s := range strings.SplitSeq(f[6], ",") {
			e, err := strconv.ParseInt(s, 10, 64)
			if err != nil || e < 0 || strconv.FormatInt(e, 10) != s {
				return nil, fmt.Errorf("block line %q: event %q is not a ledger sequence number", line, s)
			}
			b.Events = append(b.Events, e)
		}
	}
	if len(f) > n {
		b.Ext = f[n:]
	}
	return b, nil
}

// parseBlockLines parses the lines of a text, each ended by a line break.
func parseBlockLines(family, registry, text string, withEvents bool) ([]*Block, error) {
	if text == "" {
		return nil, nil
	}
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("block lines do not end with a line break")
	}
	out := make([]*Block, 0, strings.Count(text, "\n"))
	for line := range strings.SplitSeq(text[:len(text)-1], "\n") {
		// Each block keeps its own line, not the whole text, alive.
		b, err := parseBlockLine(family, registry, strings.Clone(line), withEvents)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
