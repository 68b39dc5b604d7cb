package dnssec

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/miekg/dns"
)

func init() {
	// A key file sealed with a passphrase costs one scrypt derivation to
	// write and one to read; 2^10 keeps the tests fast. Production uses 18.
	scryptLogN = 10
}

var updateKeyFixtures = flag.Bool("update-key-fixtures", false, "rewrite testdata/keys")

// keysT0 is the creation time of the keys the key store tests make.
var keysT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestGenerateKey(t *testing.T) {
	for _, tc := range []struct {
		alg    uint8
		ksk    bool
		signer any
	}{
		{dns.ECDSAP256SHA256, true, &ecdsa.PrivateKey{}},
		{dns.ECDSAP256SHA256, false, &ecdsa.PrivateKey{}},
		{dns.ED25519, true, ed25519.PrivateKey{}},
		{dns.ED25519, false, ed25519.PrivateKey{}},
		{dns.RSASHA256, true, &rsa.PrivateKey{}},
		{dns.RSASHA256, false, &rsa.PrivateKey{}},
	} {
		name := dns.AlgorithmToString[tc.alg] + map[bool]string{true: "/KSK", false: "/ZSK"}[tc.ksk]
		t.Run(name, func(t *testing.T) {
			k, err := GenerateKey("Example.ORG", tc.alg, tc.ksk)
			if err != nil {
				t.Fatal(err)
			}
			d := k.DNSKEY
			wantFlags := uint16(256)
			if tc.ksk {
				wantFlags = 257
			}
			if d.Hdr.Name != "example.org." || d.Hdr.Ttl != 172800 || d.Hdr.Class != dns.ClassINET || d.Flags != wantFlags || d.Protocol != 3 || d.Algorithm != tc.alg {
				t.Errorf("DNSKEY = %s", d)
			}
			if k.IsKSK() != tc.ksk {
				t.Errorf("IsKSK = %v", k.IsKSK())
			}
			if got, want := fmt.Sprintf("%T", k.Signer), fmt.Sprintf("%T", tc.signer); got != want {
				t.Errorf("signer is %s, want %s", got, want)
			}
			if rk, ok := k.Signer.(*rsa.PrivateKey); ok && rk.N.BitLen() != RSABits {
				t.Errorf("RSA modulus of %d bits, want %d", rk.N.BitLen(), RSABits)
			}
			if err := proveKeyPair(k); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestGenerateKeyRefuses(t *testing.T) {
	for _, alg := range []uint8{0, dns.RSASHA1, dns.RSASHA512, dns.ECDSAP384SHA384, dns.ED448, 200} {
		_, err := GenerateKey(".", alg, false)
		if err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("algorithm %d: err = %v, want a refusal", alg, err)
		}
	}
	if _, err := GenerateKey("a..b", dns.ECDSAP256SHA256, false); err == nil {
		t.Error("a bad zone name was accepted")
	}
	if _, err := GenerateKey("a/b.", dns.ECDSAP256SHA256, false); err == nil {
		t.Error("a zone name with a slash was accepted")
	}
}

// storeKeys generates a KSK and a ZSK into the store, with some timings.
func storeKeys(t *testing.T, s *KeyStore, origin string, alg uint8) []*ManagedKey {
	t.Helper()
	ksk, err := s.Generate(origin, alg, KSK, keysT0)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := s.Generate(origin, alg, ZSK, keysT0)
	if err != nil {
		t.Fatal(err)
	}
	ksk.DSSubmitted, ksk.Published, ksk.Active = keysT0, keysT0.Add(time.Hour), keysT0.Add(time.Hour)
	zsk.Published, zsk.Active, zsk.Retired = keysT0, keysT0.Add(time.Hour), keysT0.Add(90*24*time.Hour)
	for _, k := range []*ManagedKey{ksk, zsk} {
		if err := s.Put(k); err != nil {
			t.Fatal(err)
		}
	}
	return []*ManagedKey{ksk, zsk}
}

// sameManaged compares two keys: DNSKEY, private key and timings.
func sameManaged(t *testing.T, got, want *ManagedKey) {
	t.Helper()
	if got.DNSKEY.String() != want.DNSKEY.String() {
		t.Errorf("DNSKEY = %s, want %s", got.DNSKEY, want.DNSKEY)
	}
	if e, ok := got.Signer.(interface{ Equal(crypto.PrivateKey) bool }); !ok || !e.Equal(want.Signer) {
		t.Errorf("private key of %d differs after the round trip", want.Tag())
	}
	if !got.Timing.equal(want.Timing) {
		t.Errorf("timing = %+v, want %+v", got.Timing, want.Timing)
	}
}

// snapshot returns every file in dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestKeyStoreRoundTrip(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519, dns.RSASHA256} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			s, err := OpenKeyStore(dir, PassphraseUnlocker("correct horse battery staple"))
			if err != nil {
				t.Fatal(err)
			}
			want := storeKeys(t, s, ".", alg)
			info, err := os.Stat(dir)
			if err != nil || info.Mode().Perm() != 0o700 {
				t.Errorf("directory mode = %v, %v; want 0700", info.Mode().Perm(), err)
			}
			files := snapshot(t, dir)
			if len(files) != 2 {
				t.Errorf("files = %v, want the two key files and nothing else", keysOf(files))
			}
			for _, k := range want {
				name := k.FileName()
				content, ok := files[name]
				if !ok {
					t.Fatalf("no file %s among %v", name, keysOf(files))
				}
				info, err := os.Stat(filepath.Join(dir, name))
				if err != nil || info.Mode().Perm() != 0o600 {
					t.Errorf("%s mode = %v, %v; want 0600", name, info.Mode().Perm(), err)
				}
				if !strings.HasPrefix(content, "age-encryption.org/v1\n-> scrypt ") {
					t.Errorf("%s is not an age file sealed with a passphrase", name)
				}
				for _, clear := range []string{"PRIVATE KEY", "KSK", "ZSK", "created", k.DNSKEY.PublicKey[:16]} {
					if strings.Contains(content, clear) {
						t.Errorf("%s holds %q in clear", name, clear)
					}
				}
			}
			if want[0].FileName() != fmt.Sprintf("K.+%03d+%05d.age", alg, want[0].Tag()) {
				t.Errorf("file name %s", want[0].FileName())
			}

			again, err := OpenKeyStore(dir, PassphraseUnlocker("correct horse battery staple"))
			if err != nil {
				t.Fatal(err)
			}
			got := again.Keys(".")
			if len(got) != 2 {
				t.Fatalf("reopened store holds %d keys, want 2", len(got))
			}
			for i := range want {
				sameManaged(t, got[i], want[i])
			}
			if n := len(again.Keys("org.")); n != 0 {
				t.Errorf("Keys(org.) = %d keys", n)
			}
		})
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestKeyStoreWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenKeyStore(dir, PassphraseUnlocker("right"))
	if err != nil {
		t.Fatal(err)
	}
	keys := storeKeys(t, s, "example.org", dns.ECDSAP256SHA256)
	before := snapshot(t, dir)

	_, err = OpenKeyStore(dir, PassphraseUnlocker("wrong"))
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, keys[0].FileName())) && !strings.Contains(err.Error(), filepath.Join(dir, keys[1].FileName())) {
		t.Errorf("error %q does not name the file", err)
	}
	if !strings.Contains(err.Error(), "wrong passphrase or identity") {
		t.Errorf("error %q is not clear", err)
	}
	if after := snapshot(t, dir); !equalMaps(before, after) {
		t.Error("opening with a wrong passphrase changed the store")
	}
	if _, err := OpenKeyStore(dir, PassphraseUnlocker("")); err == nil {
		t.Error("an empty passphrase was accepted")
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestKeyStoreIdentityFile(t *testing.T) {
	base := t.TempDir()
	idPath := filepath.Join(base, "identity.txt")
	recipient, err := NewIdentityFile(idPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(recipient, "age1") {
		t.Errorf("recipient = %q", recipient)
	}
	if info, err := os.Stat(idPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("identity file mode = %v, %v", info.Mode().Perm(), err)
	}
	if _, err := NewIdentityFile(idPath); err == nil {
		t.Error("NewIdentityFile overwrote an existing file")
	}

	dir := filepath.Join(base, "keys")
	s, err := OpenKeyStore(dir, IdentityFileUnlocker(idPath))
	if err != nil {
		t.Fatal(err)
	}
	want := storeKeys(t, s, "example.org.", dns.ED25519)
	for _, k := range want {
		b, err := os.ReadFile(filepath.Join(dir, k.FileName()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("age-encryption.org/v1\n-> X25519 ")) {
			t.Errorf("%s is not sealed to an X25519 recipient", k.FileName())
		}
	}
	again, err := OpenKeyStore(dir, IdentityFileUnlocker(idPath))
	if err != nil {
		t.Fatal(err)
	}
	got := again.Keys("example.org")
	if len(got) != 2 {
		t.Fatalf("got %d keys", len(got))
	}
	for i := range want {
		sameManaged(t, got[i], want[i])
	}

	other := filepath.Join(base, "other.txt")
	if _, err := NewIdentityFile(other); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeyStore(dir, IdentityFileUnlocker(other)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another identity: err = %v, want ErrWrongKey", err)
	}
	if _, err := OpenKeyStore(dir, PassphraseUnlocker("x")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a passphrase: err = %v, want ErrWrongKey", err)
	}
	if _, err := OpenKeyStore(dir, IdentityFileUnlocker(filepath.Join(base, "missing.txt"))); err == nil {
		t.Error("a missing identity file was accepted")
	}
	bad := filepath.Join(base, "bad.txt")
	if err := os.WriteFile(bad, []byte("not an identity\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeyStore(dir, IdentityFileUnlocker(bad)); err == nil {
		t.Error("a malformed identity file was accepted")
	}
}

func TestKeyStoreTampered(t *testing.T) {
	dir := t.TempDir()
	unlock := PassphraseUnlocker("p")
	s, err := OpenKeyStore(dir, unlock)
	if err != nil {
		t.Fatal(err)
	}
	keys := storeKeys(t, s, ".", dns.ECDSAP256SHA256)
	path := filepath.Join(dir, keys[0].FileName())
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	headerEnd := bytes.Index(orig, []byte("\n--- ")) + 1
	macEnd := headerEnd + bytes.IndexByte(orig[headerEnd:], '\n') + 1
	for _, tc := range []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"payload byte", func(b []byte) []byte { b[len(b)-20] ^= 1; return b }},
		{"payload truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"payload extended", func(b []byte) []byte { return append(b, 0) }},
		{"header MAC", func(b []byte) []byte { b[headerEnd+6] ^= 1; return b }},
		{"payload nonce", func(b []byte) []byte { b[macEnd] ^= 0x80; return b }},
		{"empty", func(b []byte) []byte { return nil }},
		{"not age", func(b []byte) []byte { return []byte("-----BEGIN PRIVATE KEY-----\n") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.mutate(bytes.Clone(orig)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := OpenKeyStore(dir, unlock)
			if err == nil {
				t.Fatal("a tampered file was accepted")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if errors.Is(err, ErrWrongKey) {
				t.Errorf("error %q blames the passphrase", err)
			}
		})
	}
	// A valid file under another key's name.
	t.Run("renamed", func(t *testing.T) {
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		other := filepath.Join(dir, "K.+013+00001.age")
		if err := os.WriteFile(other, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(other)
		if _, err := OpenKeyStore(dir, unlock); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), other) {
			t.Errorf("err = %v, want ErrCorrupt naming %s", err, other)
		}
	})
	// A file sealed with the right passphrase but holding a key whose
	// private half does not match its DNSKEY.
	t.Run("mismatched key pair", func(t *testing.T) {
		a, b := keys[0], keys[1]
		payload, err := encodeKeyFile(&ManagedKey{Key: &Key{DNSKEY: a.DNSKEY, Signer: b.Signer}, Timing: a.Timing})
		if err != nil {
			t.Fatal(err)
		}
		rcpts, err := unlock.Recipients()
		if err != nil {
			t.Fatal(err)
		}
		err = writeKeyFileAtomic(dir, a.FileName(), func(w io.Writer) error {
			aw, err := age.Encrypt(w, rcpts...)
			if err != nil {
				return err
			}
			if _, err := aw.Write(payload); err != nil {
				return err
			}
			return aw.Close()
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = OpenKeyStore(dir, unlock)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "does not match") {
			t.Errorf("err = %v, want a mismatch", err)
		}
	})
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeyStore(dir, unlock); err != nil {
		t.Errorf("the restored store does not open: %v", err)
	}
}

func TestKeyStorePut(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenKeyStore(dir, PassphraseUnlocker("p"))
	if err != nil {
		t.Fatal(err)
	}
	keys := storeKeys(t, s, ".", dns.ECDSAP256SHA256)
	// Updating a key rewrites its file and leaves no temporary file.
	keys[1].Removed = keys[1].Retired.Add(time.Hour)
	if err := s.Put(keys[1]); err != nil {
		t.Fatal(err)
	}
	for name := range snapshot(t, dir) {
		if !strings.HasPrefix(name, "K") {
			t.Errorf("left %s behind", name)
		}
	}
	again, err := OpenKeyStore(dir, PassphraseUnlocker("p"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range again.Keys("") {
		if k.Tag() == keys[1].Tag() && !k.Removed.Equal(keys[1].Removed) {
			t.Errorf("Removed = %v, want %v", k.Removed, keys[1].Removed)
		}
	}
	// Inconsistent timings are refused.
	bad := *keys[0]
	bad.Timing.Retired = keysT0.Add(-time.Hour)
	if err := s.Put(&bad); err == nil {
		t.Error("a key retired before it was active was stored")
	}
	// Another key under a taken file name is refused.
	k, err := GenerateKey(".", dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	s.keys[(&ManagedKey{Key: k}).FileName()] = keys[0]
	if err := s.Put(&ManagedKey{Key: k, Timing: Timing{Created: keysT0}}); err == nil || !strings.Contains(err.Error(), "already holds another key") {
		t.Errorf("err = %v, want a conflict", err)
	}
	if _, err := s.Generate(".", dns.ECDSAP256SHA256, "CSK", keysT0); err == nil {
		t.Error("an unknown role was accepted")
	}
}

// TestKeyStoreFixtures opens the key files kept in testdata/keys: the
// format must stay readable. Regenerate with -update-key-fixtures.
func TestKeyStoreFixtures(t *testing.T) {
	const passphrase = "steward test passphrase: never use these keys"
	passDir := filepath.Join("testdata", "keys", "passphrase")
	idDir := filepath.Join("testdata", "keys", "identity")
	idFile := filepath.Join("testdata", "keys", "identity.txt")
	if *updateKeyFixtures {
		for _, d := range []string{passDir, idDir} {
			if err := os.RemoveAll(d); err != nil {
				t.Fatal(err)
			}
		}
		_ = os.Remove(idFile)
		if _, err := NewIdentityFile(idFile); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			dir    string
			unlock Unlocker
		}{{passDir, PassphraseUnlocker(passphrase)}, {idDir, IdentityFileUnlocker(idFile)}} {
			s, err := OpenKeyStore(c.dir, c.unlock)
			if err != nil {
				t.Fatal(err)
			}
			storeKeys(t, s, ".", dns.ECDSAP256SHA256)
		}
	}
	for _, c := range []struct {
		dir    string
		unlock Unlocker
	}{{passDir, PassphraseUnlocker(passphrase)}, {idDir, IdentityFileUnlocker(idFile)}} {
		s, err := OpenKeyStore(c.dir, c.unlock)
		if err != nil {
			t.Fatal(err)
		}
		keys := s.Keys(".")
		if len(keys) != 2 || keys[0].Role() != KSK || keys[1].Role() != ZSK {
			t.Fatalf("%s: keys = %v, want a KSK and a ZSK", c.dir, keys)
		}
		if !keys[0].DSSubmitted.Equal(keysT0) || !keys[1].Retired.Equal(keysT0.Add(90*24*time.Hour)) {
			t.Errorf("%s: timings %+v %+v", c.dir, keys[0].Timing, keys[1].Timing)
		}
		if _, err := OpenKeyStore(c.dir, PassphraseUnlocker("not it")); !errors.Is(err, ErrWrongKey) {
			t.Errorf("%s with a wrong passphrase: %v", c.dir, err)
		}
	}
}
