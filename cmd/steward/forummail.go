package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"steward/forummail"
)

// startForumMail starts the forum's e-mail (mentions at once, daily
// digests of subscriptions) through the SMTP server of --smtp, if any. It
// keeps its place in DATA/forummail.json across restarts.
func (m *Main) startForumMail(ctx context.Context, in *instance, log *slog.Logger, f workflowFlags) error {
	if f.smtp == "" {
		return nil
	}
	base, mailer, err := mailSetup(f)
	if err != nil {
		return err
	}
	n := forummail.New(forummail.Config{Source: in.store, Mail: mailer, BaseURL: base, Clock: m.Clock, Logger: log.With("component", "forum-mail"),
		StateFile: filepath.Join(in.dir, "forummail.json")})
	go n.Run(ctx)
	return nil
}
