package main

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"steward/forummail"
	"steward/workflow"
)

// startForumMail starts the forum's e-mail (mentions at once, daily
// digests of subscriptions) through the SMTP server of --smtp, if any.
func (m *Main) startForumMail(ctx context.Context, in *instance, log *slog.Logger, f workflowFlags) error {
	if f.smtp == "" {
		return nil
	}
	base := f.publicURL
	if base == "" {
		base = "http://" + f.httpAddr
	}
	from := f.from
	if from == "" {
		host := "steward.localhost"
		if u, err := url.Parse(base); err == nil && net.ParseIP(u.Hostname()) == nil && strings.Contains(u.Hostname(), ".") {
			host = u.Hostname()
		}
		from = "steward@" + host
	}
	mailer, err := workflow.NewMailer(f.smtp, from, f.user, os.Getenv("STEWARD_SMTP_PASSWORD"))
	if err != nil {
		return usagef("--smtp: %v", err)
	}
	n := forummail.New(forummail.Config{Source: in.store, Mail: mailer, BaseURL: base, Clock: m.Clock, Logger: log.With("component", "forum-mail")})
	go n.Run(ctx)
	return nil
}
