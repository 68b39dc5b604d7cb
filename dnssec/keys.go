package dnssec

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/miekg/dns"
)

// DNSKEYTTL is the TTL GenerateKey gives a new DNSKEY record: two days, as
// the root zone's DNSKEY RRset has.
const DNSKEYTTL = 172800

// RSABits is the modulus size of the RSA/SHA-256 (algorithm 8) keys that
// GenerateKey makes, for KSKs and ZSKs alike: 2048 bits, the size of the
// root zone's KSK and ZSK. (RFC 8624 leaves the size to the operator;
// 2048 keeps responses small and is what validators are tested with.)
const RSABits = 2048

// GenerateKey makes a new key for the zone origin: a DNSKEY record (flags
// 257 for a key-signing key, 256 for a zone-signing key, protocol 3, TTL
// DNSKEYTTL) and the crypto.Signer of its private half.
//
// The algorithms are 13 (ECDSA P-256 with SHA-256, the default), 15
// (Ed25519) and 8 (RSA/SHA-256 with RSABits-bit keys); any other is refused
// with an error. The key material comes from crypto/rand through
// miekg/dns's DNSKEY.Generate.
func GenerateKey(origin string, alg uint8, ksk bool) (*Key, error) {
	origin, err := keyOrigin(origin)
	if err != nil {
		return nil, err
	}
	var bits int
	switch alg {
	case dns.ECDSAP256SHA256, dns.ED25519:
		bits = 256
	case dns.RSASHA256:
		bits = RSABits
	default:
		return nil, fmt.Errorf("dnssec: algorithm %d is not supported: use 13 (ECDSAP256SHA256), 15 (ED25519) or 8 (RSASHA256)", alg)
	}
	flags := uint16(dns.ZONE)
	if ksk {
		flags |= dns.SEP
	}
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: DNSKEYTTL},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	// A key whose tag is 0 is valid DNSSEC, but miekg/dns refuses to sign
	// with it (an RRSIG's key tag 0 means "unset" there): draw another, as
	// happens for one key in 65,536.
	var priv crypto.PrivateKey
	for {
		var err error
		if priv, err = k.Generate(bits); err != nil {
			return nil, fmt.Errorf("dnssec: generating a key: %w", err)
		}
		if k.KeyTag() != 0 {
			break
		}
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("dnssec: generated key of type %T cannot sign", priv)
	}
	return &Key{DNSKEY: k, Signer: signer}, nil
}

// keyOrigin returns origin fully qualified and in lower case, or an error
// if it is not a domain name a key file can be named after.
func keyOrigin(origin string) (string, error) {
	o := strings.ToLower(dns.Fqdn(origin))
	if _, ok := dns.IsDomainName(o); !ok || strings.ContainsAny(o, "/\\\x00") {
		return "", fmt.Errorf("dnssec: %q is not a usable zone name", origin)
	}
	return o, nil
}

// Role is a key's part in signing a zone.
type Role string

// The roles. A key-signing key has the SEP flag and signs the DNSKEY RRset;
// a zone-signing key signs every other RRset.
const (
	KSK Role = "KSK"
	ZSK Role = "ZSK"
)

// Timing is a key's lifecycle, in the terms of RFC 7583 §3.1. A zero time
// means the event has not happened. Each time is when the event happened
// (when the Schedule's Step made it happen), never a plan.
type Timing struct {
	// Created is when the key was generated (Tgen).
	Created time.Time `json:"created"`
	// Published is when its DNSKEY entered the zone's DNSKEY RRset (Tpub).
	Published time.Time `json:"published,omitzero"`
	// Active is when it started signing (Tact).
	Active time.Time `json:"active,omitzero"`
	// Retired is when it stopped signing (Tret).
	Retired time.Time `json:"retired,omitzero"`
	// Removed is when its DNSKEY left the DNSKEY RRset (Trem).
	Removed time.Time `json:"removed,omitzero"`
	// DSSubmitted is, for a KSK, when its DS record was submitted to the
	// parent, or for a root zone when its trust anchor was published (Tsbm).
	DSSubmitted time.Time `json:"ds_submitted,omitzero"`
	// DSWithdrawn is, for a KSK, when its DS record was withdrawn from the
	// parent, or its trust anchor given a validUntil.
	DSWithdrawn time.Time `json:"ds_withdrawn,omitzero"`
}

