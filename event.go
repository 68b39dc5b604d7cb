package steward

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxEventSize is the largest encoded event, in bytes. The C2SP tlog-tiles
// entry bundles prefix each entry with a 16-bit length.
const MaxEventSize = 65535

// Event is one entry of the ledger: who did what, when.
//
// # Encoding
//
// An event is stored and published as canonical JSON: one object with the
// members seq, time, actor, kind and payload, in that order, no whitespace
// between tokens, strings escaped as Go's encoding/json escapes them, and the
// payload's object members sorted by key at every depth. time is RFC 3339 in
// UTC with nanoseconds and no trailing zeros. seq is the entry's index in the
// log, counting from 0. [DecodeEvent] refuses any other encoding of the same
// event, so every event has exactly one encoding and the Merkle tree commits
// to it.
type Event struct {
	Seq     int64
	Time    time.Time
	Actor   string
	Kind    string
	Payload json.RawMessage // canonical JSON object
}

type eventJSON struct {
	Seq     int64           `json:"seq"`
	Time    string          `json:"time"`
	Actor   string          `json:"actor"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// NewEvent builds an event, encoding payload canonically.
func NewEvent(seq int64, t time.Time, actor, kind string, payload any) (*Event, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", kind, err)
	}
	canon, err := CanonicalJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", kind, err)
	}
	if len(canon) == 0 || canon[0] != '{' {
		return nil, fmt.Errorf("encode %s payload: not a JSON object", kind)
	}
	return &Event{Seq: seq, Time: t.UTC(), Actor: actor, Kind: kind, Payload: canon}, nil
}

// Encode returns the canonical encoding of e.
func (e *Event) Encode() ([]byte, error) {
	b, err := json.Marshal(eventJSON{
		Seq:     e.Seq,
		Time:    e.Time.UTC().Format(time.RFC3339Nano),
		Actor:   e.Actor,
		Kind:    e.Kind,
		Payload: e.Payload,
	})
	if err != nil {
		return nil, err
	}
	if len(b) > MaxEventSize {
		return nil, Errorf(ETOOLARGE, "event %s is %d bytes, more than the %d a ledger entry may hold", e.Kind, len(b), MaxEventSize)
	}
	return b, nil
}

// DecodeEvent parses an entry of the ledger, refusing anything that is not
// the canonical encoding of an event.
func DecodeEvent(data []byte) (*Event, error) {
	if len(data) > MaxEventSize {
		return nil, fmt.Errorf("entry is %d bytes, more than %d", len(data), MaxEventSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("entry is not UTF-8")
	}
	var j eventJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("entry is not an event: %v", err)
	}
	t, err := time.Parse(time.RFC3339Nano, j.Time)
	if err != nil {
		return nil, fmt.Errorf("entry has a bad time %q", j.Time)
	}
	if j.Kind == "" || j.Actor == "" {
		return nil, fmt.Errorf("entry lacks a kind or an actor")
	}
	payload, err := CanonicalJSON(j.Payload)
	if err != nil || len(payload) == 0 || payload[0] != '{' {
		return nil, fmt.Errorf("entry's payload is not a JSON object")
	}
	e := &Event{Seq: j.Seq, Time: t.UTC(), Actor: j.Actor, Kind: j.Kind, Payload: payload}
	again, err := e.Encode()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, data) {
		return nil, fmt.Errorf("entry %d is not canonically encoded", j.Seq)
	}
	return e, nil
}

// DecodePayload decodes the event's payload into v, refusing unknown fields.
func (e *Event) DecodePayload(v any) error {
	dec := json.NewDecoder(bytes.NewReader(e.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("event %d (%s): bad payload: %v", e.Seq, e.Kind, err)
	}
	return nil
}

// CanonicalJSON re-encodes a JSON value with object members sorted by key
// and no insignificant whitespace. Numbers keep their text.
func CanonicalJSON(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	for _, c := range data[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, fmt.Errorf("trailing data after JSON value")
		}
	}
	if err := checkNumbers(v); err != nil {
		return nil, err
	}
	return json.Marshal(v) // maps are marshalled with sorted keys
}

// checkNumbers refuses numbers that do not survive a round trip unchanged,
// so that canonical encodings are unique (1.0 and 1 would otherwise differ).
func checkNumbers(v any) error {
	switch v := v.(type) {
	case json.Number:
		if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
			return fmt.Errorf("number %s is not an integer: payloads carry integers only", v)
		}
		if n, _ := strconv.ParseInt(string(v), 10, 64); strconv.FormatInt(n, 10) != string(v) {
			return fmt.Errorf("number %s is not in canonical form", v)
		}
	case []any:
		for _, x := range v {
			if err := checkNumbers(x); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, x := range v {
			if err := checkNumbers(x); err != nil {
				return err
			}
		}
	}
	return nil
}
