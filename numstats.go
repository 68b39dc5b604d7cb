package steward

import (
	"context"
	"maps"
	"slices"
	"strings"
)

// StatsHeader is what a registry's statistics file says of itself (the
// version line of the RIR statistics exchange format), kept so that the
// file can be written back.
type StatsHeader struct {
	Registry  string `json:"registry"`
	Version   string `json:"version"`    // "2" (or "2.3")
	Serial    string `json:"serial"`     // the file's serial, as written
	StartDate string `json:"start_date"` // YYYYMMDD (AFRINIC writes 00000000)
	EndDate   string `json:"end_date"`
	UTCOffset string `json:"utc_offset"` // "+0200", "+1000", "-0400"; AFRINIC writes 00000
	// Extended says the file is in the extended format: each record carries
	// an opaque holder id.
	Extended bool `json:"extended,omitempty"`
	// Order lists the families in the order the file gives them.
	Order []string `json:"order,omitempty"`
	// Headerless says the file had no version and summary lines.
	Headerless bool `json:"headerless,omitempty"`
}

func statsKey(registry string) string { return "num/stats/" + registry }

// LoadStatsHeader reads the header of the last statistics file imported for
// registry, or ENOTFOUND.
func LoadStatsHeader(ctx context.Context, r StateReader, registry string) (*StatsHeader, error) {
	var h StatsHeader
	if err := GetJSON(ctx, r, statsKey(registry), &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// StatsFile is a registry's statistics file as the registry holds it: its
// header and its records, each a block recorded by the file's registry.
type StatsFile struct {
	Header StatsHeader
	Blocks []Block
}

// ImportStats returns the command that makes the registry hold exactly the
// records of statistics files, each for its registry: records not yet held
// are recorded, those that differ updated, those no longer in the file
// removed. Importing the same files again changes nothing. The whole result
// is checked (nesting, overlaps with every other registry's blocks) before
// anything is emitted, so a bad file changes nothing. Two files of one
// registry are refused.
func ImportStats(actor string, files ...*StatsFile) Command {
	regs := map[string]bool{}
	var lists [][]Block
	dup := ""
	for _, f := range files {
		if regs[f.Header.Registry] {
			dup = f.Header.Registry
		}
		regs[f.Header.Registry] = true
		lists = append(lists, f.Blocks)
	}
	names := slices.Sorted(maps.Keys(regs))
	sync := syncBlocks(actor, "rir-stats:"+strings.Join(names, ","), func(b *Block) bool { return regs[b.Registry] }, Families, lists)
	return func(ctx context.Context, tx Tx) (any, error) {
		if dup != "" {
			return nil, Errorf(EINVALID, "two statistics files of %s: import one per registry", dup)
		}
		for _, f := range files {
			reg := f.Header.Registry
			if !registryRE.MatchString(reg) {
				return nil, Errorf(EINVALID, "statistics file: registry %q", reg)
			}
			for i := range f.Blocks {
				if f.Blocks[i].Registry != reg {
					return nil, Errorf(EINVALID, "record %s names registry %s in %s's file", f.Blocks[i].Label(), f.Blocks[i].Registry, reg)
				}
			}
		}
		v, err := sync(ctx, tx)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			h := f.Header
			h.Order = slices.Clone(h.Order)
			cur, err := LoadStatsHeader(ctx, tx, h.Registry)
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return nil, err
			}
			if err != nil || !equalJSON(cur, &h) {
				if _, err := tx.Emit(ctx, actor, "block.stats-header", h); err != nil {
					return nil, err
				}
			}
		}
		return v, nil
	}
}

func ianaKey(id string) string { return "num/iana/" + id }

// LoadIANARegistry reads what an IANA registry file holds besides its
// records, or ENOTFOUND.
func LoadIANARegistry(ctx context.Context, r StateReader, id string) (*IANARegistry, error) {
	return loadJSON[IANARegistry](ctx, r, ianaKey(id), func() error { return Errorf(ENOTFOUND, "no IANA registry %q has been imported", id) })
}

// IANAFile is an IANA number registry file: its text and its records.
type IANAFile struct {
	Registry IANARegistry
	Blocks   []Block
}

// ImportIANA returns the command that makes the registry hold exactly the
// records of IANA number registry files, among the blocks that came from
// those files' registries (see SyncBlocks), checking each family once for
// all the files. Importing the same files again changes nothing. Two files
// of one registry are refused.
func ImportIANA(actor string, files ...*IANAFile) Command {
	subs := map[string]bool{}
	ids := map[string]bool{}
	dup := ""
	var blocks []Block
	var names []string
	for _, f := range files {
		if ids[f.Registry.ID] {
			dup = f.Registry.ID
		}
		ids[f.Registry.ID] = true
		names = append(names, f.Registry.ID)
		for _, s := range f.Registry.Segments {
			if s.Records != "" {
				subs[s.Records] = true
			}
		}
		blocks = append(blocks, f.Blocks...)
	}
	var fams []string
	for _, fam := range Families {
		for i := range blocks {
			if blocks[i].Family == fam {
				fams = append(fams, fam)
				break
			}
		}
	}
	scope := func(b *Block) bool { return b.IANA != nil && subs[b.IANA.Registry] }
	sync := SyncBlocks(actor, "iana:"+strings.Join(names, ","), scope, fams, blocks)
	return func(ctx context.Context, tx Tx) (any, error) {
		if dup != "" {
			return nil, Errorf(EINVALID, "two files of the IANA registry %s: import one of each", dup)
		}
		for _, f := range files {
			if !registryRE.MatchString(f.Registry.ID) {
				return nil, Errorf(EINVALID, "IANA registry id %q", f.Registry.ID)
			}
		}
		v, err := sync(ctx, tx)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			cur, err := LoadIANARegistry(ctx, tx, f.Registry.ID)
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return nil, err
			}
			if err != nil || !equalJSON(cur, &f.Registry) {
				if _, err := tx.Emit(ctx, actor, "block.iana-registry", f.Registry); err != nil {
					return nil, err
				}
			}
		}
		return v, nil
	}
}
