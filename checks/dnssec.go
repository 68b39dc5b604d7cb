package checks

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"steward"
)

// keySet is the DNSKEY RRset one server serves, with its signatures.
type keySet struct {
	srv  int
	e    *exchange
	keys []*dns.DNSKEY
	set  []dns.RR // the DNSKEY records as an RRset, for verification
	sigs []*dns.RRSIG
}

// keySets returns the DNSKEY RRsets of the servers that answered the
// DNSKEY query authoritatively, and whether any server did.
func (a *analysis) keySets() (sets []keySet, answered bool) {
	for _, i := range a.queried() {
		e := a.obs.get(i, "udp", a.d.Zone, dns.TypeDNSKEY)
		if !e.authoritative() {
			continue
		}
		answered = true
		ks := keySet{srv: i, e: e}
		for _, rr := range e.msg.Answer {
			if rr == nil || !strings.EqualFold(rr.Header().Name, a.d.Zone) || rr.Header().Class != dns.ClassINET {
				continue
			}
			switch r := rr.(type) {
			case *dns.DNSKEY:
				ks.keys = append(ks.keys, r)
				ks.set = append(ks.set, r)
			case *dns.RRSIG:
				if r.TypeCovered == dns.TypeDNSKEY {
					ks.sigs = append(ks.sigs, r)
				}
			}
		}
		if len(ks.keys) > 0 {
			sets = append(sets, ks)
		}
	}
	return sets, answered
}

// verify checks sig over the key set with key, at time now: nil when it
// verifies and is within its validity period. It never panics.
func verify(sig *dns.RRSIG, key *dns.DNSKEY, set []dns.RR, zone string, now time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the signature cannot be checked: %v", r)
		}
	}()
	if !strings.EqualFold(sig.SignerName, zone) {
		return fmt.Errorf("signer %s is not the zone", sig.SignerName)
	}
	if err := sig.Verify(key, set); err != nil {
		return fmt.Errorf("does not verify: %v", err)
	}
	if !sig.ValidityPeriod(now) {
		why := errNotYetValid
		if expiredAt(sig, now) {
			why = errExpired
		}
		return fmt.Errorf("%w at %s (valid %s to %s)", why, now.UTC().Format(time.RFC3339),
			dns.TimeToString(sig.Inception), dns.TimeToString(sig.Expiration))
	}
	return nil
}

var (
	errExpired     = errors.New("expired")
	errNotYetValid = errors.New("not yet valid")
)

// expiredAt reports whether the signature's expiration lies before now,
// in the serial arithmetic of RFC 4034 §3.1.5 (as ValidityPeriod uses).
func expiredAt(sig *dns.RRSIG, now time.Time) bool {
	const year68 = 1 << 31
	utc := now.UTC().Unix()
	te := int64(sig.Expiration) + (int64(sig.Expiration)-utc)/year68*year68
	return te < utc
}

func sigText(s *dns.RRSIG) string {
	return fmt.Sprintf("RRSIG DNSKEY by key %d algorithm %d, valid %s to %s", s.KeyTag, s.Algorithm,
		dns.TimeToString(s.Inception), dns.TimeToString(s.Expiration))
}

