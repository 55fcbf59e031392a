package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	// mdLink is a Markdown link's target: [text](target).
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// goRef is a code reference `path/file.go:Name` or
	// `path/file.go:Type.Method`.
	goRef = regexp.MustCompile("`([A-Za-z0-9_./-]+\\.go):([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)`")
	// pathRef is a code span holding a repository path with an extension.
	pathRef = regexp.MustCompile("`([A-Za-z0-9_-]+(?:/[A-Za-z0-9_.-]+)+\\.(?:go|md|comp|glsl|c|h|s|py))`")
)

// TestTourLinks checks docs/tour.md: every relative link resolves to an
// existing file or folder, every code span holding a repository path
// names an existing file, and every `file.go:Name` reference names a
// top-level function, method (Type.Method) or type declared in that file.
func TestTourLinks(t *testing.T) {
	text, err := os.ReadFile("tour.md")
	require.NoError(t, err)
	root, err := filepath.Abs("..")
	require.NoError(t, err)

	links := mdLink.FindAllStringSubmatch(string(text), -1)
	require.NotEmpty(t, links)
	for _, m := range links {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "#") {
			continue
		}
		target, _, _ = strings.Cut(target, "#")
		_, err := os.Stat(filepath.Join(".", filepath.FromSlash(target)))
		assert.NoError(t, err, "link (%s) does not resolve from docs/", m[1])
	}

	for _, m := range pathRef.FindAllStringSubmatch(string(text), -1) {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(m[1])))
		assert.NoError(t, err, "path `%s` does not exist", m[1])
	}

	refs := goRef.FindAllStringSubmatch(string(text), -1)
	require.NotEmpty(t, refs)
	decls := map[string]map[string]bool{}
	for _, m := range refs {
		file, name := m[1], m[2]
		names, ok := decls[file]
		if !ok {
			names, err = declared(filepath.Join(root, filepath.FromSlash(file)))
			if !assert.NoError(t, err, "reference `%s:%s`", file, name) {
				continue
			}
			decls[file] = names
		}
		assert.True(t, names[name], "`%s:%s`: %s declares no function, method or type %s", file, name, file, name)
	}
}

// declared lists the names a Go file declares at top level: functions,
// methods as Type.Method, and types.
func declared(path string) (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil || len(d.Recv.List) == 0 {
				names[d.Name.Name] = true
				continue
			}
			names[receiverType(d.Recv.List[0].Type)+"."+d.Name.Name] = true
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok {
					names[ts.Name.Name] = true
				}
			}
		}
	}
	return names, nil
}

// receiverType is the type name of a method receiver: T, *T, T[P] or *T[P].
func receiverType(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return receiverType(e.X)
	case *ast.IndexExpr:
		return receiverType(e.X)
	case *ast.IndexListExpr:
		return receiverType(e.X)
	case *ast.Ident:
		return e.Name
	}
	return ""
}