// equal reports whether two timings record the same instants.
func (t Timing) equal(o Timing) bool {
	return t.Created.Equal(o.Created) && t.Published.Equal(o.Published) && t.Active.Equal(o.Active) &&
		t.Retired.Equal(o.Retired) && t.Removed.Equal(o.Removed) &&
		t.DSSubmitted.Equal(o.DSSubmitted) && t.DSWithdrawn.Equal(o.DSWithdrawn)
}

// latest returns the latest of the timing's events.
func (t Timing) latest() time.Time {
	var l time.Time
	for _, x := range []time.Time{t.Created, t.Published, t.Active, t.Retired, t.Removed, t.DSSubmitted, t.DSWithdrawn} {
		if x.After(l) {
			l = x
		}
	}
	return l
}

// check reports an impossible order of events.
func (t Timing) check() error {
	type ev struct {
		name string
		at   time.Time
	}
	order := [][2]ev{
		{{"published", t.Published}, {"active", t.Active}},
		{{"active", t.Active}, {"retired", t.Retired}},
		{{"published", t.Published}, {"removed", t.Removed}},
		{{"retired", t.Retired}, {"removed", t.Removed}},
		{{"DS submitted", t.DSSubmitted}, {"DS withdrawn", t.DSWithdrawn}},
	}
	for _, p := range order {
		before, after := p[0], p[1]
		if after.at.IsZero() {
			continue
		}
		if before.at.IsZero() {
			return fmt.Errorf("%s at %s but never %s", after.name, after.at.Format(time.RFC3339), before.name)
		}
		if after.at.Before(before.at) {
			return fmt.Errorf("%s at %s, before %s at %s", after.name, after.at.Format(time.RFC3339), before.name, before.at.Format(time.RFC3339))
		}
	}
	for _, e := range []ev{{"published", t.Published}, {"active", t.Active}, {"DS submitted", t.DSSubmitted}} {
		if !e.at.IsZero() && e.at.Before(t.Created) {
			return fmt.Errorf("%s at %s, before the key was created at %s", e.name, e.at.Format(time.RFC3339), t.Created.Format(time.RFC3339))
		}
	}
	return nil
}

// ManagedKey is a key of a zone with its lifecycle: what a KeyStore keeps
// and a Schedule moves forward. Its Role follows from the DNSKEY's SEP
// flag. A ManagedKey is not safe for concurrent modification.
type ManagedKey struct {
	*Key
	Timing
}

// Role returns KSK for a key with the SEP flag, ZSK otherwise.
func (m *ManagedKey) Role() Role {
	if m.IsKSK() {
		return KSK
	}
	return ZSK
}

// Origin returns the zone the key belongs to: its DNSKEY's owner name.
func (m *ManagedKey) Origin() string { return m.DNSKEY.Hdr.Name }

// Algorithm returns the key's DNSSEC algorithm number.
func (m *ManagedKey) Algorithm() uint8 { return m.DNSKEY.Algorithm }

// String describes the key as "KSK 20326 (alg 8)".
func (m *ManagedKey) String() string {
	return fmt.Sprintf("%s %d (alg %d)", m.Role(), m.Tag(), m.Algorithm())
}

// FileName returns the name of the key's file in a KeyStore:
// K<origin>+<alg>+<tag>.age, with the algorithm in three digits and the
// tag in five, as BIND names its key files (K.+013+12345.age for the root).
func (m *ManagedKey) FileName() string {
	return fmt.Sprintf("K%s+%03d+%05d.age", m.Origin(), m.Algorithm(), m.Tag())
}

