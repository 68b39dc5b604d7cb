package charter

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// The preset charters, one file per preset.
//
//go:embed presets/*.yaml
var presetFS embed.FS

// PresetNames returns the names of the built-in charters, sorted:
// community, iana-2016, wgig-model-1, wgig-model-2, wgig-model-3 and
// wgig-model-4.
func PresetNames() []string {
	entries, err := fs.ReadDir(presetFS, "presets")
	if err != nil {
		panic("charter: embedded presets missing: " + err.Error()) // cannot happen: checked at build time
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Preset returns the text of the named built-in charter. It is a valid
// charter, with comments citing the documents it follows.
func Preset(name string) ([]byte, error) {
	data, err := presetFS.ReadFile(path.Join("presets", name+".yaml"))
	if err != nil || strings.ContainsAny(name, "/\\.") {
		return nil, fmt.Errorf("unknown charter preset %q (presets: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return data, nil
}

// ParsePreset parses the named built-in charter; errors name the file
// NAME.yaml.
func ParsePreset(name string) (*Charter, error) {
	data, err := Preset(name)
	if err != nil {
		return nil, err
	}
	return Parse(name+".yaml", data)
}
