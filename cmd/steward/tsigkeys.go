package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/miekg/dns"
	"go.yaml.in/yaml/v3"

	"steward/dnsserver"
)

// TSIG keys come from key files in the formats the tools that make them
// write, so that a key never has to appear on a command line (where ps and
// shell histories show it):
//
//   - BIND key statements, as tsig-keygen, ddns-confgen and rndc-confgen
//     write them and dig -k and nsupdate -k read them:
//     key "name" { algorithm hmac-sha256; secret "BASE64"; };
//   - Knot's YAML, as keymgr -t writes it: key: [{id, algorithm, secret}];
//   - lines of [ALGORITHM:]NAME:SECRET, as kdig -y and kdig -k take them.
//
// # and // start comments (and /* */ in BIND files). Every key is checked:
// a known HMAC algorithm, a name that is a domain name, a base64 secret of
// at least 16 bytes, no name twice.

// tsigAlgorithms are the HMAC algorithms of RFC 8945 §6 that miekg/dns
// implements, by the names key files use.
var tsigAlgorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// minTSIGSecret is the shortest secret accepted, in bytes: RFC 8945 §6
// asks for keys at least as long as the HMAC's output; 16 bytes is the
// floor below which a key is certainly a mistake.
const minTSIGSecret = 16

// readTSIGFile reads the TSIG keys in the file at path.
func readTSIGFile(path string) ([]dnsserver.TSIGKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := parseTSIGKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// parseTSIGKeys reads the keys in a key file of any of the three formats.
func parseTSIGKeys(data []byte) ([]dnsserver.TSIGKey, error) {
	var keys []dnsserver.TSIGKey
	var err error
	switch first := firstWord(data); {
	case first == "key":
		keys, err = parseBINDKeys(data)
	case first == "key:":
		keys, err = parseKnotKeys(data)
	case first == "":
		return nil, fmt.Errorf("no TSIG key in the file")
	default:
		keys, err = parseKeyLines(data)
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.Name] {
			return nil, fmt.Errorf("key %s is given twice", k.Name)
		}
		seen[k.Name] = true
	}
	return keys, nil
}

// firstWord is the first word of data outside comments and blank lines.
func firstWord(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "/*") {
			continue
		}
		if f := strings.Fields(line); len(f) > 0 {
			w := f[0]
			if i := strings.IndexAny(w, "\"{"); i > 0 {
				w = w[:i]
			}
			return w
		}
	}
	return ""
}

// tsigKey checks one key as a file gives it.
func tsigKey(name, algorithm, secret string) (dnsserver.TSIGKey, error) {
	if algorithm == "" {
		algorithm = "hmac-sha256"
	}
	alg, ok := tsigAlgorithms[strings.ToLower(strings.TrimSuffix(algorithm, "."))]
	if !ok {
		return dnsserver.TSIGKey{}, fmt.Errorf("key %q: unknown algorithm %q (want hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224 or hmac-sha1)", name, algorithm)
	}
	if name == "" {
		return dnsserver.TSIGKey{}, fmt.Errorf("a key without a name")
	}
	fq := strings.ToLower(dns.Fqdn(name))
	if _, ok := dns.IsDomainName(fq); !ok || strings.ContainsAny(name, " \t\"\\") {
		return dnsserver.TSIGKey{}, fmt.Errorf("key name %q is not a domain name", name)
	}
	b, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return dnsserver.TSIGKey{}, fmt.Errorf("key %s: the secret is not base64: %v", fq, err)
	}
	if len(b) < minTSIGSecret {
		return dnsserver.TSIGKey{}, fmt.Errorf("key %s: the secret has %d bytes, want at least %d", fq, len(b), minTSIGSecret)
	}
	return dnsserver.TSIGKey{Name: fq, Algorithm: alg, Secret: base64.StdEncoding.EncodeToString(b)}, nil
}