// check verifies that the key is well formed: a DNSKEY of a supported
// algorithm at a usable origin, a signer whose public half is the DNSKEY's
// (proved by signing and verifying a record), and timings in order.
func (m *ManagedKey) check() error {
	if m == nil || m.Key == nil || m.DNSKEY == nil || m.Signer == nil {
		return errors.New("incomplete key: it needs a DNSKEY and a signer")
	}
	if o, err := keyOrigin(m.Origin()); err != nil || o != m.Origin() {
		return fmt.Errorf("DNSKEY owner %q is not a fully qualified lower-case zone name", m.Origin())
	}
	if m.DNSKEY.Protocol != 3 || m.DNSKEY.Flags&dns.ZONE == 0 {
		return fmt.Errorf("DNSKEY is not a zone key (flags %d, protocol %d)", m.DNSKEY.Flags, m.DNSKEY.Protocol)
	}
	switch alg := m.Algorithm(); alg {
	case dns.ECDSAP256SHA256:
		if _, ok := m.Signer.(*ecdsa.PrivateKey); !ok {
			return fmt.Errorf("algorithm %d needs an ECDSA key, not %T", alg, m.Signer)
		}
	case dns.ED25519:
		if _, ok := m.Signer.(ed25519.PrivateKey); !ok {
			return fmt.Errorf("algorithm %d needs an Ed25519 key, not %T", alg, m.Signer)
		}
	case dns.RSASHA256:
		if _, ok := m.Signer.(*rsa.PrivateKey); !ok {
			return fmt.Errorf("algorithm %d needs an RSA key, not %T", alg, m.Signer)
		}
	default:
		return fmt.Errorf("algorithm %d is not supported", alg)
	}
	if err := proveKeyPair(m.Key); err != nil {
		return err
	}
	return m.Timing.check()
}

// proveKeyPair signs a record with the key's signer and verifies the
// signature with its DNSKEY: the private and public halves belong together.
func proveKeyPair(k *Key) error {
	txt := &dns.TXT{Hdr: dns.RR_Header{Name: k.DNSKEY.Hdr.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0}, Txt: []string{"steward key check"}}
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Name: k.DNSKEY.Hdr.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET},
		Algorithm:  k.DNSKEY.Algorithm,
		SignerName: k.DNSKEY.Hdr.Name,
		KeyTag:     k.Tag(),
		Expiration: 1,
	}
	if err := sig.Sign(k.Signer, []dns.RR{txt}); err != nil {
		return fmt.Errorf("the private key cannot sign: %w", err)
	}
	if err := sig.Verify(k.DNSKEY, []dns.RR{txt}); err != nil {
		return fmt.Errorf("the private key does not match the DNSKEY %d: %w", k.Tag(), err)
	}
	return nil
}

// Unlocker opens the files of a KeyStore and seals new ones. Make one with
// PassphraseUnlocker or IdentityFileUnlocker.
type Unlocker interface {
	// Identities returns the age identities that decrypt key files.
	Identities() ([]age.Identity, error)
	// Recipients returns the age recipients key files are encrypted to.
	Recipients() ([]age.Recipient, error)
	// String says what the unlocker is, for error messages; it never
	// contains secret material.
	String() string
}

// scryptLogN is the scrypt work factor (log2 N) of files sealed with a
// passphrase: age's default, about a second on a current machine. Tests
// lower it.
var scryptLogN = 18

// PassphraseUnlocker returns an Unlocker for key files encrypted with a
// passphrase (age's scrypt recipient, so `age -d` with the same passphrase
// also opens them). Each file costs one scrypt derivation to open or write.
func PassphraseUnlocker(p string) Unlocker { return passphraseUnlocker(p) }

type passphraseUnlocker string

func (p passphraseUnlocker) Identities() ([]age.Identity, error) {
	id, err := age.NewScryptIdentity(string(p))
	if err != nil {
		return nil, fmt.Errorf("passphrase: %w", err)
	}
	return []age.Identity{id}, nil
}

func (p passphraseUnlocker) Recipients() ([]age.Recipient, error) {
	r, err := age.NewScryptRecipient(string(p))
	if err != nil {
		return nil, fmt.Errorf("passphrase: %w", err)
	}
	r.SetWorkFactor(scryptLogN)
	return []age.Recipient{r}, nil
}