func dsText(ds steward.DS) string {
	return fmt.Sprintf("DS %d %d %d %s", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
}

func (a *analysis) dnssec01() {
	for _, ds := range a.d.DS {
		ev := dsText(ds)
		switch ds.DigestType {
		case dns.SHA256, dns.SHA384:
			a.add("DNSSEC01", "DS01_DS_ALGO_OK", OK, fmt.Sprintf("DS %d uses digest type %d (%s).", ds.KeyTag, ds.DigestType, dns.HashToString[ds.DigestType]), ev)
		case dns.SHA1, dns.GOST94:
			a.add("DNSSEC01", "DS01_DS_ALGO_DEPRECATED", WARNING,
				fmt.Sprintf("DS %d uses digest type %d (%s), which must no longer be used (RFC 8624).", ds.KeyTag, ds.DigestType, dns.HashToString[ds.DigestType]), ev)
		case 0:
			a.add("DNSSEC01", "DS01_DS_ALGO_NOT_DS", ERROR, fmt.Sprintf("DS %d uses digest type 0, which is reserved.", ds.KeyTag), ev)
		case 5, 6:
			a.add("DNSSEC01", "DS01_DIGEST_NOT_SUPPORTED", NOTICE,
				fmt.Sprintf("DS %d uses digest type %d, which the checker cannot compute.", ds.KeyTag, ds.DigestType), ev)
		default:
			a.add("DNSSEC01", "DS01_DS_ALGO_RESERVED", ERROR, fmt.Sprintf("DS %d uses digest type %d, which is not assigned.", ds.KeyTag, ds.DigestType), ev)
		}
	}
}

// dsProblem is why one DS fails on one server.
type dsProblem struct {
	tag, msg string
	ev       []string
}

// checkDS checks one DS against one server's key set: a key with its tag,
// algorithm and digest, a zone key with SEP, signing the DNSKEY RRset with
// a signature valid now. It returns the problems, and whether the checker
// could judge the DS at all.
func (a *analysis) checkDS(ds steward.DS, ks keySet) (probs []dsProblem, judged bool) {
	srv := a.obs.servers[ks.srv].String()
	var tagged []*dns.DNSKEY
	for _, k := range ks.keys {
		if k.KeyTag() == ds.KeyTag && k.Algorithm == ds.Algorithm {
			tagged = append(tagged, k)
		}
	}
	if len(tagged) == 0 {
		return []dsProblem{{"DS02_NO_DNSKEY_FOR_DS", fmt.Sprintf("%s serves no DNSKEY with key tag %d and algorithm %d.", srv, ds.KeyTag, ds.Algorithm), nil}}, true
	}
	if _, ok := digestLen[ds.DigestType]; !ok {
		return nil, false
	}
	var key *dns.DNSKEY
	for _, k := range tagged {
		if d := k.ToDS(ds.DigestType); d != nil && strings.EqualFold(d.Digest, ds.Digest) {
			key = k
			break
		}
	}
	if key == nil {
		var computed []string
		for _, k := range tagged {
			if d := k.ToDS(ds.DigestType); d != nil {
				computed = append(computed, fmt.Sprintf("DNSKEY %d hashes to %s", k.KeyTag(), strings.ToUpper(d.Digest)))
			}
		}
		return []dsProblem{{"DS02_NO_MATCH_DS_DNSKEY", fmt.Sprintf("The digest of DS %d matches no DNSKEY %s serves.", ds.KeyTag, srv), computed}}, true
	}
	keyEv := fmt.Sprintf("DNSKEY %d flags %d algorithm %d", key.KeyTag(), key.Flags, key.Algorithm)
	if key.Flags&dns.ZONE == 0 {
		return []dsProblem{{"DS02_DNSKEY_NOT_FOR_ZONE_SIGNING", fmt.Sprintf("DNSKEY %d, which DS %d names, is not a zone key (flags %d).", key.KeyTag(), ds.KeyTag, key.Flags), []string{keyEv}}}, true
	}
	if key.Flags&dns.REVOKE != 0 {
		return []dsProblem{{"DS02_DNSKEY_REVOKED", fmt.Sprintf("DNSKEY %d, which DS %d names, is revoked (flags %d).", key.KeyTag(), ds.KeyTag, key.Flags), []string{keyEv}}}, true
	}
	if key.Flags&dns.SEP == 0 {
		probs = append(probs, dsProblem{"DS02_DNSKEY_NOT_SEP", fmt.Sprintf("DNSKEY %d, which DS %d names, lacks the SEP flag (flags %d).", key.KeyTag(), ds.KeyTag, key.Flags), []string{keyEv}})
	}
	var tried []string
	for _, sig := range ks.sigs {
		if sig.KeyTag != key.KeyTag() || sig.Algorithm != key.Algorithm {
			continue
		}
		err := verify(sig, key, ks.set, a.d.Zone, a.opt.Now)
		if err == nil {
			return probs, true
		}
		tried = append(tried, sigText(sig)+": "+err.Error())
	}
	msg := fmt.Sprintf("DNSKEY %d, which DS %d names, does not sign the DNSKEY RRset %s serves.", key.KeyTag(), ds.KeyTag, srv)
	if len(tried) > 0 {
		msg = fmt.Sprintf("No signature by DNSKEY %d, which DS %d names, over the DNSKEY RRset %s serves is valid now.", key.KeyTag(), ds.KeyTag, srv)
	}
	return append(probs, dsProblem{"DS02_RRSIG_NOT_VALID_BY_DNSKEY", msg, append([]string{keyEv}, tried...)}), true
}

func (a *analysis) dnssec02() {
	sets, _ := a.keySets()
	if len(a.d.DS) == 0 || len(sets) == 0 {
		return // DNSSEC07 reports a missing DS or DNSKEY
	}
	type verdict struct {
		ds     steward.DS
		probs  []dsProblem
		judged bool
	}
	var vs []verdict
	anyGood := false
	for _, ds := range a.d.DS {
		v := verdict{ds: ds, judged: true}
		for _, ks := range sets {
			p, judged := a.checkDS(ds, ks)
			v.judged = v.judged && judged
			v.probs = append(v.probs, p...)
		}
		fatal := false
		for _, p := range v.probs {
			if p.tag != "DS02_DNSKEY_NOT_SEP" {
				fatal = true
			}
		}
		if v.judged && !fatal {
			anyGood = true
		}
		vs = append(vs, v)
	}
	for _, v := range vs {
		ev := []string{dsText(v.ds)}
		for _, ks := range sets {
			ev = append(ev, ks.e.String())
		}
		if !v.judged {
			a.add("DNSSEC02", "DS02_ALGO_NOT_SUPPORTED", NOTICE, fmt.Sprintf("DS %d uses a digest type the checker cannot compute.", v.ds.KeyTag), ev...)
			continue
		}
		if len(v.probs) == 0 {
			a.add("DNSSEC02", "DS02_DNSKEY_MATCHES_DS", OK,
				fmt.Sprintf("DS %d matches a zone key with the SEP flag that signs the DNSKEY RRset on every server.", v.ds.KeyTag), ev...)
			continue
		}
		for _, p := range v.probs {
			l := ERROR
			if anyGood {
				l = WARNING
			}
			if p.tag == "DS02_DNSKEY_NOT_SEP" {
				l = WARNING
			}
			a.add("DNSSEC02", p.tag, l, p.msg, append(append([]string{}, p.ev...), ev...)...)
		}
	}
}

func algorithmLevel(alg uint8) (Level, string) {
	switch alg {
	case dns.RSASHA256, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.ED448:
		return OK, "recommended"
	case dns.RSASHA512:
		return NOTICE, "not recommended for new keys (RFC 8624)"
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1:
		return WARNING, "not recommended for signing (RFC 8624)"
	case dns.RSAMD5, dns.DSA, dns.DSANSEC3SHA1, dns.ECCGOST:
		return ERROR, "must not be used (RFC 8624)"
	case 17, 23:
		return NOTICE, "not supported by the checker"
	default:
		return ERROR, "not an algorithm for zone signing"
	}
}

func (a *analysis) dnssec05() {
	sets, _ := a.keySets()
	seen := map[uint16]bool{}
	for _, ks := range sets {
		for _, k := range ks.keys {
			if seen[k.KeyTag()] {
				continue
			}
			seen[k.KeyTag()] = true
			l, why := algorithmLevel(k.Algorithm)
			name := dns.AlgorithmToString[k.Algorithm]
			if name == "" {
				name = fmt.Sprint(k.Algorithm)
			}
			tag := "ALGORITHM_OK"
			switch l {
			case NOTICE:
				tag = "ALGORITHM_NOT_RECOMMENDED"
			case WARNING:
				tag = "ALGORITHM_DEPRECATED"
			case ERROR:
				tag = "ALGORITHM_NOT_ZONE_SIGN"
			}
			a.add("DNSSEC05", tag, l, fmt.Sprintf("DNSKEY %d uses algorithm %d (%s), %s.", k.KeyTag(), k.Algorithm, name, why),
				fmt.Sprintf("DNSKEY %d flags %d algorithm %d", k.KeyTag(), k.Flags, k.Algorithm), ks.e.String())
		}
	}
}

func (a *analysis) dnssec07() {
	sets, answered := a.keySets()
	if !answered {
		return
	}
	var ev []string
	for _, ds := range a.d.DS {
		ev = append(ev, dsText(ds))
	}
	for _, i := range a.queried() {
		if e := a.obs.get(i, "udp", a.d.Zone, dns.TypeDNSKEY); e.authoritative() {
			ev = append(ev, e.String())
		}
	}
	switch {
	case len(a.d.DS) > 0 && len(sets) > 0:
		a.add("DNSSEC07", "DNSKEY_AND_DS", OK, "The delegation has a DS set and the child a DNSKEY set.", ev...)
	case len(a.d.DS) > 0:
		a.add("DNSSEC07", "DS_BUT_NOT_DNSKEY", ERROR, "The delegation has a DS set but the child serves no DNSKEY: validating resolvers will fail.", ev...)
	case len(sets) > 0:
		a.add("DNSSEC07", "DNSKEY_BUT_NOT_DS", NOTICE, "The child is signed but the delegation has no DS: the zone is not secured by the chain of trust.", ev...)
	default:
		a.add("DNSSEC07", "NEITHER_DNSKEY_NOR_DS", INFO, "The zone is not signed.", ev...)
	}
}

// sigTags are the tags one signature-checking case reports.
type sigTags struct{ missing, noKey, expired, notYet, invalid, ok string }

// judgeSigned reports on the signatures over one RRset one server serves:
// an ERROR when none is by a key of the DNSKEY RRset, verifies and is
// valid now; a WARNING when some are and others not; OK otherwise.
func (a *analysis) judgeSigned(caseID, what string, srv server, keys []*dns.DNSKEY, set []dns.RR, sigs []*dns.RRSIG, e *exchange, tags sigTags) {
	if len(sigs) == 0 {
		a.add(caseID, tags.missing, ERROR, fmt.Sprintf("%s serves the %s RRset without a signature.", srv, what), e.String())
		return
	}
	var good, bad []string
	tag := ""
	for _, sig := range sigs {
		text := fmt.Sprintf("RRSIG %s by key %d algorithm %d, valid %s to %s", what, sig.KeyTag, sig.Algorithm,
			dns.TimeToString(sig.Inception), dns.TimeToString(sig.Expiration))
		var key *dns.DNSKEY
		for _, k := range keys {
			if k.KeyTag() == sig.KeyTag && k.Algorithm == sig.Algorithm {
				key = k
			}
		}
		if key == nil {
			bad = append(bad, text+": no such key in the DNSKEY RRset")
			tag = firstNonEmpty(tag, tags.noKey)
			continue
		}
		err := verify(sig, key, set, a.d.Zone, a.opt.Now)
		switch {
		case err == nil:
			good = append(good, text+": valid")
		case errors.Is(err, errExpired):
			bad = append(bad, text+": expired")
			tag = firstNonEmpty(tag, tags.expired)
		case errors.Is(err, errNotYetValid):
			bad = append(bad, text+": not yet valid")
			tag = firstNonEmpty(tag, tags.notYet)
		default:
			bad = append(bad, text+": "+err.Error())
			tag = firstNonEmpty(tag, tags.invalid)
		}
	}
	ev := append(append(append([]string{}, good...), bad...), e.String())
	switch {
	case len(good) == 0:
		a.add(caseID, tag, ERROR, fmt.Sprintf("No signature over the %s RRset %s serves is valid now.", what, srv), ev...)
	case len(bad) > 0:
		a.add(caseID, tag, WARNING, fmt.Sprintf("Some signatures over the %s RRset %s serves are not valid now; others are.", what, srv), ev...)
	default:
		a.add(caseID, tags.ok, OK, fmt.Sprintf("The %s RRset %s serves is validly signed.", what, srv), ev...)
	}
}

func (a *analysis) dnssec08() {
	sets, _ := a.keySets()
	for _, ks := range sets {
		a.judgeSigned("DNSSEC08", "DNSKEY", a.obs.servers[ks.srv], ks.keys, ks.set, ks.sigs, ks.e, sigTags{
			"DS08_MISSING_RRSIG_IN_RESPONSE", "DS08_NO_MATCHING_DNSKEY", "DS08_DNSKEY_RRSIG_EXPIRED",
			"DS08_DNSKEY_RRSIG_NOT_YET_VALID", "DS08_RRSIG_NOT_VALID_BY_DNSKEY", "DS08_RRSIG_IS_VALID"})
	}
}

// dnssec09 checks, on every server that serves a DNSKEY RRset, that the
// SOA RRset it serves is signed by one of those keys with a signature that
// verifies and is valid now.
func (a *analysis) dnssec09() {
	sets, _ := a.keySets()
	for _, ks := range sets {
		_, e := a.soa(ks.srv)
		if e == nil {
			continue // DELEGATION06's or CONNECTIVITY's finding
		}
		var set []dns.RR
		var sigs []*dns.RRSIG
		for _, rr := range e.msg.Answer {
			if rr == nil || !strings.EqualFold(rr.Header().Name, a.d.Zone) {
				continue
			}
			switch r := rr.(type) {
			case *dns.SOA:
				set = append(set, r)
			case *dns.RRSIG:
				if r.TypeCovered == dns.TypeSOA {
					sigs = append(sigs, r)
				}
			}
		}
		a.judgeSigned("DNSSEC09", "SOA", a.obs.servers[ks.srv], ks.keys, set, sigs, e, sigTags{
			"DS09_MISSING_RRSIG_IN_RESPONSE", "DS09_NO_MATCHING_DNSKEY", "DS09_SOA_RRSIG_EXPIRED",
			"DS09_SOA_RRSIG_NOT_YET_VALID", "DS09_RRSIG_NOT_VALID_BY_DNSKEY", "DS09_SOA_RRSIG_VALID"})
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
