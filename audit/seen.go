package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"
)

// Seen is the auditor's memory: for each log origin, its key and the last
// checkpoint verified. It is kept in a small JSON file so that the next
// audit can prove the log only grew.
type Seen struct {
	Logs map[string]*SeenLog `json:"logs"`
}

// SeenLog is what the auditor remembers of one log.
type SeenLog struct {
	Key  string    `json:"key"`
	Size int64     `json:"size"`
	Root tlog.Hash `json:"root"`
}

// LoadSeen reads a state file; a missing file is an empty memory.
func LoadSeen(path string) (*Seen, error) {
	s := &Seen{Logs: map[string]*SeenLog{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("audit state file %s: %w", path, err)
	}
	if s.Logs == nil {
		s.Logs = map[string]*SeenLog{}
	}
	return s, nil
}

// Save writes the state file atomically.
func (s *Seen) Save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
