package check

import (
	"errors"
	"math"
	"testing"

	"sargo/tensor"
)

// Id cases: the id contract of tensor (ids.go). The cases of idCases run
// in Run and hold valid ids in the awkward places: a table that is a view
// of a larger storage, ids at the last row, ids that are themselves a view,
// targets at the last class. The cases of idFaultCases break the contract
// (an id past the rows of a view, negative, NaN, a fraction, infinite),
// so each leaves its backend with a sticky error: RunFaults runs every one
// on a backend of its own.

func idCases() []testCase {
	return []testCase{
		{"gather/table_view", gatherTableViewCase},
		{"gather/ids_view", gatherIDsViewCase},
		{"scatter_add/boundary", scatterBoundaryCase},
		{"crossentropy/boundary", crossEntropyBoundaryCase},
	}
}

// gatherTableViewCase gathers from rows 1..3 of a 5-row table (a view at
// an offset) with ids 0 and 2, the first and last of its rows.
func gatherTableViewCase(c *ctx) {
	const rows, dim = 5, 3
	table := c.view(c.randn(61, rows, dim), func(t *tensor.Tensor) *tensor.Tensor { return t.Narrow(0, 1, 3) })
	ids := []float32{2, 0, 2, 1, 0}
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Gather(in[0], in[1])}
	}, table, c.values(ids, len(ids)))
	c.equal("rows", got[0], want[0])
	tab := c.read64(table.ref)
	var ref []float64
	for _, id := range ids {
		ref = append(ref, tab[int(id)*dim:(int(id)+1)*dim]...)
	}
	c.near64("rows/vs_table", got[0], ref, 0)
}

// gatherIDsViewCase gathers with ids that are a transposed view, including
// the last row.
func gatherIDsViewCase(c *ctx) {
	const rows, dim = 7, 4
	table := c.randn(62, rows, dim)
	idm := c.values([]float32{0, 6, 3, 6, 1, 5}, 2, 3)
	ids := c.view(idm, func(t *tensor.Tensor) *tensor.Tensor { return t.Transpose(0, 1) }) // [[0 6] [6 1] [3 5]]
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.Gather(in[0], in[1])}
	}, table, ids)
	c.equal("rows", got[0], want[0])
	tab := c.read64(table.ref)
	var ref []float64
	for _, id := range []int{0, 6, 6, 1, 3, 5} {
		ref = append(ref, tab[id*dim:(id+1)*dim]...)
	}
	c.near64("rows/vs_table", got[0], ref, 0)
}

// scatterBoundaryCase adds rows into the first and last rows only.
func scatterBoundaryCase(c *ctx) {
	const rows, dim = 4, 5
	ids := []float32{3, 0, 3, 3, 0}
	src := c.randn(63, len(ids), dim)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.ScatterAdd(in[0], in[1], rows)}
	}, src, c.values(ids, len(ids)))
	c.near("table", got[0], want[0], tolFP32)
	s := c.read64(src.ref)
	ref := make([]float64, rows*dim)
	for i, id := range ids {
		for j := range dim {
			ref[int(id)*dim+j] += s[i*dim+j]
		}
	}
	c.near64("table/vs_float64", got[0], ref, tolF64)
}

// crossEntropyBoundaryCase has targets 0 and n-1 and the ignore index.
func crossEntropyBoundaryCase(c *ctx) {
	const rows, n = 4, 9
	logits := c.randn(64, rows, n)
	tg := []float32{n - 1, 0, ignoreIndex, n - 1}
	gloss := c.randn(65, rows)
	got, want := c.both(func(in []*tensor.Tensor) []*tensor.Tensor {
		loss, lse := tensor.CrossEntropy(in[0], in[1], ignoreIndex, 0)
		return []*tensor.Tensor{loss, tensor.CrossEntropyBackward(in[0], lse, in[1], in[2], ignoreIndex, 0)}
	}, logits, c.values(tg, rows), gloss)
	c.near("loss", got[0], want[0], tolFP32)
	c.near("dlogits", got[1], want[1], tolFP32)
	xs, l := c.read64(logits.ref), c.read64(got[0])
	for r, t := range tg {
		want := 0.0
		if t != ignoreIndex {
			row := xs[r*n : (r+1)*n]
			want = logSumExp64(row) - row[int(t)]
		}
		if !relClose(l[r], want, 1, 1e-5) {
			c.t.Errorf("loss row %d: got %v, want %v", r, l[r], want)
		}
	}
}

// faultCase is a case that breaks the id contract on a fresh backend and
// expects its sticky error.
type faultCase struct {
	name string
	run  func(b tensor.Backend)
	want tensor.IDError // ID NaN matches any NaN
}

var nan32 = float32(math.NaN())

