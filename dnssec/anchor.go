package dnssec

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// TrustAnchor is a trust anchor document in the format IANA publishes the
// root zone's trust anchors in, root-anchors.xml (RFC 9718 §2, which
// replaced RFC 7958): the zone and a digest of each of its KSKs, each with
// the period it is valid in.
type TrustAnchor struct {
	// ID identifies the document (IANA uses an upper-case UUID).
	ID string
	// Source is the URL the document is published at; optional.
	Source string
	// Zone is the zone the keys belong to, fully qualified ("." for the root).
	Zone string
	// Digests are the keys, in the order of the document.
	Digests []KeyDigest
}

// KeyDigest is one key of a TrustAnchor: a DS record's fields, an
// identifier, and the period it is valid in.
type KeyDigest struct {
	ID         string    // identifies the key within the document ("Klajeyz")
	ValidFrom  time.Time // required
	ValidUntil time.Time // zero if still valid
	KeyTag     uint16
	Algorithm  uint8
	DigestType uint8
	Digest     string // hexadecimal, upper case
	// PublicKey (base64, as in the DNSKEY) and Flags are the key itself,
	// optional elements added by RFC 9718; both or neither.
	PublicKey string
	Flags     uint16
}

// ValidAt reports whether the key is valid at t: ValidFrom ≤ t and, if
// ValidUntil is set, t < ValidUntil.
func (d KeyDigest) ValidAt(t time.Time) bool {
	return !t.Before(d.ValidFrom) && (d.ValidUntil.IsZero() || t.Before(d.ValidUntil))
}

// DS returns the key's DS record, owned by zone, with TTL 0.
func (d KeyDigest) DS(zone string) *dns.DS {
	return &dns.DS{
		Hdr:        dns.RR_Header{Name: zone, Rrtype: dns.TypeDS, Class: dns.ClassINET},
		KeyTag:     d.KeyTag,
		Algorithm:  d.Algorithm,
		DigestType: d.DigestType,
		Digest:     d.Digest,
	}
}

// DS returns the DS records of the keys valid at t (of every key if t is
// zero), the form validators such as Unbound and BIND take trust anchors in.
func (ta *TrustAnchor) DS(t time.Time) []*dns.DS {
	var out []*dns.DS
	for _, d := range ta.Digests {
		if t.IsZero() || d.ValidAt(t) {
			out = append(out, d.DS(ta.Zone))
		}
	}
	return out
}

// anchorTimeLayout is how root-anchors.xml writes times: RFC 3339 with a
// numeric offset ("2017-02-02T00:00:00+00:00"); fractions of a second
// only if there are any.
const anchorTimeLayout = "2006-01-02T15:04:05.999999999-07:00"

// The XML elements, as strings so the parser can say which is missing or
// repeated and why a value is wrong.
type xmlTrustAnchor struct {
	XMLName xml.Name       `xml:"TrustAnchor"`
	ID      string         `xml:"id,attr"`
	Source  string         `xml:"source,attr,omitempty"`
	Zone    []string       `xml:"Zone"`
	Digests []xmlKeyDigest `xml:"KeyDigest"`
}

type xmlKeyDigest struct {
	ID         string   `xml:"id,attr"`
	ValidFrom  string   `xml:"validFrom,attr"`
	ValidUntil string   `xml:"validUntil,attr,omitempty"`
	KeyTag     []string `xml:"KeyTag"`
	Algorithm  []string `xml:"Algorithm"`
	DigestType []string `xml:"DigestType"`
	Digest     []string `xml:"Digest"`
	PublicKey  []string `xml:"PublicKey,omitempty"`
	Flags      []string `xml:"Flags,omitempty"`
}

// maxAnchorXML bounds the size of a trust anchor document.
const maxAnchorXML = 1 << 20

// ParseTrustAnchorXML parses and checks a trust anchor document in IANA's
// root-anchors.xml format. It refuses a document that is not well-formed
// XML, has no TrustAnchor root, no or several Zone elements, no KeyDigest,
// a KeyDigest missing or repeating an element, a value out of range, a
// digest of the wrong length for its type, a validUntil before its
// validFrom, or a PublicKey whose key tag or digest does not match. Unknown
// elements and attributes are ignored, as RFC 9718 asks.
func ParseTrustAnchorXML(b []byte) (*TrustAnchor, error) {
	if len(b) > maxAnchorXML {
		return nil, fmt.Errorf("dnssec: trust anchor: document larger than %d bytes", maxAnchorXML)
	}
	var x xmlTrustAnchor
	if err := xml.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("dnssec: trust anchor: %w", err)
	}
	ta := &TrustAnchor{ID: strings.TrimSpace(x.ID), Source: strings.TrimSpace(x.Source)}
	if len(x.Zone) != 1 {
		return nil, fmt.Errorf("dnssec: trust anchor: %d Zone elements, want 1", len(x.Zone))
	}
	ta.Zone = strings.TrimSpace(x.Zone[0])
	for i, xd := range x.Digests {
		d, err := parseKeyDigest(xd)
		if err != nil {
			return nil, fmt.Errorf("dnssec: trust anchor: KeyDigest %d (id %q): %w", i+1, xd.ID, err)
		}
		ta.Digests = append(ta.Digests, d)
	}
	if err := ta.validate(); err != nil {
		return nil, err
	}
	return ta, nil
}

