// Package dnssec signs zones (RFC 4033-4035) with NSEC denial of existence
// and ZONEMD digests (RFC 8976), keeps their keys encrypted at rest, and
// schedules key rollovers (RFC 6781, RFC 7583).
package dnssec

import (
	"crypto"

	"github.com/miekg/dns"
)

// Key is a DNSSEC key: its public DNSKEY record and a signer holding its
// private half.
type Key struct {
	DNSKEY *dns.DNSKEY
	Signer crypto.Signer
}

// Tag returns the key tag (RFC 4034 Appendix B).
func (k *Key) Tag() uint16 { return k.DNSKEY.KeyTag() }

// IsKSK reports whether the key has the SEP flag: a key-signing key.
func (k *Key) IsKSK() bool { return k.DNSKEY.Flags&dns.SEP != 0 }
