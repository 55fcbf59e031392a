// Package cputime reads the processor time a process has used, for
// benchmarks that report rates per processor-second: on a machine shared
// with other work they change far less than wall-clock rates.
package cputime
