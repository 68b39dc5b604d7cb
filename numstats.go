package steward

import (
	"context"
	"slices"
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
// records of a statistics file for the file's registry: records not yet
// held are recorded, those that differ updated, those no longer in the
// file removed. Importing the same file again changes nothing. The whole
// result is checked (nesting, overlaps with every other registry's blocks)
// before anything is emitted, so a bad file changes nothing.
func ImportStats(actor string, f *StatsFile) Command {
	reg := f.Header.Registry
	sync := SyncBlocks(actor, "rir-stats:"+reg, func(b *Block) bool { return b.Registry == reg }, Families, f.Blocks)
	return func(ctx context.Context, tx Tx) (any, error) {
		if !registryRE.MatchString(reg) {
			return nil, Errorf(EINVALID, "statistics file: registry %q", reg)
		}
		for i := range f.Blocks {
			if f.Blocks[i].Registry != reg {
				return nil, Errorf(EINVALID, "record %s names registry %s in %s's file", f.Blocks[i].Label(), f.Blocks[i].Registry, reg)
			}
		}
		v, err := sync(ctx, tx)
		if err != nil {
			return nil, err
		}
		h := f.Header
		h.Order = slices.Clone(h.Order)
		cur, err := LoadStatsHeader(ctx, tx, reg)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		if err != nil || !equalJSON(cur, &h) {
			if _, err := tx.Emit(ctx, actor, "block.stats-header", h); err != nil {
				return nil, err
			}
		}
		return v, nil
	}
}
