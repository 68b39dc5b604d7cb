package ledger

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
)

// Digest is a homomorphic hash of a set of (key, value) records: LtHash
// with 1024 lanes of 16 bits (Lewi, Kim, Maykov and Weis, "Securing Update
// Propagation with Homomorphic Hashing", 2019). Adding and removing a record
// costs the same whatever the size of the set, so a store keeps the digest
// of its whole state current in every transaction, and an auditor who
// rebuilds the state from the ledger computes the same value by adding its
// records in any order.
//
// A record's lanes are the first 2048 bytes of SHAKE128 over
// "steward state v1\x00" || len(key) as 4 bytes || key || value.
type Digest [2048]byte

func recordLanes(key string, value []byte) *[2048]byte {
	h := sha3.NewSHAKE128()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(key)))
	h.Write([]byte("steward state v1\x00"))
	h.Write(n[:])
	h.Write([]byte(key))
	h.Write(value)
	var out [2048]byte
	h.Read(out[:])
	return &out
}

// Add adds a record to the set.
func (d *Digest) Add(key string, value []byte) {
	r := recordLanes(key, value)
	for i := 0; i < len(d); i += 2 {
		v := binary.LittleEndian.Uint16(d[i:]) + binary.LittleEndian.Uint16(r[i:])
		binary.LittleEndian.PutUint16(d[i:], v)
	}
}

// Remove removes a record from the set.
func (d *Digest) Remove(key string, value []byte) {
	r := recordLanes(key, value)
	for i := 0; i < len(d); i += 2 {
		v := binary.LittleEndian.Uint16(d[i:]) - binary.LittleEndian.Uint16(r[i:])
		binary.LittleEndian.PutUint16(d[i:], v)
	}
}

// Sum returns the SHA-256 of the digest: the value published in checkpoints.
func (d *Digest) Sum() [32]byte { return sha256.Sum256(d[:]) }
