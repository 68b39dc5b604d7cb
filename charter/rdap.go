package charter

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

// Personal data fields of a natural person that RDAP may publish. Anything
// the charter does not list is redacted under RFC 9537.
const (
	PersonalName    = "name"    // the person's full name (jCard fn)
	PersonalEmail   = "email"   // e-mail addresses
	PersonalPhone   = "phone"   // telephone and fax numbers
	PersonalAddress = "address" // postal addresses
)

// PersonalFields lists the personal data fields a charter may publish.
var PersonalFields = []string{PersonalName, PersonalEmail, PersonalPhone, PersonalAddress}

// RDAP says what steward's RDAP service publishes of the people in the
// registry. Its zero value publishes no personal data: every person's name,
// e-mail, phone and address is redacted (RFC 9537), and only organisations'
// data is shown in full.
type RDAP struct {
	// Publish lists the personal data fields (of PersonalFields) that RDAP
	// shows unredacted.
	Publish []string
}

// Publishes reports whether RDAP shows the personal data field unredacted.
func (r RDAP) Publishes(field string) bool { return slices.Contains(r.Publish, field) }

// rdap parses the optional top-level rdap field:
//
//	rdap:
//	  publish: [name]
func (p *parser) rdap(c *Charter, n *yaml.Node) {
	o := p.object(n, "rdap", "publish")
	v := o.get("publish")
	if v == nil {
		return
	}
	path := o.at("publish")
	for i, it := range p.list(v, path) {
		f, ok := p.enum(it, index(path, i), "personal data field", PersonalFields)
		if !ok {
			continue
		}
		if slices.Contains(c.RDAP.Publish, f) {
			p.errf(it, index(path, i), "%q is listed twice", f)
			continue
		}
		c.RDAP.Publish = append(c.RDAP.Publish, f)
	}
}
