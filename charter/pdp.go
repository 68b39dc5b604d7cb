package charter

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// PDP is the policy development process by which binding policies are
// made: a proposal is discussed, reviewed and put to a last call; the
// chair of the ConsensusBy body determines, with reasons, whether there is
// consensus; the bodies approving decisions of kind policy.ratify ratify
// it; then it is in force. Its decisions may be appealed as the appeals
// section says.
type PDP struct {
	// ConsensusBy is the body whose chair determines consensus.
	ConsensusBy string
	Discussion  Duration
	Review      Duration
	LastCall    Duration
}

// PDPFor returns the charter's process: its pdp section, or the defaults
// (30 days of discussion, 14 of review, 14 of last call; consensus
// determined by the chair of the first body that ratifies policies, else
// of the operator).
func (c *Charter) PDPFor() PDP {
	p := c.PDP
	if p.ConsensusBy == "" {
		if d, ok := c.Decision(KindPolicyRatify); ok && len(d.Approval) > 0 {
			p.ConsensusBy = d.Approval[0]
		} else {
			p.ConsensusBy = c.Roles.Operator
		}
	}
	day := Duration(24 * time.Hour)
	if p.Discussion == 0 {
		p.Discussion = 30 * day
	}
	if p.Review == 0 {
		p.Review = 14 * day
	}
	if p.LastCall == 0 {
		p.LastCall = 14 * day
	}
	return p
}

func (p *parser) pdp(c *Charter, n *yaml.Node) {
	o := p.object(n, "pdp", "consensus_by", "discussion", "review", "last_call")
	if o.bad {
		return
	}
	if v := o.get("consensus_by"); v != nil {
		if id, ok := p.ident(v, o.at("consensus_by"), "body id"); ok {
			c.PDP.ConsensusBy = id
			p.bodyRef(v, o.at("consensus_by"), id, nil)
		}
	}
	for _, f := range []struct {
		key string
		dst *Duration
	}{{"discussion", &c.PDP.Discussion}, {"review", &c.PDP.Review}, {"last_call", &c.PDP.LastCall}} {
		if v := o.get(f.key); v != nil {
			if d, ok := p.duration(v, o.at(f.key)); ok {
				if d <= 0 {
					p.errf(v, o.at(f.key), "must be longer than zero")
					continue
				}
				*f.dst = d
			}
		}
	}
}
