package zone

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/miekg/dns"
)

// canonicalOrder returns the indexes of names in canonical order (that of
// Compare).
func canonicalOrder(names []string) []int32 {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = sortKey(n)
	}
	order := make([]int32, len(names))
	sorted := true
	for i := range order {
		order[i] = int32(i)
		if i > 0 && keys[i-1] > keys[i] {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(keys[a], keys[b]) })
	}
	return order
}

// sortKey returns a string whose byte order is the order of Compare: the
// labels from the root down, each unescaped, its 0x00 octets written 0x00
// 0x01, and ended by 0x00 0x00.
func sortKey(name string) string {
	if plain(name) {
		key := make([]byte, 0, len(name)+2*strings.Count(name, "."))
		end := len(name)
		if strings.HasSuffix(name, ".") {
			end--
		}
		for end > 0 {
			start := strings.LastIndexByte(name[:end], '.') + 1
			key = append(key, name[start:end]...)
			key = append(key, 0, 0)
			end = start - 1
		}
		return string(key)
	}
	labels := dns.SplitDomainName(name)
	var key []byte
	for i := len(labels) - 1; i >= 0; i-- {
		for _, c := range []byte(unescape(labels[i])) {
			if c == 0 {
				key = append(key, 0, 1)
			} else {
				key = append(key, c)
			}
		}
		key = append(key, 0, 0)
	}
	return string(key)
}

// plain reports whether name has only lower-case letters, digits, '-',
// '_', '*' and single dots between non-empty labels.
func plain(name string) bool { return plainLabels(name, false) }

// plainLabels is plain, upper-case letters allowed too if upper.
func plainLabels(name string, upper bool) bool {
	if name == "." {
		return true
	}
	prev := byte('.')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if prev == '.' {
				return false
			}
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		case upper && 'A' <= c && c <= 'Z':
		default:
			return false
		}
		prev = c
	}
	return name[0] != '.'
}

// unsafeString returns the bytes as a string without copying; they must
// never change afterwards.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
