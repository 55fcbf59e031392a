package gpu

import (
	"math"

	"sargo/tensor"
)

// The id contract on the device (tensor's ids.go): before an op reads a
// table row by id, shaders/check_ids.comp checks every id and records the
// first bad one in the device's status storage, which the device reads
// when a batch completes and turns into its sticky error (StatusError).

// StatusWords is the number of 32-bit words of the status storage.
const StatusWords = 6

// The op codes of the status storage's first word.
const (
	statusOK uint32 = iota
	statusGather
	statusScatterAdd
	statusCrossEntropy
)

var statusOps = [...]string{statusGather: "Gather", statusScatterAdd: "ScatterAdd", statusCrossEntropy: "CrossEntropy"}

// StatusError decodes the status storage's words: nil when no op recorded
// a bad id, else the tensor.IDError of the first.
func StatusError(words [StatusWords]uint32) error {
	op := words[0]
	if op == statusOK {
		return nil
	}
	name := "an op with ids"
	if int(op) < len(statusOps) {
		name = statusOps[op]
	}
	return &tensor.IDError{Op: name, Position: int(words[1]), ID: math.Float32frombits(words[2]), Rows: int(words[3]),
		Ignore: int(math.Float32frombits(words[4])), HasIgnore: words[5] != 0}
}

type checkIDsPush struct {
	offStatus, offIds, n, rows, op, hasIgnore uint32
	ignore                                    float32
}

// checkIDs records a dispatch that validates n ids against rows (and the
// ignore value when hasIgnore) into the device's status storage.
func (b *Kernels) checkIDs(op uint32, ids tensor.Span, n, rows, ignore int, hasIgnore bool) {
	if n == 0 {
		return
	}
	status := b.dev.Status()
	push := checkIDsPush{0, uint32(ids.Offset), uint32(n), uint32(rows), op, flag(hasIgnore), float32(ignore)}
	launch(b, "check_ids", b.spec.row, &push, [3]uint32{1, 1, 1}, write(status), read(ids.Buf))
}
