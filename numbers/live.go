package numbers

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"steward"
	"steward/ledger"
)

// Source is what a Live index reads: the state and the ledger. The SQL
// stores satisfy it.
type Source interface {
	steward.StateReader
	Head(ctx context.Context) (int64, ledger.Digest, error)
	Entries(ctx context.Context, start, end int64) ([][]byte, error)
}

// Live keeps an Index current with a store. It loads the whole registry
// once, then, when asked for the index, reads the ledger entries appended
// since and re-reads only the blocks they touched. It checks the ledger at
// most once per Interval. It is safe for concurrent use.
type Live struct {
	src Source
	// Interval is the least time between two looks at the ledger's head;
	// default 200ms. Zero or negative means every call.
	Interval time.Duration
	clock    func() time.Time

	mu      sync.Mutex
	ix      *Index
	size    int64 // ledger size ix reflects
	checked time.Time
}

// NewLive returns a Live index over src; it does no I/O until asked.
func NewLive(src Source) *Live {
	return &Live{src: src, Interval: 200 * time.Millisecond, clock: time.Now}
}

// Index returns the current index, bringing it up to date first if the
// ledger grew.
func (l *Live) Index(ctx context.Context) (*Index, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if l.ix != nil && l.Interval > 0 && now.Sub(l.checked) < l.Interval {
		return l.ix, nil
	}
	size, _, err := l.src.Head(ctx)
	if err != nil {
		return nil, err
	}
	l.checked = now
	if l.ix != nil && size == l.size {
		return l.ix, nil
	}
	if l.ix == nil || size-l.size > 20000 || size < l.size {
		ix, err := Load(ctx, l.src)
		if err != nil {
			return nil, err
		}
		l.ix, l.size = ix, size
		return ix, nil
	}
	keys, err := l.touched(ctx, l.size, size)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		ix, err := l.ix.With(keys, func(key string) (*steward.Block, error) {
			b, err := steward.LoadBlock(ctx, l.src, key)
			if steward.ErrorCode(err) == steward.ENOTFOUND {
				return nil, nil
			}
			return b, err
		})
		if err != nil {
			// The state moved on while we read: start again from it.
			if ix, err = Load(ctx, l.src); err != nil {
				return nil, err
			}
		}
		l.ix = ix
	}
	l.size = size
	return l.ix, nil
}

// Refresh forces the next Index call to look at the ledger.
func (l *Live) Refresh() {
	l.mu.Lock()
	l.checked = time.Time{}
	l.mu.Unlock()
}

// touched returns the keys of the blocks that ledger entries [from, to)
// changed.
func (l *Live) touched(ctx context.Context, from, to int64) ([]string, error) {
	seen := map[string]bool{}
	var keys []string
	addKey := func(k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for from < to {
		end := min(to, from+1000)
		entries, err := l.src.Entries(ctx, from, end)
		if err != nil {
			return nil, err
		}
		if len(entries) == 0 {
			break
		}
		for _, data := range entries {
			e, err := steward.DecodeEvent(data)
			if err != nil {
				return nil, err
			}
			for _, k := range EventKeys(e) {
				addKey(k)
			}
		}
		from += int64(len(entries))
	}
	return keys, nil
}

// EventKeys returns the state keys of the blocks a number event changes; nil
// for any other event.
func EventKeys(e *steward.Event) []string {
	var verb string
	switch {
	case strings.HasPrefix(e.Kind, "block."):
		verb = strings.TrimPrefix(e.Kind, "block.")
	case strings.HasPrefix(e.Kind, "asn."):
		verb = strings.TrimPrefix(e.Kind, "asn.")
	default:
		return nil
	}
	var keys []string
	switch verb {
	case "recorded", "updated":
		var p steward.BlocksPayload
		if json.Unmarshal(e.Payload, &p) == nil {
			for i := range p.Blocks {
				keys = append(keys, p.Blocks[i].Key())
			}
		}
	case "lines-recorded":
		var p steward.LinesPayload
		if json.Unmarshal(e.Payload, &p) == nil {
			bs, _ := p.Blocks()
			for _, b := range bs {
				keys = append(keys, b.Key())
			}
		}
	case "removed":
		var p steward.RemovedPayload
		if json.Unmarshal(e.Payload, &p) == nil {
			for _, r := range p.Blocks {
				keys = append(keys, r.Key())
			}
		}
	case "allocated":
		var p steward.AllocatedPayload
		if json.Unmarshal(e.Payload, &p) == nil {
			keys = append(keys, p.Block.Key())
			if p.From != nil {
				keys = append(keys, p.From.Key())
			}
			for i := range p.Remainder {
				keys = append(keys, p.Remainder[i].Key())
			}
		}
	case "returned":
		var p steward.ReturnedPayload
		if json.Unmarshal(e.Payload, &p) == nil {
			keys = append(keys, p.Block.Key())
		}
	}
	return keys
}
