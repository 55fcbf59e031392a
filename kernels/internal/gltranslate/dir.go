package gltranslate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Dir translates every *.comp file of dir, resolving #include against
// dir, and returns the results by file name.
func Dir(dir string) (map[string][]byte, error) {
	srcs, err := filepath.Glob(filepath.Join(dir, "*.comp"))
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("no *.comp files in %s", dir)
	}
	sort.Strings(srcs)
	include := func(name string) ([]byte, error) {
		if filepath.Base(name) != name {
			return nil, fmt.Errorf("include %q: only files of the shader folder can be included", name)
		}
		return os.ReadFile(filepath.Join(dir, name))
	}
	out := map[string][]byte{}
	for _, src := range srcs {
		text, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(src)
		if out[name], err = Translate(name, text, include); err != nil {
			return nil, err
		}
	}
	return out, nil
}
