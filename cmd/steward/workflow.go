package main

import (
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"steward/workflow"
)

type workflowFlags struct {
	smtp, from, user, publicURL, httpAddr string
	checkPort                             uint16
}

// newWorkflow makes the runner of the change requests' own steps: the
// clock, the technical checks, e-mail, and publication of what was
// implemented. serve starts it once the web server listens.
func (m *Main) newWorkflow(in *instance, log *slog.Logger, pub *publishing, f workflowFlags) (*workflow.Runner, error) {
	base := f.publicURL
	if base == "" {
		base = "http://" + f.httpAddr
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--public-url: want an http or https URL, not %q", base)
	}
	var mailer *workflow.Mailer
	if f.smtp != "" {
		from := f.from
		if from == "" {
			u, _ := url.Parse(base)
			host := u.Hostname()
			if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
				host = "steward.localhost"
			}
			from = "steward@" + host
		}
		var err error
		if mailer, err = workflow.NewMailer(f.smtp, from, f.user, os.Getenv("STEWARD_SMTP_PASSWORD")); err != nil {
			return nil, usagef("--smtp: %v", err)
		}
	}
	cfg := workflow.Config{Store: in.store, Clock: m.Clock, Logger: log, Mail: mailer, BaseURL: base, Check: checker(f.checkPort, m.Clock)}
	if pub != nil && pub.p != nil {
		cfg.Changed = pub.p.Kick
	}
	return workflow.New(cfg), nil
}