// parseKeyLines reads lines of [ALGORITHM:]NAME:SECRET.
func parseKeyLines(data []byte) ([]dnsserver.TSIGKey, error) {
	var keys []dnsserver.TSIGKey
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		k, err := parseKeySpec(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// parseKeySpec reads [ALGORITHM:]NAME:SECRET, as --tsig and kdig -y take it.
func parseKeySpec(s string) (dnsserver.TSIGKey, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
		return tsigKey(parts[0], "", parts[1])
	case 3:
		return tsigKey(parts[1], parts[0], parts[2])
	}
	return dnsserver.TSIGKey{}, fmt.Errorf("want [ALGORITHM:]NAME:BASE64SECRET, not %q", redactSecret(s))
}

// redactSecret hides what may be a secret in an error message.
func redactSecret(s string) string {
	if i := strings.LastIndex(s, ":"); i >= 0 {
		return s[:i+1] + "…"
	}
	if len(s) > 8 {
		return s[:4] + "…"
	}
	return s
}

// parseKnotKeys reads the key list of a Knot configuration fragment.
func parseKnotKeys(data []byte) ([]dnsserver.TSIGKey, error) {
	var doc struct {
		Key []struct {
			ID        string `yaml:"id"`
			Algorithm string `yaml:"algorithm"`
			Secret    string `yaml:"secret"`
		} `yaml:"key"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("Knot key file: %v", err)
	}
	if len(doc.Key) == 0 {
		return nil, fmt.Errorf("Knot key file: no key under key:")
	}
	keys := make([]dnsserver.TSIGKey, 0, len(doc.Key))
	for i, k := range doc.Key {
		if k.Algorithm == "" {
			return nil, fmt.Errorf("Knot key file: key %d (%q) has no algorithm", i+1, k.ID)
		}
		key, err := tsigKey(k.ID, k.Algorithm, k.Secret)
		if err != nil {
			return nil, fmt.Errorf("Knot key file: %w", err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// bindToken is one token of a BIND configuration: a word, a quoted
// string, or one of { } ;.
type bindToken struct {
	text   string
	quoted bool
	line   int
}

// bindTokens splits a BIND configuration into tokens, dropping comments.
func bindTokens(data []byte) ([]bindToken, error) {
	var toks []bindToken
	s, line := string(data), 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case unicode.IsSpace(rune(c)):
			i++
		case c == '#' || strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: a comment that is not closed", line)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, bindToken{text: string(c), line: line})
			i++
		case c == '"':
			end := strings.IndexAny(s[i+1:], "\"\n")
			if end < 0 || s[i+1+end] != '"' {
				return nil, fmt.Errorf("line %d: a string that is not closed", line)
			}
			toks = append(toks, bindToken{text: s[i+1 : i+1+end], quoted: true, line: line})
			i += end + 2
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune("{};\"#", rune(s[j])) {
				j++
			}
			toks = append(toks, bindToken{text: s[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

// parseBINDKeys reads key statements; a file with anything else in it is
// refused, so that a whole named.conf is not taken for a key file.
func parseBINDKeys(data []byte) ([]dnsserver.TSIGKey, error) {
	toks, err := bindTokens(data)
	if err != nil {
		return nil, err
	}
	var keys []dnsserver.TSIGKey
	pos := 0
	next := func() (bindToken, bool) {
		if pos >= len(toks) {
			return bindToken{}, false
		}
		pos++
		return toks[pos-1], true
	}
	lastLine := func() int {
		if len(toks) == 0 {
			return 1
		}
		return toks[len(toks)-1].line
	}
	expect := func(want string) error {
		t, ok := next()
		if !ok {
			return fmt.Errorf("line %d: the file ends where %q is expected", lastLine(), want)
		}
		if t.quoted || t.text != want {
			return fmt.Errorf("line %d: %q where %q is expected", t.line, t.text, want)
		}
		return nil
	}
	for pos < len(toks) {
		t, _ := next()
		if t.quoted || t.text != "key" {
			return nil, fmt.Errorf("line %d: %q: only key statements belong in a key file", t.line, t.text)
		}
		name, ok := next()
		if !ok || (!name.quoted && (name.text == "{" || name.text == ";" || name.text == "}")) {
			return nil, fmt.Errorf("line %d: a key statement without a name", t.line)
		}
		if err := expect("{"); err != nil {
			return nil, err
		}
		var alg, secret string
		var haveAlg, haveSecret bool
		for {
			opt, ok := next()
			if !ok {
				return nil, fmt.Errorf("line %d: key %q is not closed with };", lastLine(), name.text)
			}
			if opt.text == "}" && !opt.quoted {
				break
			}
			val, ok := next()
			if !ok || (!val.quoted && (val.text == ";" || val.text == "{" || val.text == "}")) {
				return nil, fmt.Errorf("line %d: %s without a value", opt.line, opt.text)
			}
			switch {
			case opt.text == "algorithm" && !opt.quoted && !haveAlg:
				alg, haveAlg = val.text, true
			case opt.text == "secret" && !opt.quoted && !haveSecret:
				secret, haveSecret = val.text, true
			case opt.text == "algorithm" || opt.text == "secret":
				return nil, fmt.Errorf("line %d: key %q has two %s clauses", opt.line, name.text, opt.text)
			default:
				return nil, fmt.Errorf("line %d: key %q: unknown clause %q (want algorithm and secret)", opt.line, name.text, opt.text)
			}
			if err := expect(";"); err != nil {
				return nil, err
			}
		}
		if err := expect(";"); err != nil {
			return nil, err
		}
		if !haveAlg || !haveSecret {
			return nil, fmt.Errorf("line %d: key %q needs an algorithm and a secret", t.line, name.text)
		}
		k, err := tsigKey(name.text, alg, secret)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", t.line, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
