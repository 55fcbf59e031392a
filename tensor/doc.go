// Package tensor is sargo's N-d float32 array and the contract its compute
// backends implement: a Tensor is a strided view of a storage on one
// device (Backend), created by the functions and operations here, which
// check shapes and allocate outputs and leave the arithmetic to the
// backend. Backends register under a name ("cpu", "vulkan") and are
// opened with Open.
//
// # Ownership
//
// Every storage has exactly one owner, and nothing is left to the garbage
// collector:
//
//  1. A tensor belongs to the innermost open Scope of its device when it is
//     made (an operation's output, a view, a copy); Close frees them all.
//  2. An autograd graph is such a scope: it owns its values, what its
//     backward keeps and the gradients of intermediate results.
//  3. Keep moves a result to the enclosing scope (or to the caller, who
//     then Releases it); Escape hands long-lived state to its object.
//  4. Parameters, their gradients, optimiser state, caches and returned
//     results are the long-lived tensors, each freed by its named owner.
//  5. Using a freed tensor panics, naming it and the scope that freed it;
//     a scope closed out of order panics too.
//
// A function that computes a result and throws its temporaries away reads:
//
//	func normalised(dev tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
//		s := tensor.NewScope(dev)
//		defer s.Close()               // frees sq, norm and the rest
//		sq := tensor.Sum(tensor.Square(x), true, -1)
//		y := tensor.Div(x, tensor.Sqrt(sq))
//		s.Keep(y)                     // y outlives s
//		return y
//	}
//
// A device's scopes belong to the goroutine that drives the device.
// Backends count their live storages (MemStats), so a test finds a leak
// (package tensortest).
//
// # Memory
//
// Backend.Alloc returns uninitialised storage: kernels write their outputs
// completely, and only accumulators are zeroed, on the device (Zeros,
// Fill). Backends recycle freed storage by size class, so a steady training
// step takes no new memory from the system.
//
// Layering: tensor is the bottom of the stack and imports no other package
// of the module. The backends (kernels/...) implement its Backend and
// register themselves; everything above (autograd, nn, sar, bench, cmd)
// reaches a device only through it.
package tensor
