// Package bench measures sargo's kernels and models and compares them with
// PyTorch in the same invocation, so that every figure is a ratio taken on
// the same machine at the same time.
//
// A Suite (matmul, attention, conv, interpolate, train, tokenizer, sample)
// is a list of Cases. Each case is timed on a tensor.Backend with warm-up
// runs first and then several repeats, each repeat running the case until a
// minimum time has passed; the median rate is the result and the spread of
// the repeats is reported beside it. Every rate is in a higher-is-better
// unit (GFLOP/s, Mpixel/s, tokens/s, images/s).
//
// With a reference, the equivalent script bench/torch/bench_<suite>.py runs
// beside sargo as a second process that takes the same cases (every shape
// and hyperparameter, as JSON on its stdin) one at a time, and the timed
// repeats alternate between the two: sargo, PyTorch, sargo, PyTorch… Each
// pair of repeats gives a ratio sargo/reference under the same conditions,
// and the Record of a case holds both rates, the median of the paired
// ratios and its 95% interval (MedianInterval). Timing.UntilStable repeats
// a case until that interval is narrow enough. Cases that count their
// model FLOPs also get the model FLOP utilisation against sargo's GEMM
// peak, measured in the same invocation. Records print as a table
// (WriteTable) and save as a JSON list (WriteJSON).
// The train, tokenizer and sample cases also record Memory: the device
// storages a run allocates, the bytes it allocates and zero-fills, the
// peak and what stays live after it, and the Go heap's allocations per
// run, measured over a few untimed runs.
//
// Layering: bench sits above sar, nn, autograd and tensor and times them;
// only cmd/sargo imports it. Devices are opened by name; the one backend
// it imports is kernels/vulkan, for the type of the dispatch counters its
// Vulkan records carry. It never imports cmd.
package bench