func (p passphraseUnlocker) String() string { return "passphrase" }

// IdentityFileUnlocker returns an Unlocker reading an age identity file
// (one or more AGE-SECRET-KEY-1… X25519 or AGE-SECRET-KEY-PQ-1… hybrid
// identities, one a line, # comments allowed), as age-keygen writes. Files
// are decrypted with any of its identities and encrypted to the first.
// The file is read each time Identities or Recipients is called.
func IdentityFileUnlocker(path string) Unlocker { return identityFileUnlocker(path) }

type identityFileUnlocker string

func (f identityFileUnlocker) Identities() ([]age.Identity, error) {
	file, err := os.Open(string(f))
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	defer file.Close()
	ids, err := age.ParseIdentities(file)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", string(f), err)
	}
	return ids, nil
}

func (f identityFileUnlocker) Recipients() ([]age.Recipient, error) {
	ids, err := f.Identities()
	if err != nil {
		return nil, err
	}
	switch id := ids[0].(type) {
	case *age.X25519Identity:
		return []age.Recipient{id.Recipient()}, nil
	case *age.HybridIdentity:
		return []age.Recipient{id.Recipient()}, nil
	default:
		return nil, fmt.Errorf("identity file %s: identity of type %T has no recipient", string(f), id)
	}
}

func (f identityFileUnlocker) String() string { return "identity file " + string(f) }

// NewIdentityFile writes a new age X25519 identity to path (mode 0600; an
// existing file is never overwritten) and returns its public recipient
// (age1…). It is for demos and first starts: keep the file apart from the
// key store, or the encryption protects nothing.
func NewIdentityFile(path string) (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", fmt.Errorf("dnssec: generating an identity: %w", err)
	}
	content := fmt.Sprintf("# steward DNSSEC key store identity\n# public key: %s\n%s\n", id.Recipient(), id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("dnssec: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return "", fmt.Errorf("dnssec: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return "", fmt.Errorf("dnssec: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("dnssec: writing %s: %w", path, err)
	}
	return id.Recipient().String(), nil
}

// Errors a KeyStore returns, wrapped with the path of the file concerned.
var (
	// ErrWrongKey means a key file could not be decrypted with the
	// passphrase or identities given.
	ErrWrongKey = errors.New("wrong passphrase or identity")
	// ErrCorrupt means a key file decrypted (or failed to) in a way that
	// shows it was damaged or tampered with, or holds an invalid key.
	ErrCorrupt = errors.New("damaged, tampered with or invalid")
)

// keyFileVersion is the version of the encrypted payload format.
const keyFileVersion = 1

// maxKeyFileSize bounds the size of a key file and of its decrypted payload.
const maxKeyFileSize = 1 << 20

// keyFilePayload is the payload of a key file: JSON inside age encryption.
// Everything about a key, private half and lifecycle alike, is in this one
// authenticated payload, so one rename replaces all of it and nothing about
// the key can be changed without the passphrase or identity.
type keyFilePayload struct {
	Version    int    `json:"version"`
	Origin     string `json:"origin"`
	Role       Role   `json:"role"`
	Algorithm  uint8  `json:"algorithm"`
	KeyTag     uint16 `json:"key_tag"`
	DNSKEY     string `json:"dnskey"`      // presentation format
	PrivateKey string `json:"private_key"` // PKCS #8, PEM
	Timing
}

func encodeKeyFile(m *ManagedKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(m.Signer)
	if err != nil {
		return nil, fmt.Errorf("encoding the private key: %w", err)
	}
	kf := keyFilePayload{
		Version:    keyFileVersion,
		Origin:     m.Origin(),
		Role:       m.Role(),
		Algorithm:  m.Algorithm(),
		KeyTag:     m.Tag(),
		DNSKEY:     m.DNSKEY.String(),
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		Timing:     m.Timing,
	}
	return json.MarshalIndent(kf, "", "  ")
}

func decodeKeyFile(b []byte) (*ManagedKey, error) {
	var kf keyFilePayload
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if kf.Version != keyFileVersion {
		return nil, fmt.Errorf("payload version %d, want %d", kf.Version, keyFileVersion)
	}
	rr, err := dns.NewRR(kf.DNSKEY)
	if err != nil {
		return nil, fmt.Errorf("DNSKEY: %w", err)
	}
	dnskey, ok := rr.(*dns.DNSKEY)
	if !ok {
		return nil, fmt.Errorf("DNSKEY: a %s record", dns.TypeToString[rr.Header().Rrtype])
	}
	block, rest := pem.Decode([]byte(kf.PrivateKey))
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("private key: not one PEM PRIVATE KEY block")
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", priv)
	}
	m := &ManagedKey{Key: &Key{DNSKEY: dnskey, Signer: signer}, Timing: kf.Timing}
	if err := m.check(); err != nil {
		return nil, err
	}
	if kf.Origin != m.Origin() || kf.Role != m.Role() || kf.Algorithm != m.Algorithm() || kf.KeyTag != m.Tag() {
		return nil, fmt.Errorf("metadata (%s %s alg %d tag %d) does not match the DNSKEY (%s %s alg %d tag %d)",
			kf.Origin, kf.Role, kf.Algorithm, kf.KeyTag, m.Origin(), m.Role(), m.Algorithm(), m.Tag())
	}
	return m, nil
}

