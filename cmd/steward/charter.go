package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"steward/charter"
)

func (m *Main) charterCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("charter: give check, presets or show")
	}
	switch args[0] {
	case "check":
		return m.charterCheck(args[1:])
	case "presets":
		for _, n := range charter.PresetNames() {
			c, err := charter.ParsePreset(n)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "%-14s %s\n", n, c.Name)
		}
		return nil
	case "show":
		if len(args) != 2 {
			return usagef("charter show PRESET")
		}
		b, err := charter.Preset(args[1])
		if err != nil {
			return usagef("%v", err)
		}
		_, err = m.Stdout.Write(b)
		return err
	default:
		return usagef("charter: unknown subcommand %q", args[0])
	}
}

// checkReport is one file's result in charter check --json.
type checkReport struct {
	File   string           `json:"file"`
	Valid  bool             `json:"valid"`
	Name   string           `json:"name,omitempty"`
	Hash   string           `json:"hash,omitempty"`
	Errors []*charter.Error `json:"errors"`
}

func (m *Main) charterCheck(args []string) error {
	fs := m.flags("charter check", "[--json] FILE...")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("charter check: give at least one file")
	}
	var reports []checkReport
	bad := 0
	for _, f := range files {
		r := checkReport{File: f, Errors: []*charter.Error{}}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		c, err := charter.Parse(f, b)
		var list charter.ErrorList
		var one *charter.Error
		switch {
		case err == nil:
			r.Valid, r.Name, r.Hash = true, c.Name, c.Hash
		case errors.As(err, &list):
			r.Errors = list
		case errors.As(err, &one):
			r.Errors = []*charter.Error{one}
		default:
			return err
		}
		if !r.Valid {
			bad++
		}
		reports = append(reports, r)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			if r.Valid {
				fmt.Fprintf(m.Stdout, "%s: valid charter %q (sha256 %s)\n", r.File, r.Name, r.Hash)
				continue
			}
			for _, e := range r.Errors {
				fmt.Fprintln(m.Stdout, e.Error())
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d charter files are not valid", bad, len(files))
	}
	return nil
}
