package rdap

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// QueryError is a query the server refuses, with the HTTP status of its
// RFC 9083 error response: 400 for a malformed query, 422 for a search
// pattern the server will not run, 501 for a query it does not implement.
type QueryError struct {
	Status  int
	Message string
}

func (e *QueryError) Error() string { return e.Message }

func badRequest(format string, args ...any) *QueryError {
	return &QueryError{Status: 400, Message: sprintf(format, args...)}
}

func unprocessable(format string, args ...any) *QueryError {
	return &QueryError{Status: 422, Message: sprintf(format, args...)}
}

var profile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule(), idna.ValidateLabels(true), idna.StrictDomainName(false))

// ParseDomainName parses the name of a domain or name server lookup (RFC
// 9082 §3.1.3, §3.1.4): LDH labels, A-labels or U-labels, with or without a
// trailing dot. It returns the name as lower-case A-labels without the
// trailing dot.
func ParseDomainName(s string) (string, error) {
	if s == "" {
		return "", badRequest("no domain name given")
	}
	if len(s) > 1024 || !utf8.ValidString(s) {
		return "", badRequest("%q is not a domain name", clip(s))
	}
	s = strings.TrimSuffix(s, ".")
	ascii, err := profile.ToASCII(s)
	if err != nil || ascii == "" {
		return "", badRequest("%q is not a domain name: %s", clip(s), idnaReason(err))
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 {
		return "", badRequest("%q is longer than 253 characters", clip(s))
	}
	for _, l := range strings.Split(ascii, ".") {
		if !ldhLabel(l) {
			return "", badRequest("%q is not a domain name: label %q is not letters, digits and inner hyphens of at most 63 characters", clip(s), clip(l))
		}
	}
	return ascii, nil
}

func idnaReason(err error) string {
	if err == nil {
		return "it is empty"
	}
	return "it has characters a host name may not hold"
}

// ldhLabel reports whether l is 1 to 63 letters, digits, hyphens and
// underscores (service labels), not starting or ending with a hyphen.
func ldhLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ParseIPQuery parses the path of an IP network lookup (RFC 9082 §3.1.1):
// an IPv4 or IPv6 address, or a CIDR prefix "ADDRESS/LENGTH". An address is
// returned as a full-length prefix. Bits beyond the length are cleared.
func ParseIPQuery(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, badRequest("no IP address given")
	}
	if len(s) > 64 {
		return netip.Prefix{}, badRequest("%q is not an IP address or CIDR prefix", clip(s))
	}
	addr, bits, hasLen := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, badRequest("%q is not an IPv4 or IPv6 address", clip(addr))
	}
	a = a.Unmap()
	n := a.BitLen()
	if hasLen {
		if bits == "" || len(bits) > 3 || strings.TrimLeft(bits, "0123456789") != "" || (len(bits) > 1 && bits[0] == '0') {
			return netip.Prefix{}, badRequest("prefix length %q is not a number", clip(bits))
		}
		n, _ = strconv.Atoi(bits)
		if n > a.BitLen() {
			return netip.Prefix{}, badRequest("prefix length %d is longer than the %d bits of %s", n, a.BitLen(), a)
		}
	}
	return netip.PrefixFrom(a, n).Masked(), nil
}

// ParseAutnum parses the number of an autnum lookup (RFC 9082 §3.1.2): a
// decimal AS number from 0 to 4294967295. "AS" is accepted in front of it.
func ParseAutnum(s string) (uint32, error) {
	t := s
	if len(t) > 2 && (t[:2] == "AS" || t[:2] == "as") {
		t = t[2:]
	}
	if t == "" || len(t) > 10 || strings.TrimLeft(t, "0123456789") != "" {
		return 0, badRequest("%q is not an AS number: give a decimal number from 0 to 4294967295", clip(s))
	}
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return 0, badRequest("%q is not an AS number: give a decimal number from 0 to 4294967295", clip(s))
	}
	return uint32(n), nil
}

// ParseHandle checks an entity handle (RFC 9082 §3.1.5): 1 to 128
// printable characters without spaces.
func ParseHandle(s string) (string, error) {
	if s == "" || len(s) > 128 || !utf8.ValidString(s) {
		return "", badRequest("%q is not an entity handle", clip(s))
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '*' {
			return "", badRequest("%q is not an entity handle: it holds a space, a control character or '*'", clip(s))
		}
	}
	return s, nil
}

// Pattern is a search pattern (RFC 9082 §4.1): a literal, or a literal
// followed by one "*" that matches any trailing characters.
type Pattern struct {
	Prefix  string // the literal part, normalized
	Partial bool   // a trailing "*" was given
}

// Match reports whether s matches the pattern.
func (p Pattern) Match(s string) bool {
	if p.Partial {
		return strings.HasPrefix(s, p.Prefix)
	}
	return s == p.Prefix
}

// MinPrefix is the fewest characters a partial search pattern must give
// before its "*": a bare "*" would list everything.
const MinPrefix = 1

// parsePattern splits a search pattern into its literal and partial parts,
// refusing an asterisk anywhere but at the end.
func parsePattern(param, s string) (lit string, partial bool, err error) {
	if s == "" {
		return "", false, badRequest("the %s search needs a pattern", param)
	}
	if len(s) > 256 || !utf8.ValidString(s) {
		return "", false, badRequest("%s pattern %q is too long or not UTF-8", param, clip(s))
	}
	lit, partial = strings.CutSuffix(s, "*")
	if strings.Contains(lit, "*") {
		return "", false, unprocessable("%s pattern %q: this server supports one \"*\", at the end of the pattern", param, clip(s))
	}
	if partial && len(lit) < MinPrefix {
		return "", false, unprocessable("%s pattern %q would list every object: give at least %d character(s) before the \"*\"", param, clip(s), MinPrefix)
	}
	return lit, partial, nil
}

// ParseNamePattern parses the pattern of a domains?name= or
// nameservers?name= search: a domain name, optionally ending in "*".
// U-labels are converted to A-labels where the pattern is a whole name.
func ParseNamePattern(param, s string) (Pattern, error) {
	lit, partial, err := parsePattern(param, s)
	if err != nil {
		return Pattern{}, err
	}
	if !partial {
		name, err := ParseDomainName(lit)
		if err != nil {
			return Pattern{}, err
		}
		return Pattern{Prefix: name}, nil
	}
	lit = strings.ToLower(lit)
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			if c >= 0x80 {
				return Pattern{}, unprocessable("%s pattern %q: give a partial name in A-labels (xn--…)", param, clip(s))
			}
			return Pattern{}, badRequest("%s pattern %q holds %q, which no domain name holds", param, clip(s), string(c))
		}
	}
	if strings.Contains(lit, "..") || strings.HasPrefix(lit, ".") {
		return Pattern{}, badRequest("%s pattern %q has an empty label", param, clip(s))
	}
	return Pattern{Prefix: lit, Partial: true}, nil
}

// ParseTextPattern parses the pattern of an entities?fn= or
// entities?handle= search. Matching ignores case: the literal is folded to
// lower case.
func ParseTextPattern(param, s string) (Pattern, error) {
	lit, partial, err := parsePattern(param, s)
	if err != nil {
		return Pattern{}, err
	}
	for _, r := range lit {
		if r < ' ' || r == 0x7f {
			return Pattern{}, badRequest("%s pattern %q holds a control character", param, clip(s))
		}
	}
	return Pattern{Prefix: fold(lit), Partial: partial}, nil
}

// fold is the case folding of search keys.
func fold(s string) string { return strings.ToLower(s) }

// clip shortens what is echoed back in an error message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	for i := 80; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