// KeyStore keeps a zone's keys in a directory, each in its own file
// K<origin>+<alg>+<tag>.age (see ManagedKey.FileName), encrypted with age.
//
// A file's encrypted payload is JSON holding the DNSKEY, the private key
// (PKCS #8, PEM) and the metadata: role, algorithm, creation and every
// rollover timestamp. Nothing about a key is kept in clear on disk (the
// file name reveals the zone, algorithm and key tag, all public in the
// DNS); age authenticates the whole payload, so a file changed by anyone
// without the passphrase or identity is refused. Files are written to a
// temporary file in the same directory, synced, and renamed over the old
// one, with mode 0600; the directory is created with mode 0700.
//
// A KeyStore is safe for concurrent use. The *ManagedKey values it returns
// are shared: change them (as Schedule.Step does) from one goroutine, and
// Put them to persist the change.
type KeyStore struct {
	dir   string
	ids   []age.Identity
	rcpts []age.Recipient

	mu   sync.Mutex
	keys map[string]*ManagedKey // by file name
}

// OpenKeyStore opens the key store in dir, creating the directory if it
// does not exist, and decrypts every key file in it with unlock. It fails,
// naming the file, if any key file cannot be decrypted (ErrWrongKey) or is
// damaged, tampered with or invalid (ErrCorrupt); it never writes to an
// existing store. An empty store accepts any passphrase or identity: the
// first key written fixes it.
func OpenKeyStore(dir string, unlock Unlocker) (*KeyStore, error) {
	if unlock == nil {
		return nil, errors.New("dnssec: key store: no unlocker")
	}
	ids, err := unlock.Identities()
	if err != nil {
		return nil, fmt.Errorf("dnssec: key store %s: %w", dir, err)
	}
	rcpts, err := unlock.Recipients()
	if err != nil {
		return nil, fmt.Errorf("dnssec: key store %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dnssec: key store: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dnssec: key store: %w", err)
	}
	s := &KeyStore{dir: dir, ids: ids, rcpts: rcpts, keys: map[string]*ManagedKey{}}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, "K") || !strings.HasSuffix(name, ".age") {
			continue
		}
		path := filepath.Join(dir, name)
		m, err := s.read(path)
		if err != nil {
			return nil, fmt.Errorf("dnssec: key file %s: %w (with %s)", path, err, unlock)
		}
		if m.FileName() != name {
			return nil, fmt.Errorf("dnssec: key file %s: %w: it holds the key of %s (%s)", path, ErrCorrupt, m.Origin(), m.FileName())
		}
		s.keys[name] = m
	}
	return s, nil
}

