package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func (m *Main) logCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "key" {
		return usagef("log: give key")
	}
	fs := m.flags("log key", "[--data DIR]")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("log key takes no arguments")
	}
	vkey, err := readVKey(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, vkey)
	return nil
}

// readVKey reads an instance's verifier key from its signing key.
func readVKey(dir string) (string, error) {
	if !isInstance(dir) {
		return "", fmt.Errorf("%s is not a steward instance (no %s)", dir, configFile)
	}
	skey, err := os.ReadFile(filepath.Join(dir, logKeyFile))
	if err != nil {
		return "", fmt.Errorf("read the log key: %w", err)
	}
	return vkeyOf(strings.TrimSpace(string(skey)))
}
