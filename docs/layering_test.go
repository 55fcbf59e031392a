package docs

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layers says, for each package (or folder of packages, ending in "/"),
// which packages of the module its non-test files may import; the longest
// matching key applies. This is the layering that every package's doc
// comment states: tensor at the bottom, the backends implementing it, then
// autograd, nn, dist, sar, bench and the command.
var layers = map[string][]string{
	"tensor":                            {},
	"tensor/":                           {"tensor"},
	"kernels/":                          {"tensor", "kernels/", "internal/"},
	"kernels/check":                     {"tensor", "kernels/cpu"},
	"kernels/gpu":                       {"tensor"},
	"kernels/internal/":                 {},
	"kernels/cpu/internal/":             {},
	"kernels/vulkan/internal/shadergen": {"kernels/internal/gltranslate"},
	"autograd":                          {"tensor"},
	"nn":                                {"tensor", "autograd", "nn/", "internal/"},
	"nn/":                               {"internal/"},
	"dist":                              {"tensor", "autograd", "nn", "nn/", "dist/mpi"},
	"dist/mpi":                          {},
	"sar":                               {"tensor", "autograd", "nn", "nn/", "sar/", "internal/"},
	"sar/":                              {"tensor", "autograd", "nn", "nn/", "dist", "sar", "sar/", "internal/"},
	"sar/schedule":                      {},
	"sar/imgio":                         {"internal/"},
	"sar/data":                          {"sar/imgio", "internal/"},
	"bench":                             {"tensor", "autograd", "nn", "nn/", "sar", "sar/", "internal/", "kernels/vulkan"},
	"bench/gpu/":                        {"tensor", "kernels/", "bench"},
	"internal/":                         {},
	"internal/membudget":                {"tensor", "internal/hostmem"},
	"internal/mpitest":                  {"dist/mpi"},
	"cmd/":                              {"tensor", "kernels/", "autograd", "nn", "nn/", "dist", "sar", "sar/", "bench", "internal/"},
	"examples/":                         {},
	"docs":                              {},
}

// TestLayering parses the imports of every non-test Go file of the module
// (all build tags included) and checks them against layers: no package
// imports one above it, no package outside kernels/ and cmd/ imports a
// backend, and nothing imports the examples or docs.
func TestLayering(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	imports := map[string]map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if dep, ok := strings.CutPrefix(p, "sargo/"); ok {
				imports[pkg][dep] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, imports, "tensor")

	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		allowed, ok := rule(pkg)
		if !assert.True(t, ok, "package %s has no entry in layers", pkg) {
			continue
		}
		for dep := range imports[pkg] {
			assert.True(t, matches(dep, allowed), "%s imports %s, which its layer does not allow (allowed: %v)", pkg, dep, allowed)
		}
	}
}

// rule returns the allowed imports of pkg: those of the longest key of
// layers that is pkg itself or a folder above it.
func rule(pkg string) ([]string, bool) {
	best, found := "", false
	for key := range layers {
		if (key == pkg || strings.HasSuffix(key, "/") && strings.HasPrefix(pkg, key)) && len(key) >= len(best) {
			best, found = key, true
		}
	}
	return layers[best], found
}

// matches reports whether dep is one of allowed (a package, or a folder
// ending in "/" holding it).
func matches(dep string, allowed []string) bool {
	for _, a := range allowed {
		if dep == a || strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a) {
			return true
		}
	}
	return false
}
