package dnssec

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"

	"github.com/miekg/dns"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// sign signs the RRSIG RDATA (without its signature) followed by the
// records in canonical wire form, as RFC 4034 §3.1.8.1 defines the signed
// data, and returns the signature in DNSSEC's encoding: PKCS #1 v1.5 for
// RSA (RFC 5702), r and s of the curve's size for ECDSA (RFC 6605), the
// 64 octets of RFC 8080 for Ed25519.
func (k *signingKey) sign(rdata []byte, wires [][]byte) ([]byte, error) {
	if k.alg == dns.ED25519 {
		n := len(rdata)
		for _, w := range wires {
			n += len(w)
		}
		msg := make([]byte, 0, n)
		msg = append(msg, rdata...)
		for _, w := range wires {
			msg = append(msg, w...)
		}
		return k.signer.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	var h hash.Hash
	var ch crypto.Hash
	size := 0
	switch k.alg {
	case dns.RSASHA256:
		h, ch = sha256.New(), crypto.SHA256
	case dns.RSASHA512:
		h, ch = sha512.New(), crypto.SHA512
	case dns.ECDSAP256SHA256:
		h, ch, size = sha256.New(), crypto.SHA256, 32
	case dns.ECDSAP384SHA384:
		h, ch, size = sha512.New384(), crypto.SHA384, 48
	default:
		return nil, fmt.Errorf("algorithm %d", k.alg)
	}
	h.Write(rdata)
	for _, w := range wires {
		h.Write(w)
	}
	var sum [sha512.Size]byte
	sig, err := k.signer.Sign(rand.Reader, h.Sum(sum[:0]), ch)
	if err != nil || size == 0 {
		return sig, err
	}
	return ecdsaRS(sig, size)
}

// ecdsaRS turns an ASN.1 ECDSA signature into r and s, each of size octets.
func ecdsaRS(der []byte, size int) ([]byte, error) {
	var r, s []byte
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return nil, errors.New("malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	if !fill(out[:size], r) || !fill(out[size:], s) {
		return nil, errors.New("ECDSA signature value too large")
	}
	return out, nil
}

// fill writes the big-endian integer v, without its leading zeros,
// right-aligned in dst.
func fill(dst, v []byte) bool {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > len(dst) {
		return false
	}
	copy(dst[len(dst)-len(v):], v)
	return true
}
