// Package reproduce runs the SAR reproduction protocol end to end on one
// machine and writes its report: a tokenizer; teacher forcing (TF) for N
// epochs; SAR from scratch for N; SAR for the last k epochs from TF's
// checkpoint at N − k; naive student forcing (SF) for N. Every periodic
// checkpoint is evaluated (sar/eval, on the features of sargo's own
// classifier), and DIR/report.md holds the table and the five figures of
// the seed paper (sar/viz).
//
// Layering: like every sar package, it never imports a backend, bench or
// cmd.
package reproduce
