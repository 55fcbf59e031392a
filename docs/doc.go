// Package docs holds the project's documents (Markdown, next to this
// file) and nothing else of Go but the test that keeps the guided tour
// (tour.md) true to the code: every link resolves to a file, and every
// `path/file.go:Name` reference names a function, method or type declared
// in that file. It imports no package of the module, and no package may
// import it.
package docs
