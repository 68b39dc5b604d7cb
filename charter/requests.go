package charter

import (
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Confirmation says which of a resource's contacts must confirm a change
// request before review.
type Confirmation string

// Confirmation rules.
const (
	ConfirmAll  Confirmation = "all-contacts" // every contact of the resource (the default)
	ConfirmAny  Confirmation = "any-contact"  // one contact suffices
	ConfirmNone Confirmation = "none"         // no confirmation stage
)

var confirmations = []string{string(ConfirmAll), string(ConfirmAny), string(ConfirmNone)}

// Requests holds the rules of change requests that are not about which
// bodies decide: how contacts confirm, how long a request may wait, and
// what the registry accepts.
type Requests struct {
	Confirmation Confirmation
	// ConfirmationWindow is how long contacts have to confirm before the
	// request expires.
	ConfirmationWindow Duration
	// HoldWindow is how long a request may wait on failed blocking checks
	// (for its requester to fix them, or an operator to override them with
	// a recorded justification) before it expires.
	HoldWindow Duration
	// DSAlgorithms are the DNSSEC algorithm numbers a DS record may name.
	DSAlgorithms []int
	// AllowLoopback and AllowPrivate let name servers have loopback or
	// private addresses, for lab and teaching instances.
	AllowLoopback, AllowPrivate bool
}

// DefaultRequests are the request rules of a charter without a requests
// section: every contact confirms within 14 days, failed checks may wait
// 30 days, and DS records may name the algorithms RFC 8624 recommends for
// signing or validation (RSA/SHA-256 and SHA-512, ECDSA P-256 and P-384,
// Ed25519 and Ed448).
func DefaultRequests() Requests {
	return Requests{
		Confirmation:       ConfirmAll,
		ConfirmationWindow: Duration(14 * 24 * time.Hour),
		HoldWindow:         Duration(30 * 24 * time.Hour),
		DSAlgorithms:       []int{8, 10, 13, 14, 15, 16},
	}
}

// AllowsDSAlgorithm reports whether a DS record may name algorithm alg.
func (r Requests) AllowsDSAlgorithm(alg int) bool { return slices.Contains(r.DSAlgorithms, alg) }

func (p *parser) requests(c *Charter, n *yaml.Node) {
	o := p.object(n, "requests", "confirmation", "confirmation_window", "hold_window", "ds_algorithms", "allow_loopback", "allow_private")
	if o.bad {
		return
	}
	r := &c.Requests
	if v := o.get("confirmation"); v != nil {
		if s, ok := p.enum(v, o.at("confirmation"), "confirmation rule", confirmations); ok {
			r.Confirmation = Confirmation(s)
		}
	}
	for _, f := range []struct {
		key string
		dst *Duration
	}{{"confirmation_window", &r.ConfirmationWindow}, {"hold_window", &r.HoldWindow}} {
		v := o.get(f.key)
		if v == nil {
			continue
		}
		if d, ok := p.duration(v, o.at(f.key)); ok {
			if d <= 0 {
				p.errf(v, o.at(f.key), "must be longer than zero")
				continue
			}
			*f.dst = d
		}
	}
	if v := o.get("ds_algorithms"); v != nil {
		var algs []int
		for i, it := range p.nonEmptyList(v, o.at("ds_algorithms"), "DNSSEC algorithm numbers") {
			a, ok := p.integer(it, index(o.at("ds_algorithms"), i), 1, 255)
			if !ok {
				continue
			}
			if slices.Contains(algs, a) {
				p.errf(it, index(o.at("ds_algorithms"), i), "algorithm %d is listed twice", a)
				continue
			}
			algs = append(algs, a)
		}
		r.DSAlgorithms = algs
	}
	if v := o.get("allow_loopback"); v != nil {
		r.AllowLoopback, _ = p.boolean(v, o.at("allow_loopback"))
	}
	if v := o.get("allow_private"); v != nil {
		r.AllowPrivate, _ = p.boolean(v, o.at("allow_private"))
	}
}
