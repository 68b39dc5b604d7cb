package main

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"steward/dnsserver"
	"steward/internal/testproc"
)

const (
	secret32 = "b9uhaFTwpRIdpIvExQpP4dSc7m06jxNqkIDS1GJRfzM="
	secret64 = "uwa5i5r0KJNkXme79o+4oK1OPiCbNjdBZdmmxs8gt1jlysn05XZw/KOd8Oz2Mq173bUZvqFzvCFbxoEPFnw+Vw=="
)

func TestParseTSIGKeys(t *testing.T) {
	good := []struct {
		name, file string
		want       []dnsserver.TSIGKey
	}{
		{"bind", "key \"xfr-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret32 + "\";\n};\n",
			[]dnsserver.TSIGKey{{Name: "xfr-key.", Algorithm: dns.HmacSHA256, Secret: secret32}}},
		{"bind, two keys and comments", "# made by tsig-keygen\nkey a.example. { algorithm HMAC-SHA512; secret \"" + secret64 + "\"; };\n/* the second\n key */ // and more\nkey \"B\" {\n secret \"" + secret32 + "\"; algorithm hmac-sha384; };",
			[]dnsserver.TSIGKey{{Name: "a.example.", Algorithm: dns.HmacSHA512, Secret: secret64}, {Name: "b.", Algorithm: dns.HmacSHA384, Secret: secret32}}},
		{"knot", "# hmac-sha512:test-key:" + secret64 + "\nkey:\n  - id: test-key\n    algorithm: hmac-sha512\n    secret: " + secret64 + "\n",
			[]dnsserver.TSIGKey{{Name: "test-key.", Algorithm: dns.HmacSHA512, Secret: secret64}}},
		{"lines", "// keys\nxfr:" + secret32 + "\nhmac-sha1:old-key.:" + secret32 + "\n",
			[]dnsserver.TSIGKey{{Name: "xfr.", Algorithm: dns.HmacSHA256, Secret: secret32}, {Name: "old-key.", Algorithm: dns.HmacSHA1, Secret: secret32}}},
	}
	for _, c := range good {
		got, err := parseTSIGKeys([]byte(c.file))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %d keys, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: key %d = %+v, want %+v", c.name, i, got[i], c.want[i])
			}
		}
	}

	bad := []struct{ name, file, want string }{
		{"empty", "# nothing\n\n", "no TSIG key"},
		{"unknown algorithm", "key k { algorithm hmac-md5; secret \"" + secret32 + "\"; };", `unknown algorithm "hmac-md5"`},
		{"short secret", "key k { algorithm hmac-sha256; secret \"c2hvcnQ=\"; };", "5 bytes, want at least 16"},
		{"not base64", "key k {\n algorithm hmac-sha256;\n secret \"not base64!\";\n};", "line 1: key k.: the secret is not base64"},
		{"no secret", "key k { algorithm hmac-sha256; };", `key "k" needs an algorithm and a secret`},
		{"two secrets", "key k { secret \"" + secret32 + "\"; secret \"" + secret32 + "\"; };", "two secret clauses"},
		{"unknown clause", "key k {\n algorithm hmac-sha256;\n secret \"" + secret32 + "\";\n primary yes;\n};", `line 4: key "k": unknown clause "primary"`},
		{"not a key file", "key k { algorithm hmac-sha256; secret \"" + secret32 + "\"; };\noptions { directory \"/var\"; };", `line 2: "options": only key statements`},
		{"unclosed", "key k { algorithm hmac-sha256; secret \"" + secret32 + "\";\n", "is not closed with };"},
		{"no semicolon", "key k { algorithm hmac-sha256; secret \"" + secret32 + "\"; }", "the file ends where \";\" is expected"},
		{"unclosed string", "key k { secret \"abc\n", "line 1: a string that is not closed"},
		{"unclosed comment", "key k /* {", "line 1: a comment that is not closed"},
		{"bad name", "key \"a b\" { algorithm hmac-sha256; secret \"" + secret32 + "\"; };", `key name "a b" is not a domain name`},
		{"twice", "a:" + secret32 + "\nA.:" + secret32 + "\n", "key a. is given twice"},
		{"line shape", "a:b:c:d\n", "line 1: want [ALGORITHM:]NAME:BASE64SECRET"},
		{"knot without algorithm", "key:\n  - id: k\n    secret: " + secret32 + "\n", `key 1 ("k") has no algorithm`},
		{"knot unknown field", "key:\n  - id: k\n    algorithm: hmac-sha256\n    secret: " + secret32 + "\n    colour: red\n", "field colour not found"},
		{"knot empty", "key:\n", "no key under key:"},
	}
	for _, c := range bad {
		_, err := parseTSIGKeys([]byte(c.file))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to say %q", c.name, err, c.want)
		}
		if strings.Contains(err.Error(), secret32) {
			t.Errorf("%s: the error shows the secret: %v", c.name, err)
		}
	}
}

