CREATE TABLE ledger_entries (
	seq  BIGINT PRIMARY KEY,
	data BYTEA NOT NULL
);
CREATE TABLE ledger_hashes (
	idx  BIGINT PRIMARY KEY,
	hash BYTEA NOT NULL
);
CREATE TABLE ledger_head (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	size   BIGINT NOT NULL,
	digest BYTEA NOT NULL
);
CREATE TABLE checkpoints (
	size    BIGINT PRIMARY KEY,
	note    BYTEA NOT NULL,
	created BIGINT NOT NULL
);
CREATE TABLE state (
	k TEXT COLLATE "C" PRIMARY KEY,
	v BYTEA NOT NULL
);
CREATE TABLE secrets (
	k TEXT COLLATE "C" PRIMARY KEY,
	v BYTEA NOT NULL
);
CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,
	participant TEXT NOT NULL,
	created     BIGINT NOT NULL,
	expires     BIGINT NOT NULL
);
CREATE TABLE leases (
	name    TEXT PRIMARY KEY,
	holder  TEXT NOT NULL,
	expires BIGINT NOT NULL
);
