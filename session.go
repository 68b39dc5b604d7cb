package steward

import "time"

// Session is a browser session: private, operational data that is not part
// of the ledger. Only the SHA-256 of the cookie value is stored, so a copy
// of the database does not let anyone log in.
type Session struct {
	ID          string // hex SHA-256 of the cookie value
	Participant string
	Created     time.Time
	Expires     time.Time
}
