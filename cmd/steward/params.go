package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"steward"
	"steward/params"
)

// paramsCmd runs the protocol parameter registry commands:
//
//	steward params import [--data DIR] [--json] FILE   (IANA registry XML)
//	steward params export [--data DIR] [--format xml|csv] ID
//	steward params list [--data DIR] [--json]
func (m *Main) paramsCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("params: give import, export or list")
	}
	switch args[0] {
	case "import":
		return m.paramsImport(ctx, args[1:])
	case "export":
		return m.paramsExport(ctx, args[1:])
	case "list":
		return m.paramsList(ctx, args[1:])
	}
	return usagef("params: give import, export or list, not %q", args[0])
}

func (m *Main) paramsImport(ctx context.Context, args []string) error {
	fs := m.flags("params import", "[--data DIR] [--json] FILE")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	asJSON := fs.Bool("json", false, "print what was imported as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("params import takes one IANA registry XML file")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	regs, err := params.Parse(pos[0], f)
	if err != nil {
		var pe *params.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("%w (nothing imported)", err)
		}
		return err
	}
	in, err := openInstance(ctx, *dir, openOptions{clock: m.Clock, checkpointInterval: -1})
	if err != nil {
		return err
	}
	defer in.Close()
	type result struct {
		Registry string `json:"registry"`
		Title    string `json:"title"`
		Values   int    `json:"values"`
	}
	var out []result
	_, err = in.store.Do(ctx, func(ctx context.Context, tx steward.Tx) (any, error) {
		out = out[:0]
		for _, r := range regs {
			if _, err := steward.CreateParamRegistry(steward.ActorImport, r.Registry)(ctx, tx); err != nil {
				return nil, err
			}
			if len(r.Values) > 0 {
				if _, err := steward.RecordParamValues(steward.ActorImport, r.Registry.ID, r.Values)(ctx, tx); err != nil {
					return nil, err
				}
			}
			out = append(out, result{r.Registry.ID, r.Registry.Title, len(r.Values)})
		}
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("import %s: %w (nothing imported)", pos[0], err)
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(out)
	}
	for _, r := range out {
		fmt.Fprintf(m.Stdout, "%s: %s, %d values\n", r.Registry, r.Title, r.Values)
	}
	return nil
}

func (m *Main) paramsExport(ctx context.Context, args []string) error {
	fs := m.flags("params export", "[--data DIR] [--format xml|csv] ID")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	format := fs.String("format", "xml", "xml (IANA's registry XML) or csv")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("params export takes one registry id")
	}
	if *format != "xml" && *format != "csv" {
		return usagef("--format: give xml or csv")
	}
	in, err := openInstance(ctx, *dir, openOptions{readOnly: true})
	if err != nil {
		return err
	}
	defer in.Close()
	reg, err := steward.LoadParamRegistry(ctx, in.store, pos[0])
	if err != nil {
		return err
	}
	vals, err := steward.ParamValues(ctx, in.store, reg.ID)
	if err != nil {
		return err
	}
	if *format == "csv" {
		return params.WriteCSV(m.Stdout, reg, vals)
	}
	return params.WriteXML(m.Stdout, reg, vals)
}

func (m *Main) paramsList(ctx context.Context, args []string) error {
	fs := m.flags("params list", "[--data DIR] [--json]")
	dir := fs.String("data", defaultDataDir(), "the instance's data directory")
	asJSON := fs.Bool("json", false, "print the registries as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("params list takes no arguments")
	}
	in, err := openInstance(ctx, *dir, openOptions{readOnly: true})
	if err != nil {
		return err
	}
	defer in.Close()
	regs, err := steward.ListParamRegistries(ctx, in.store, "", 100000)
	if err != nil {
		return err
	}
	if *asJSON {
		if regs == nil {
			regs = []steward.ParamRegistry{}
		}
		return json.NewEncoder(m.Stdout).Encode(regs)
	}
	for _, r := range regs {
		fmt.Fprintf(m.Stdout, "%s\t%s\n", r.ID, r.Title)
	}
	return nil
}
