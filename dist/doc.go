// Package dist trains one model data-parallel over several replicas: one
// per local device (several Vulkan devices in one process), in each
// process of an Open MPI job (several processes, on one or many machines).
//
// Every replica holds the whole model and trains on its own shard of each
// global batch (Shard: equal contiguous parts in replica order, so the
// global batch is the same whatever the number of replicas). After the
// backward pass every replica holds the gradient averaged over all of them
// and applies the same optimiser update, so their parameters stay equal;
// they start equal because global replica 0's parameters (and optimiser
// state, on resume) are broadcast at the start.
//
// # Gradient buckets
//
// The gradients are averaged in buckets of a few MiB (Options.BucketBytes),
// formed from the parameters in reverse order, roughly the order in which
// the backward pass finishes them. autograd's Graph.OnGradReady tells a
// Replica when each parameter's gradient is final; as soon as all of a
// bucket's are, the replica copies them into the bucket and, once every
// local replica has, the sum over the processes starts (MPI_Iallreduce), so
// communication runs while the rest of the backward pass computes. Finish
// sends what is left, waits for every bucket and writes the averages back.
// Buckets start in the same order in every process, as MPI requires of
// collective operations. The buckets live in host memory (C memory, as
// MPI reads them after the call returns): a send and a receive buffer the
// size of the gradient, and one more per local replica when there are
// several.
//
// # Fixed order
//
// The local replicas' contributions are added in replica order. Across
// processes, Open MPI's non-blocking all-reduce (the libnbc component)
// chooses its algorithm from the number of ranks and the message size only
// (a binomial tree below four ranks or 64 KiB, Rabenseifner's
// reduce-scatter and all-gather above) and every algorithm hands all ranks
// the result computed once per element, so
// a run with the same number of processes and the same bucket size
// repeats bit for bit and all replicas hold the same gradient. The
// average is the sum times 1/replicas, exact for a power of two.
//
// # Failures
//
// One goroutine makes every MPI call (MPI_THREAD_FUNNELED) and polls the
// outstanding operations. While it waits it checks every 100 ms that the
// other ranks on this machine still run (their process ids are exchanged
// at the start) and returns a LostRankError naming a rank that has exited;
// an operation outliving WorldOptions.Timeout returns a TimeoutError (the
// only sign of a lost rank on another machine). A failing replica aborts
// its Group so that the other local replicas stop waiting for it.
//
// Package mpi is the binding underneath.
//
// Layering: dist sits on tensor, autograd, nn and its MPI binding
// (dist/mpi); sar/train and the command use it. It never imports a backend
// or sar, bench or cmd.
package dist
