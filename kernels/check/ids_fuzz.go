package check

import (
	"errors"
	"math"
	"testing"

	"sargo/tensor"
)

// fuzzID maps a fuzz byte to an id: mostly integers around the table
// ([-1, rows+1]), sometimes NaN, an infinity, -0 or a fraction.
func fuzzID(b byte, rows int) float32 {
	switch b {
	case 250:
		return float32(math.NaN())
	case 251:
		return float32(math.Inf(1))
	case 252:
		return float32(math.Inf(-1))
	case 253:
		return float32(math.Copysign(0, -1))
	case 254:
		return 0.5
	case 255:
		return float32(rows) - 0.25
	}
	return float32(int(b)%(rows+3) - 1)
}

// FuzzIDs gathers and scatters with arbitrary ids over a table that is a
// view of a larger one (rows, width, view offset and ids drawn by the
// fuzzer), each op on a fresh backend from open: with every id valid the
// rows must match the host's, and otherwise Sync must report the first bad
// id as a tensor.IDError, without a panic. open's backend is the caller's
// to close (t.Cleanup); it is left with the sticky error of a bad id.
func FuzzIDs(f *testing.F, open func(t *testing.T) tensor.Backend) {
	f.Add(uint8(4), uint8(2), uint8(0), []byte{0, 1, 2, 3})
	f.Add(uint8(2), uint8(2), uint8(0), []byte{3})      // the row behind a view
	f.Add(uint8(2), uint8(3), uint8(1), []byte{0, 250}) // NaN
	f.Add(uint8(1), uint8(1), uint8(2), []byte{254})    // a fraction
	f.Add(uint8(0), uint8(4), uint8(0), []byte{1})      // an empty table
	f.Fuzz(func(t *testing.T, rows, dim, start uint8, raw []byte) {
		r, d, s := int(rows%17), int(dim%9), int(start%5)
		if len(raw) > 64 {
			raw = raw[:64]
		}
		ids := make([]float32, len(raw))
		for i, b := range raw {
			ids[i] = fuzzID(b, r)
		}
		full := make([]float32, (s+r+2)*d)
		for i := range full {
			full[i] = float32(i + 1)
		}
		want := tensor.CheckIDs("Gather", ids, r, 0, false)
		for _, op := range []string{"Gather", "ScatterAdd"} {
			b := open(t)
			table := tensor.FromSlice(b, full, s+r+2, d).Narrow(0, s, r)
			idt := tensor.FromSlice(b, ids, len(ids))
			var out *tensor.Tensor
			if op == "Gather" {
				out = tensor.Gather(table, idt)
			} else {
				out = tensor.ScatterAdd(tensor.Ones(b, len(ids), d), idt, r)
			}
			err := b.Sync()
			if want == nil {
				if err != nil {
					t.Fatalf("%s %v over %d rows: %v", op, ids, r, err)
				}
				checkRows(t, op, out.Data(), full, ids, s, d, r)
				continue
			}
			var got *tensor.IDError
			if !errors.As(err, &got) {
				t.Fatalf("%s %v over %d rows: error %v, want %v", op, ids, r, err, want)
			}
			w := *want.(*tensor.IDError)
			w.Op = op
			if got.Position != w.Position || got.Op != w.Op || got.Rows != w.Rows ||
				math.Float32bits(got.ID) != math.Float32bits(w.ID) && !(got.ID != got.ID && w.ID != w.ID) {
				t.Fatalf("%s %v over %d rows: got %+v, want %+v", op, ids, r, *got, w)
			}
		}
	})
}

// checkRows compares a gather or scatter of valid ids with the host's.
func checkRows(t *testing.T, op string, got, full, ids []float32, start, dim, rows int) {
	t.Helper()
	var want []float32
	if op == "Gather" {
		for _, id := range ids {
			at := (start + int(id)) * dim
			want = append(want, full[at:at+dim]...)
		}
	} else {
		want = make([]float32, rows*dim)
		for _, id := range ids {
			for j := range dim {
				want[int(id)*dim+j]++
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", op, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s with ids %v: element %d is %v, want %v", op, ids, i, got[i], want[i])
		}
	}
}