// idFaultCases are the bad-id cases of RunFaults.
func idFaultCases() []faultCase {
	gather := func(tab []float32, rows, dim int, view [2]int, ids ...float32) func(b tensor.Backend) {
		return func(b tensor.Backend) {
			t := tensor.FromSlice(b, tab, rows, dim)
			if view[1] > 0 {
				t = t.Narrow(0, view[0], view[1])
			}
			tensor.Gather(t, tensor.FromSlice(b, ids, len(ids)))
		}
	}
	scatter := func(rows int, ids ...float32) func(b tensor.Backend) {
		return func(b tensor.Backend) {
			tensor.ScatterAdd(tensor.Ones(b, len(ids), 2), tensor.FromSlice(b, ids, len(ids)), rows)
		}
	}
	ce := func(n int, backward bool, tg ...float32) func(b tensor.Backend) {
		return func(b tensor.Backend) {
			logits := tensor.Ones(b, len(tg), n)
			targets := tensor.FromSlice(b, tg, len(tg))
			if backward {
				lse := tensor.Zeros(b, len(tg))
				tensor.CrossEntropyBackward(logits, lse, targets, tensor.Ones(b, len(tg)), ignoreIndex, 0)
				return
			}
			tensor.CrossEntropy(logits, targets, ignoreIndex, 0)
		}
	}
	tab := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	ce3 := func(pos int, id float32) tensor.IDError {
		return tensor.IDError{Op: "CrossEntropy", Position: pos, ID: id, Rows: 3, Ignore: ignoreIndex, HasIgnore: true}
	}
	return []faultCase{
		// The rows behind a view are not the table's.
		{"gather/past_view_rows", gather(tab, 4, 2, [2]int{0, 2}, 2), tensor.IDError{Op: "Gather", ID: 2, Rows: 2}},
		{"gather/negative", gather(tab, 4, 2, [2]int{}, 0, 1, -1), tensor.IDError{Op: "Gather", Position: 2, ID: -1, Rows: 4}},
		{"gather/nan", gather(tab, 4, 2, [2]int{}, 3, nan32), tensor.IDError{Op: "Gather", Position: 1, ID: nan32, Rows: 4}},
		{"gather/fraction", gather(tab, 4, 2, [2]int{}, 1.5), tensor.IDError{Op: "Gather", ID: 1.5, Rows: 4}},
		{"gather/inf", gather(tab, 4, 2, [2]int{}, float32(math.Inf(1))), tensor.IDError{Op: "Gather", ID: float32(math.Inf(1)), Rows: 4}},
		// The lowest bad position is reported, whatever lies beyond it.
		{"gather/first_of_many", gather(tab, 4, 2, [2]int{1, 3}, 0, 2, 3, -1, 3), tensor.IDError{Op: "Gather", Position: 2, ID: 3, Rows: 3}},
		{"gather/beyond_storage", gather(tab, 4, 2, [2]int{}, 5), tensor.IDError{Op: "Gather", ID: 5, Rows: 4}},
		{"scatter_add/at_rows", scatter(3, 0, 2, 3), tensor.IDError{Op: "ScatterAdd", Position: 2, ID: 3, Rows: 3}},
		{"scatter_add/negative", scatter(3, -2), tensor.IDError{Op: "ScatterAdd", ID: -2, Rows: 3}},
		{"scatter_add/nan", scatter(3, 1, 1, nan32), tensor.IDError{Op: "ScatterAdd", Position: 2, ID: nan32, Rows: 3}},
		{"crossentropy/at_classes", ce(3, false, 0, 3), ce3(1, 3)},
		{"crossentropy/negative", ce(3, false, ignoreIndex, -1), ce3(1, -1)},
		{"crossentropy/nan", ce(3, false, nan32), ce3(0, nan32)},
		{"crossentropy_backward/at_classes", ce(3, true, 2, 2, 7), ce3(2, 7)},
		// The first op with a bad id is the error; later ones do not
		// replace it.
		{"first_op_wins", func(b tensor.Backend) {
			scatter(3, 5)(b)
			gather(tab, 4, 2, [2]int{}, 9)(b)
		}, tensor.IDError{Op: "ScatterAdd", ID: 5, Rows: 3}},
	}
}

// RunFaults runs the cases that break the id contract, each on a backend
// of its own from open (a sticky error ends a backend's usefulness): every
// one must leave the backend's Sync, Err and Read returning a
// tensor.IDError that names the op, the first bad id, its position and
// the table's row count. open is called once per case; the backend it
// returns is the caller's to close (t.Cleanup).
func RunFaults(t *testing.T, open func(t *testing.T) tensor.Backend) {
	t.Helper()
	for _, fc := range idFaultCases() {
		t.Run("ids/"+fc.name, func(t *testing.T) {
			b := open(t)
			s := tensor.NewScope(b)
			defer s.Close()
			fc.run(b)
			err := b.Sync()
			if err == nil {
				t.Fatalf("%s: no error from ids outside the table", b.Name())
			}
			var ie *tensor.IDError
			if !errors.As(err, &ie) {
				t.Fatalf("%s: error %q is not a tensor.IDError", b.Name(), err)
			}
			got, want := *ie, fc.want
			if math.IsNaN(float64(want.ID)) && math.IsNaN(float64(got.ID)) {
				got.ID, want.ID = 0, 0 // NaN matches NaN
			}
			if got != want {
				t.Errorf("%s: got %+v, want %+v (error %q)", b.Name(), got, want, err)
			}
			if e := b.Err(); !errors.As(e, &ie) {
				t.Errorf("Err after Sync: %v", e)
			}
			x := tensor.Scalar(b, 1)
			if _, e := x.Read(); !errors.As(e, &ie) {
				t.Errorf("Read after the error: %v, want the sticky error", e)
			}
		})
	}
}

// CloseFaulty registers the closing of a backend that a fault case used:
// at t's end close must return nil (only where mayBeClean is set) or a
// tensor.IDError, and messages (the driver's validation or debug output,
// described by what) must be empty.
func CloseFaulty(t testing.TB, close func() error, messages func() []string, what string, mayBeClean bool) {
	t.Helper()
	t.Cleanup(func() {
		var ie *tensor.IDError
		if err := close(); (err != nil || !mayBeClean) && !errors.As(err, &ie) {
			t.Errorf("close: %v, want a tensor.IDError", err)
		}
		if m := messages(); len(m) > 0 {
			t.Errorf("%s: %q", what, m)
		}
	})
}