// one returns the single value of an element, or an error if it is
// missing or repeated.
func oneElement(name string, vs []string) (string, error) {
	if len(vs) != 1 {
		return "", fmt.Errorf("%d %s elements, want 1", len(vs), name)
	}
	return strings.TrimSpace(vs[0]), nil
}

func parseAnchorUint(name string, vs []string, bits int) (uint64, error) {
	s, err := oneElement(name, vs)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number below 2^%d", name, s, bits)
	}
	return n, nil
}

func parseAnchorTime(name, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time", name, s)
	}
	return t.UTC(), nil
}

func parseKeyDigest(x xmlKeyDigest) (KeyDigest, error) {
	d := KeyDigest{ID: strings.TrimSpace(x.ID)}
	var err error
	if d.ValidFrom, err = parseAnchorTime("validFrom", x.ValidFrom); err != nil {
		return d, err
	}
	if strings.TrimSpace(x.ValidUntil) != "" {
		if d.ValidUntil, err = parseAnchorTime("validUntil", x.ValidUntil); err != nil {
			return d, err
		}
	}
	n, err := parseAnchorUint("KeyTag", x.KeyTag, 16)
	if err != nil {
		return d, err
	}
	d.KeyTag = uint16(n)
	if n, err = parseAnchorUint("Algorithm", x.Algorithm, 8); err != nil {
		return d, err
	}
	d.Algorithm = uint8(n)
	if n, err = parseAnchorUint("DigestType", x.DigestType, 8); err != nil {
		return d, err
	}
	d.DigestType = uint8(n)
	if d.Digest, err = oneElement("Digest", x.Digest); err != nil {
		return d, err
	}
	d.Digest = strings.ToUpper(d.Digest)
	switch {
	case len(x.PublicKey) == 0 && len(x.Flags) == 0:
	case len(x.PublicKey) == 1 && len(x.Flags) == 1:
		d.PublicKey = strings.TrimSpace(x.PublicKey[0])
		if n, err = parseAnchorUint("Flags", x.Flags, 16); err != nil {
			return d, err
		}
		d.Flags = uint16(n)
	default:
		return d, fmt.Errorf("%d PublicKey and %d Flags elements, want one of each or none", len(x.PublicKey), len(x.Flags))
	}
	return d, nil
}

// dsDigestLen is the length in bytes of each known DS digest type's digest.
var dsDigestLen = map[uint8]int{dns.SHA1: 20, dns.SHA256: 32, dns.GOST94: 32, dns.SHA384: 48}