// read decrypts and decodes one key file.
func (s *KeyStore) read(path string) (*ManagedKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := age.Decrypt(io.LimitReader(f, maxKeyFileSize), s.ids...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, ErrWrongKey
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(b) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: payload larger than %d bytes", ErrCorrupt, maxKeyFileSize)
	}
	m, err := decodeKeyFile(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, nil
}

// Dir returns the store's directory.
func (s *KeyStore) Dir() string { return s.dir }

// Keys returns the keys of the zone origin (every zone if origin is ""),
// removed ones included, ordered by zone, creation time, role (KSKs
// first) and key tag.
func (s *KeyStore) Keys(origin string) []*ManagedKey {
	if origin != "" {
		origin = strings.ToLower(dns.Fqdn(origin))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*ManagedKey
	for _, m := range s.keys {
		if origin == "" || m.Origin() == origin {
			out = append(out, m)
		}
	}
	sortManagedKeys(out)
	return out
}

// sortManagedKeys orders keys by zone, creation time, role (KSKs first),
// key tag and algorithm.
func sortManagedKeys(ks []*ManagedKey) {
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.Origin() != b.Origin() {
			return a.Origin() < b.Origin()
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		if a.Role() != b.Role() {
			return a.Role() == KSK
		}
		if a.Tag() != b.Tag() {
			return a.Tag() < b.Tag()
		}
		return a.Algorithm() < b.Algorithm()
	})
}

// Put writes the key to its file, atomically, replacing the file of the
// same key. It refuses an invalid key, and a different key whose file name
// (zone, algorithm and tag) is taken.
func (s *KeyStore) Put(m *ManagedKey) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("dnssec: key store: %w", err)
	}
	name := m.FileName()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.keys[name]; ok && old != m && !sameKeyData(old.DNSKEY, m.DNSKEY) {
		return fmt.Errorf("dnssec: key store: %s already holds another key with tag %d", name, m.Tag())
	}
	payload, err := encodeKeyFile(m)
	if err != nil {
		return fmt.Errorf("dnssec: key store: %s: %w", name, err)
	}
	err = writeKeyFileAtomic(s.dir, name, func(w io.Writer) error {
		aw, err := age.Encrypt(w, s.rcpts...)
		if err != nil {
			return err
		}
		if _, err := aw.Write(payload); err != nil {
			return err
		}
		return aw.Close()
	})
	if err != nil {
		return fmt.Errorf("dnssec: key store: %w", err)
	}
	s.keys[name] = m
	return nil
}

// Generate makes a new key for origin with GenerateKey, created at now,
// and Puts it. It draws again if the key tag is already used by another
// key of the zone, so tags stay unique within a zone.
func (s *KeyStore) Generate(origin string, alg uint8, role Role, now time.Time) (*ManagedKey, error) {
	if role != KSK && role != ZSK {
		return nil, fmt.Errorf("dnssec: unknown key role %q", role)
	}
	for range 16 {
		k, err := GenerateKey(origin, alg, role == KSK)
		if err != nil {
			return nil, err
		}
		if s.tagUsed(k.DNSKEY.Hdr.Name, k.Tag()) {
			continue
		}
		m := &ManagedKey{Key: k, Timing: Timing{Created: now.UTC()}}
		if err := s.Put(m); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, errors.New("dnssec: key store: no unused key tag after 16 tries")
}

func (s *KeyStore) tagUsed(origin string, tag uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.keys {
		if m.Origin() == origin && m.Tag() == tag {
			return true
		}
	}
	return false
}

func sameKeyData(a, b *dns.DNSKEY) bool {
	return a.Flags == b.Flags && a.Protocol == b.Protocol && a.Algorithm == b.Algorithm &&
		a.PublicKey == b.PublicKey && strings.EqualFold(a.Hdr.Name, b.Hdr.Name)
}

// writeKeyFileAtomic writes dir/name through a temporary file in dir (mode
// 0600), synced and renamed into place; the directory is synced after.
// On failure the old file, if any, is left as it was.
func writeKeyFileAtomic(dir, name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-"+name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if err = write(f); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