// FuzzTSIGKeys feeds key files of every shape to the parser: it returns
// keys that check out, or an error, and never panics.
func FuzzTSIGKeys(f *testing.F) {
	for _, s := range []string{
		"key \"xfr-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret32 + "\";\n};\n",
		"key:\n  - id: k\n    algorithm: hmac-sha512\n    secret: " + secret64 + "\n",
		"hmac-sha384:k:" + secret32 + "\n",
		"key k /* x */ { # y\n};", "key \"", "key {", "key k { a", "/*", "key:\n  - [",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := parseTSIGKeys(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if _, ok := dns.IsDomainName(k.Name); !ok || !strings.HasSuffix(k.Name, ".") {
				t.Errorf("key name %q", k.Name)
			}
			if _, err := tsigKey(k.Name, k.Algorithm, k.Secret); err != nil {
				t.Errorf("accepted key does not check out: %v", err)
			}
		}
	})
}

// TestServeTSIGFiles gives serve keys made by BIND's and Knot's own tools,
// in their own file formats, and takes the zone with each through dig and
// kdig; without a key, or with an unknown one, the transfer is refused.
func TestServeTSIGFiles(t *testing.T) {
	rndcConfgen := testproc.Need(t, "rndc-confgen")
	keymgr := testproc.Need(t, "keymgr")
	dig := testproc.Need(t, "dig")
	kdig := testproc.Need(t, "kdig")
	tmp := t.TempDir()
	bindFile := filepath.Join(tmp, "bind.key")
	if out, err := osexec.Command(rndcConfgen, "-a", "-A", "hmac-sha384", "-k", "xfr-bind", "-c", bindFile).CombinedOutput(); err != nil {
		t.Fatalf("rndc-confgen: %v\n%s", err, out)
	}
	knotKey, err := osexec.Command(keymgr, "-t", "xfr-knot", "hmac-sha512").Output()
	if err != nil {
		t.Fatalf("keymgr -t: %v", err)
	}
	knotFile := filepath.Join(tmp, "knot.key")
	if err := os.WriteFile(knotFile, knotKey, 0o600); err != nil {
		t.Fatal(err)
	}
	// keymgr's first line is the key as kdig -y takes it.
	kdigKey := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(knotKey), "\n", 2)[0], "#"))

	dir := freshDemo(t)
	srv := serveInProcess(t, "--data", dir, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0",
		"--tsig-file", bindFile, "--tsig-file", knotFile)
	host, port, ok := strings.Cut(srv.DNS, ":")
	if !ok {
		t.Fatalf("no DNS address in:\n%s", srv.Output())
	}
	transfer := func(bin string, args ...string) string {
		t.Helper()
		out, _ := osexec.Command(bin, append([]string{"@" + host, "-p", port, ".", "AXFR"}, args...)...).CombinedOutput()
		return string(out)
	}
	const soa = "\tSOA\t"
	if out := transfer(dig, "-k", bindFile); !strings.Contains(out, soa) || strings.Contains(out, "failed") {
		t.Errorf("dig -k with the BIND key file:\n%s", out)
	}
	if out := transfer(kdig, "-y", kdigKey); !strings.Contains(out, soa) || strings.Contains(out, "failed") {
		t.Errorf("kdig -y with keymgr's key:\n%s", out)
	}
	if out := transfer(dig); strings.Contains(out, soa) {
		t.Errorf("an AXFR without a key was answered:\n%s", out)
	}
	if out := transfer(kdig, "-y", "hmac-sha256:stranger:"+secret32); strings.Contains(out, soa) {
		t.Errorf("an AXFR with an unknown key was answered:\n%s", out)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("serve: %v", err)
	}

	// A bad key file stops serve before it starts, naming the file and line.
	badFile := filepath.Join(tmp, "bad.key")
	if err := os.WriteFile(badFile, []byte("key k {\n algorithm hmac-md5;\n secret \""+secret32+"\";\n};\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "serve", "--data", dir, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--tsig-file", badFile)
	if err == nil || !strings.Contains(out+err.Error(), badFile+": line 1: key \"k\": unknown algorithm") {
		t.Errorf("serve with a bad key file: %v\n%s", err, out)
	}
	out, err = run(t, "serve", "--data", dir, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--tsig-file", bindFile, "--notify", "127.0.0.1:53@nokey")
	if err == nil || !strings.Contains(out+err.Error(), "no TSIG key named nokey.") {
		t.Errorf("serve with --notify naming an unknown key: %v\n%s", err, out)
	}
}