// anchorTextOK reports whether an identifier or URL is printable text that
// survives an XML round trip.
func anchorTextOK(s string) bool {
	if !utf8.ValidString(s) || len(s) > 1024 {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// validate checks a document, parsed or built.
func (ta *TrustAnchor) validate() error {
	if ta.ID == "" || !anchorTextOK(ta.ID) {
		return fmt.Errorf("dnssec: trust anchor: id %q is empty or not printable", ta.ID)
	}
	if !anchorTextOK(ta.Source) {
		return fmt.Errorf("dnssec: trust anchor: source %q is not printable", ta.Source)
	}
	if _, ok := dns.IsDomainName(ta.Zone); !ok || !dns.IsFqdn(ta.Zone) || !anchorTextOK(ta.Zone) {
		return fmt.Errorf("dnssec: trust anchor: zone %q is not a fully qualified domain name", ta.Zone)
	}
	if len(ta.Digests) == 0 {
		return errors.New("dnssec: trust anchor: no KeyDigest")
	}
	for i, d := range ta.Digests {
		if err := d.validate(ta.Zone); err != nil {
			return fmt.Errorf("dnssec: trust anchor: KeyDigest %d (id %q): %w", i+1, d.ID, err)
		}
	}
	return nil
}

func (d KeyDigest) validate(zone string) error {
	if d.ID == "" || !anchorTextOK(d.ID) {
		return fmt.Errorf("id %q is empty or not printable", d.ID)
	}
	if d.ValidFrom.IsZero() {
		return errors.New("no validFrom")
	}
	if y := d.ValidFrom.UTC().Year(); y < 1 || y > 9999 {
		return errors.New("validFrom out of range")
	}
	if !d.ValidUntil.IsZero() {
		if y := d.ValidUntil.UTC().Year(); y < 1 || y > 9999 {
			return errors.New("validUntil out of range")
		}
		if d.ValidUntil.Before(d.ValidFrom) {
			return fmt.Errorf("validUntil %s is before validFrom %s", d.ValidUntil.Format(time.RFC3339), d.ValidFrom.Format(time.RFC3339))
		}
	}
	raw, err := hex.DecodeString(d.Digest)
	if err != nil || len(raw) == 0 || strings.ToUpper(d.Digest) != d.Digest {
		return fmt.Errorf("digest %q is not upper-case hexadecimal", d.Digest)
	}
	if n, ok := dsDigestLen[d.DigestType]; ok && len(raw) != n {
		return fmt.Errorf("digest of %d bytes for digest type %d, want %d", len(raw), d.DigestType, n)
	}
	if d.PublicKey == "" {
		if d.Flags != 0 {
			return errors.New("Flags without PublicKey")
		}
		return nil
	}
	if _, err := base64.StdEncoding.Strict().DecodeString(d.PublicKey); err != nil {
		return fmt.Errorf("PublicKey is not base64: %v", err)
	}
	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags:     d.Flags,
		Protocol:  3,
		Algorithm: d.Algorithm,
		PublicKey: d.PublicKey,
	}
	if tag := key.KeyTag(); tag != d.KeyTag {
		return fmt.Errorf("PublicKey has key tag %d, not %d", tag, d.KeyTag)
	}
	if _, known := dsDigestLen[d.DigestType]; known && d.DigestType != dns.GOST94 {
		ds := key.ToDS(d.DigestType)
		if ds == nil || !strings.EqualFold(ds.Digest, d.Digest) {
			return errors.New("PublicKey does not match the digest")
		}
	}
	return nil
}

type xmlAnchorOut struct {
	XMLName xml.Name       `xml:"TrustAnchor"`
	ID      string         `xml:"id,attr"`
	Source  string         `xml:"source,attr,omitempty"`
	Zone    string         `xml:"Zone"`
	Digests []xmlDigestOut `xml:"KeyDigest"`
}

type xmlDigestOut struct {
	ID         string `xml:"id,attr"`
	ValidFrom  string `xml:"validFrom,attr"`
	ValidUntil string `xml:"validUntil,attr,omitempty"`
	KeyTag     uint16 `xml:"KeyTag"`
	Algorithm  uint8  `xml:"Algorithm"`
	DigestType uint8  `xml:"DigestType"`
	Digest     string `xml:"Digest"`
	PublicKey  string `xml:"PublicKey,omitempty"`
	Flags      string `xml:"Flags,omitempty"`
}

// Marshal returns the document as root-anchors.xml: an XML declaration and
// the TrustAnchor element, indented as IANA indents it. It fails if the
// document would not parse back.
func (ta *TrustAnchor) Marshal() ([]byte, error) {
	if err := ta.validate(); err != nil {
		return nil, err
	}
	out := xmlAnchorOut{ID: ta.ID, Source: ta.Source, Zone: ta.Zone}
	for _, d := range ta.Digests {
		x := xmlDigestOut{
			ID:         d.ID,
			ValidFrom:  d.ValidFrom.UTC().Format(anchorTimeLayout),
			KeyTag:     d.KeyTag,
			Algorithm:  d.Algorithm,
			DigestType: d.DigestType,
			Digest:     d.Digest,
			PublicKey:  d.PublicKey,
		}
		if !d.ValidUntil.IsZero() {
			x.ValidUntil = d.ValidUntil.UTC().Format(anchorTimeLayout)
		}
		if d.PublicKey != "" {
			x.Flags = strconv.Itoa(int(d.Flags))
		}
		out.Digests = append(out.Digests, x)
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "    ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("dnssec: trust anchor: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// NewTrustAnchor returns the trust anchor document of the zone origin's
// KSKs: for each, a SHA-256 digest (DS digest type 2) with its public key
// and flags, valid from validFrom[tag] (required) until validUntil[tag]
// (optional), ordered by validFrom then key tag. The identifiers are
// derived from the content, so the same keys and times always give the
// same document: each KeyDigest's id is "K" and six base32 letters of a
// hash of its digest, the document's id a UUID (RFC 9562 version 8) from a
// hash of all of it. It refuses a key that is not a KSK of origin, two
// keys with one tag, and times given for tags that are not among the keys.
func NewTrustAnchor(origin string, ksks []*Key, validFrom, validUntil map[uint16]time.Time) (*TrustAnchor, error) {
	o, err := keyOrigin(origin)
	if err != nil {
		return nil, err
	}
	ta := &TrustAnchor{Zone: o}
	seen := map[uint16]bool{}
	for _, k := range ksks {
		if k == nil || k.DNSKEY == nil {
			return nil, errors.New("dnssec: trust anchor: incomplete key")
		}
		tag := k.Tag()
		switch {
		case !k.IsKSK():
			return nil, fmt.Errorf("dnssec: trust anchor: key %d is not a KSK (flags %d)", tag, k.DNSKEY.Flags)
		case !strings.EqualFold(k.DNSKEY.Hdr.Name, o):
			return nil, fmt.Errorf("dnssec: trust anchor: key %d belongs to %s, not %s", tag, k.DNSKEY.Hdr.Name, o)
		case seen[tag]:
			return nil, fmt.Errorf("dnssec: trust anchor: two keys with tag %d", tag)
		}
		seen[tag] = true
		from, ok := validFrom[tag]
		if !ok || from.IsZero() {
			return nil, fmt.Errorf("dnssec: trust anchor: no validFrom for key %d", tag)
		}
		key := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
		key.Hdr.Name = o
		ds := key.ToDS(dns.SHA256)
		if ds == nil {
			return nil, fmt.Errorf("dnssec: trust anchor: cannot digest key %d", tag)
		}
		d := KeyDigest{
			ValidFrom:  from.UTC(),
			ValidUntil: validUntil[tag].UTC(),
			KeyTag:     tag,
			Algorithm:  key.Algorithm,
			DigestType: dns.SHA256,
			Digest:     strings.ToUpper(ds.Digest),
			PublicKey:  key.PublicKey,
			Flags:      key.Flags,
		}
		if validUntil[tag].IsZero() {
			d.ValidUntil = time.Time{}
		}
		sum := sha256.Sum256([]byte(d.Digest))
		d.ID = "K" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:6]
		ta.Digests = append(ta.Digests, d)
	}
	for _, m := range []map[uint16]time.Time{validFrom, validUntil} {
		for tag := range m {
			if !seen[tag] {
				return nil, fmt.Errorf("dnssec: trust anchor: a time is given for key %d, which is not among the keys", tag)
			}
		}
	}
	sort.SliceStable(ta.Digests, func(i, j int) bool {
		a, b := ta.Digests[i], ta.Digests[j]
		if !a.ValidFrom.Equal(b.ValidFrom) {
			return a.ValidFrom.Before(b.ValidFrom)
		}
		return a.KeyTag < b.KeyTag
	})
	ta.ID = anchorID(ta)
	if err := ta.validate(); err != nil {
		return nil, err
	}
	return ta, nil
}

// anchorID derives a document identifier, formatted as an upper-case
// RFC 9562 version 8 UUID, from a SHA-256 hash of the document's content.
func anchorID(ta *TrustAnchor) string {
	h := sha256.New()
	h.Write([]byte(ta.Zone))
	for _, d := range ta.Digests {
		var b [8]byte
		binary.BigEndian.PutUint16(b[:], d.KeyTag)
		b[2], b[3] = d.Algorithm, d.DigestType
		h.Write(b[:4])
		h.Write([]byte(d.Digest))
		h.Write([]byte(d.ValidFrom.Format(anchorTimeLayout)))
		if !d.ValidUntil.IsZero() {
			h.Write([]byte(d.ValidUntil.Format(anchorTimeLayout)))
		}
		h.Write([]byte{0})
	}
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // variant 10
	s := strings.ToUpper(hex.EncodeToString(u))
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// TrustAnchorXML returns the root-anchors.xml document of the zone
// origin's KSKs: NewTrustAnchor, then Marshal.
func TrustAnchorXML(origin string, ksks []*Key, validFrom, validUntil map[uint16]time.Time) ([]byte, error) {
	ta, err := NewTrustAnchor(origin, ksks, validFrom, validUntil)
	if err != nil {
		return nil, err
	}
	return ta.Marshal()
}

// DSRecords returns the DS records (digest type 2, SHA-256) of the keys,
// with the TTL, ordered by key tag: the records a parent publishes, or for
// a root zone the trust anchor in DS form. Callers pass KSKs; a key whose
// DNSKEY cannot be digested (never one from GenerateKey) is left out.
func DSRecords(ksks []*Key, ttl uint32) []*dns.DS {
	var out []*dns.DS
	for _, k := range ksks {
		ds := k.DNSKEY.ToDS(dns.SHA256)
		if ds == nil {
			continue
		}
		ds.Hdr.Ttl = ttl
		ds.Digest = strings.ToUpper(ds.Digest)
		out = append(out, ds)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].KeyTag < out[j].KeyTag })
	return out
}

// DSText returns DS records in zone-file form, one a line, as IANA
// publishes the root trust anchor for validators that read DS records:
//
//	.	172800	IN	DS	20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
func DSText(ds []*dns.DS) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}
