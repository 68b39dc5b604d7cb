package steward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sync"
	"time"

	"steward/charter"
)

// Actors that are not participants. Their names contain a colon, which a
// participant handle cannot.
const (
	ActorInit   = "system:init"   // steward init and the demo set-up
	ActorImport = "system:import" // bulk imports of existing registries
)

// Instance describes one governed Internet. Its record is the first entry of
// every ledger.
type Instance struct {
	Origin  string    `json:"origin"` // the log's origin line and key name, e.g. "steward.example/demo"
	Name    string    `json:"name"`
	Preset  string    `json:"preset,omitempty"`
	Created time.Time `json:"created"`
}

var originRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*(/[A-Za-z0-9._-]+)*$`)

// Validate checks the instance's fields.
func (in *Instance) Validate() error {
	if !originRE.MatchString(in.Origin) || len(in.Origin) > 128 {
		return Errorf(EINVALID, "origin %q: want a schema-less URL such as steward.example/demo", in.Origin)
	}
	if in.Name == "" || len(in.Name) > 200 {
		return Errorf(EINVALID, "instance name must be 1 to 200 characters")
	}
	return nil
}

// CharterRecord is the state's record of a charter version.
type CharterRecord struct {
	Version int       `json:"version"`
	Hash    string    `json:"hash"` // hex SHA-256 of Text
	Name    string    `json:"name"`
	Text    string    `json:"text"`
	Adopted time.Time `json:"adopted"`
	Event   int64     `json:"event"` // the ledger entry that adopted it
}

type instanceCreated struct {
	Instance
}

type charterAdopted struct {
	Version int    `json:"version"`
	Hash    string `json:"hash"`
	Name    string `json:"name"`
	Text    string `json:"text"`
}

const (
	keyInstance       = "instance"
	keyCharterCurrent = "charter/current"
)

func charterKey(version int) string { return fmt.Sprintf("charter/v/%06d", version) }

func init() {
	register("instance.created", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *instanceCreated) error {
		if e.Seq != 0 {
			return fmt.Errorf("an instance is created only by the first entry")
		}
		return PutJSON(ctx, w, keyInstance, p.Instance)
	}))
	register("charter.adopted", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *charterAdopted) error {
		sum := sha256.Sum256([]byte(p.Text))
		if hex.EncodeToString(sum[:]) != p.Hash {
			return fmt.Errorf("charter hash does not match its text")
		}
		rec := CharterRecord{Version: p.Version, Hash: p.Hash, Name: p.Name, Text: p.Text, Adopted: e.Time, Event: e.Seq}
		if err := mustNotExist(ctx, w, charterKey(p.Version)); err != nil {
			return err
		}
		if err := PutJSON(ctx, w, charterKey(p.Version), rec); err != nil {
			return err
		}
		rec.Text = "" // the current pointer does not repeat the text
		return PutJSON(ctx, w, keyCharterCurrent, rec)
	}))
}

// CreateInstance returns the command that starts a ledger: the instance
// record and its first charter, adopted by the init actor.
func CreateInstance(in Instance, charterText []byte) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		in.Created = tx.Now()
		if err := in.Validate(); err != nil {
			return nil, err
		}
		c, err := charter.Parse("charter", charterText)
		if err != nil {
			return nil, Errorf(EINVALID, "charter: %v", err)
		}
		if err := mustNotExist(ctx, tx, keyInstance); err != nil {
			return nil, Errorf(ECONFLICT, "the instance exists already")
		}
		if _, err := tx.Emit(ctx, ActorInit, "instance.created", instanceCreated{in}); err != nil {
			return nil, err
		}
		return tx.Emit(ctx, ActorInit, "charter.adopted", charterAdopted{Version: 1, Hash: c.Hash, Name: c.Name, Text: string(charterText)})
	}
}

// LoadInstance reads the instance record.
func LoadInstance(ctx context.Context, r StateReader) (*Instance, error) {
	var in Instance
	if err := GetJSON(ctx, r, keyInstance, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// CurrentCharterRecord reads the record of the charter in force, without its text.
func CurrentCharterRecord(ctx context.Context, r StateReader) (*CharterRecord, error) {
	var rec CharterRecord
	if err := GetJSON(ctx, r, keyCharterCurrent, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// CharterVersion reads one version of the charter, with its text.
func CharterVersion(ctx context.Context, r StateReader, version int) (*CharterRecord, error) {
	var rec CharterRecord
	if err := GetJSON(ctx, r, charterKey(version), &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

var charterCache sync.Map // hash -> *charter.Charter

// CurrentCharter returns the parsed charter in force. Parsed charters are
// cached by hash; callers must not modify the result.
func CurrentCharter(ctx context.Context, r StateReader) (*charter.Charter, error) {
	cur, err := CurrentCharterRecord(ctx, r)
	if err != nil {
		return nil, err
	}
	if c, ok := charterCache.Load(cur.Hash); ok {
		return c.(*charter.Charter), nil
	}
	rec, err := CharterVersion(ctx, r, cur.Version)
	if err != nil {
		return nil, err
	}
	c, err := charter.Parse(fmt.Sprintf("charter v%d", rec.Version), []byte(rec.Text))
	if err != nil {
		return nil, fmt.Errorf("charter in force does not parse: %w", err)
	}
	charterCache.Store(cur.Hash, c)
	return c, nil
}
