package steward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Publication records that the root zone's content, as the registry held it
// before ledger entry Entry (the publication's own entry), was published
// under Serial. Content is the
// SHA-256 of the canonical JSON of the apex and every TLD record in name
// order, so an auditor who replays the ledger up to that entry can rebuild
// the same zone with the same serial.
type Publication struct {
	Serial  uint32    `json:"serial"`
	Content string    `json:"content"`
	Entry   int64     `json:"entry,omitzero"`
	Time    time.Time `json:"time,omitzero"`
}

const keyPublished = "zone/published"

func init() {
	register("zone.published", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *Publication) error {
		var prev Publication
		if err := GetJSON(ctx, w, keyPublished, &prev); err == nil && p.Serial <= prev.Serial {
			return Errorf(EINVALID, "serial %d does not follow %d", p.Serial, prev.Serial)
		}
		// The publication must describe the registry as it is: replaying
		// the ledger checks every published zone's content.
		content, _, _, err := zoneContent(ctx, w)
		if err != nil {
			return err
		}
		if content != p.Content {
			return Errorf(EINVALID, "published content %s is not the registry's %s", p.Content, content)
		}
		p.Entry, p.Time = e.Seq, e.Time
		return PutJSON(ctx, w, keyPublished, p)
	}))
}

// NextSerial returns the serial after prev in the YYYYMMDDNN convention:
// the first of today's date if prev is older, else prev+1.
func NextSerial(prev uint32, now time.Time) uint32 {
	y, m, d := now.UTC().Date()
	today := uint32(y*1000000 + int(m)*10000 + d*100)
	if prev < today {
		return today
	}
	return prev + 1
}

// LoadPublication reads the latest publication, or ENOTFOUND.
func LoadPublication(ctx context.Context, r StateReader) (*Publication, error) {
	var p Publication
	if err := GetJSON(ctx, r, keyPublished, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// zoneContent reads the apex and every TLD and returns them with their
// content digest: the SHA-256 of the apex's canonical JSON and each TLD
// record's, in name order, separated by newlines.
func zoneContent(ctx context.Context, r StateReader) (string, *Apex, []TLD, error) {
	apex, err := LoadApex(ctx, r)
	if err != nil {
		return "", nil, nil, err
	}
	kvs, err := ScanAll(ctx, r, "tld/")
	if err != nil {
		return "", nil, nil, err
	}
	h := sha256.New()
	ab, err := canonicalOf(apex)
	if err != nil {
		return "", nil, nil, err
	}
	h.Write(ab)
	for _, kv := range kvs {
		h.Write([]byte{'\n'})
		h.Write(kv.Value)
	}
	tlds, err := decodeAll[TLD](kvs)
	if err != nil {
		return "", nil, nil, err
	}
	return hex.EncodeToString(h.Sum(nil)), apex, tlds, nil
}

// ZoneContent is the registry's root zone content at a publication.
type ZoneContent struct {
	Publication Publication
	Apex        Apex
	TLDs        []TLD
	Changed     bool // a new serial was published by this command
}

// PublishZone returns the command that publishes the registry's root zone
// content: if it differs from the last publication, or force is set (the
// signatures or keys changed), a zone.published entry gives it the next
// serial. Either way it returns the content with its publication, read in
// the same transaction, for the zone to be built from. ENOTFOUND if there
// is no apex yet.
func PublishZone(actor string, force bool) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		content, apex, tlds, err := zoneContent(ctx, tx)
		if err != nil {
			return nil, err
		}
		zc := &ZoneContent{Apex: *apex, TLDs: tlds}
		prev, err := LoadPublication(ctx, tx)
		switch {
		case err == nil && prev.Content == content && !force:
			zc.Publication = *prev
			return zc, nil
		case err != nil && ErrorCode(err) != ENOTFOUND:
			return nil, err
		}
		var last uint32
		if prev != nil {
			last = prev.Serial
		}
		p := Publication{Serial: NextSerial(last, tx.Now()), Content: content}
		e, err := tx.Emit(ctx, actor, "zone.published", p)
		if err != nil {
			return nil, err
		}
		p.Entry, p.Time = e.Seq, e.Time
		if err := markPublished(ctx, tx, p); err != nil {
			return nil, err
		}
		zc.Publication, zc.Changed = p, true
		return zc, nil
	}
}
