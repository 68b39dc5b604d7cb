package audit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"steward/ledger"
)

// HTTPSource reads a log served in the C2SP tlog-tiles layout by a running
// instance: BaseURL/log/key, /log/checkpoint and /log/tile/….
type HTTPSource struct {
	BaseURL string
	Client  *http.Client
}

// Name implements Source.
func (s *HTTPSource) Name() string { return s.BaseURL }

func (s *HTTPSource) get(ctx context.Context, path string, limit int64) ([]byte, error) {
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	u := strings.TrimSuffix(s.BaseURL, "/") + "/log/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: more than %d bytes", u, limit)
	}
	return b, nil
}

// Key implements Source.
func (s *HTTPSource) Key(ctx context.Context) (string, error) {
	b, err := s.get(ctx, "key", 1<<10)
	return strings.TrimSpace(string(b)), err
}

// Checkpoint implements Source.
func (s *HTTPSource) Checkpoint(ctx context.Context) ([]byte, error) {
	return s.get(ctx, "checkpoint", 1<<16)
}

// Tile implements Source.
func (s *HTTPSource) Tile(ctx context.Context, t tlog.Tile) ([]byte, error) {
	return s.get(ctx, strings.TrimPrefix(ledger.TilePath(t), ""), 1<<25)
}
