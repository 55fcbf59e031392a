// Package docs holds the project's documents (Markdown, next to this
// file) and, of Go, only the tests that keep them true to the code:
// TestTourLinks (every link of the guided tour, tour.md, resolves to a
// file, and every `path/file.go:Name` reference names a function, method
// or type declared in that file) and TestLayering (no package imports one
// above it, as the package doc comments state).
//
// Layering: it imports no package of the module, and no package may
// import it.
package docs
