package tensor

import (
	"fmt"
	"math"
)

// The id contract. Every operation that takes ids — Gather (embedding
// lookups), ScatterAdd (their backward), the targets of CrossEntropy and
// CrossEntropyBackward, and ids produced by TopK or Sample and fed back
// into one of these — takes them as float32 holding integers in
// [0, rows) of the logical table: the table tensor's first dimension (not
// its storage, which may be larger when the table is a view), or for
// cross-entropy the number of classes. An op with an ignore index also
// accepts that value. Anything else — a negative id, one at or past rows,
// a fraction, NaN or an infinity — is an IDError naming the op, the id,
// its position and the row count. A backend checks every id before it
// reads any table row with it, and reports the first bad id (the lowest
// position) of the first offending op as its sticky error (see Backend):
// the op's outputs are then unspecified, and Sync, Read and Err return the
// error.

// IDError is an id outside its table.
type IDError struct {
	// Op is the operation: "Gather", "ScatterAdd" or "CrossEntropy".
	Op string
	// Position is the id's index in the (contiguous) id tensor.
	Position int
	// ID is the offending value.
	ID float32
	// Rows is the table's row count (the number of classes for
	// cross-entropy).
	Rows int
	// Ignore is the op's ignore index, when HasIgnore.
	Ignore    int
	HasIgnore bool
}

func (e *IDError) Error() string {
	want := fmt.Sprintf("an integer in [0, %d)", e.Rows)
	if e.HasIgnore {
		want += fmt.Sprintf(" or the ignore index %d", e.Ignore)
	}
	return fmt.Sprintf("%s: id %v at position %d is outside the table of %d rows: want %s",
		e.Op, e.ID, e.Position, e.Rows, want)
}

// ValidID reports whether id is an integer in [0, rows).
func ValidID(id float32, rows int) bool {
	f := float64(id)
	return f >= 0 && f < float64(rows) && f == math.Floor(f) // false for NaN
}

// CheckIDs returns an IDError for the first id of ids that breaks the
// contract for op over a table of rows rows (ignore is accepted too when
// hasIgnore), or nil. Backends that hold ids on the host call it before
// reading any row.
func CheckIDs(op string, ids []float32, rows, ignore int, hasIgnore bool) error {
	for i, id := range ids {
		if ValidID(id, rows) || (hasIgnore && float64(id) == float64(ignore)) {
			continue
		}
		return &IDError{Op: op, Position: i, ID: id, Rows: rows, Ignore: ignore, HasIgnore: hasIgnore}
	}
	return nil
}
