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

// mailSetup returns the public URL of the web UI (--public-url, else the
// HTTP address) and the mailer of --smtp (nil without it).
func mailSetup(f workflowFlags) (string, *workflow.Mailer, error) {
	base := f.publicURL
	if base == "" {
		base = "http://" + f.httpAddr
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, usagef("--public-url: want an http or https URL, not %q", base)
	}
	if f.smtp == "" {
		return base, nil, nil
	}
	from := f.from
	if from == "" {
		host := u.Hostname()
		if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
			host = "steward.localhost"
		}
		from = "steward@" + host
	}
	mailer, err := workflow.NewMailer(f.smtp, from, f.user, os.Getenv("STEWARD_SMTP_PASSWORD"))
	if err != nil {
		return "", nil, usagef("--smtp: %v", err)
	}
	return base, mailer, nil
}

// newWorkflow makes the runner of the change requests' own steps: the
// clock, the technical checks, e-mail, and publication of what was
// implemented. serve starts it once the web server listens.
func (m *Main) newWorkflow(in *instance, log *slog.Logger, pub *publishing, f workflowFlags) (*workflow.Runner, error) {
	base, mailer, err := mailSetup(f)
	if err != nil {
		return nil, err
	}
	cfg := workflow.Config{Store: in.store, Clock: m.Clock, Logger: log, Mail: mailer, BaseURL: base, Check: checker(f.checkPort, m.Clock)}
	if pub != nil && pub.p != nil {
		cfg.Changed = pub.p.Kick
	}
	return workflow.New(cfg), nil
}
