package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"steward"
)

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess steward.Session) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (id, participant, created, expires) VALUES ($1, $2, $3, $4)`,
		sess.ID, sess.Participant, sess.Created.UnixMilli(), sess.Expires.UnixMilli())
	return err
}

// Session returns a session that has not expired at now, or ENOTFOUND.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (*steward.Session, error) {
	sess := steward.Session{ID: id}
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT participant, created, expires FROM sessions WHERE id = $1`, id).Scan(&sess.Participant, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, steward.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sess.Created, sess.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	if !now.Before(sess.Expires) {
		return nil, steward.ErrNotFound
	}
	return &sess, nil
}

// DeleteSession ends a session; expired sessions are deleted too.
func (s *Store) DeleteSession(ctx context.Context, id string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 OR expires < $2`, id, now.UnixMilli())
	return err
}
