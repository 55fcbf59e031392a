package pth

import (
	"archive/zip"
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// rec is one record of a hand-made archive.
type rec struct {
	name   string
	data   []byte
	method uint16
}

// zipOf builds a zip archive of the records.
func zipOf(t *testing.T, recs ...rec) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range recs {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: r.method})
		require.NoError(t, err)
		_, err = w.Write(r.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// tensorPickle is the pickle of {"w": tensor} with the given storage and
// view, written by hand so that it can lie.
func tensorPickle(class string, numel, offset int64, size, stride []int64) []byte {
	p := &pickler{memo: map[string]byte{}}
	p.op(opProto, 2, opEmptyDict)
	p.str("w")
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark, opMark)
	p.str("storage")
	p.global("torch", class)
	p.str("0")
	p.str("cpu")
	p.int(numel)
	p.op(opTuple, opBinPersID)
	p.int(offset)
	p.ints(size)
	p.ints(stride)
	p.op(opNewFalse)
	p.global("collections", "OrderedDict")
	p.op(opEmptyTuple, opReduce, opTuple, opReduce, opSetItem, opStop)
	return p.b.Bytes()
}

// readBytes opens an in-memory checkpoint and reads every state dict.
func readBytes(b []byte) error {
	c, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	for _, sd := range c.StateDicts() {
		if _, err := c.Tensors(sd); err != nil {
			return err
		}
	}
	return nil
}

func TestHostileFiles(t *testing.T) {
	good, err := os.ReadFile(fixture("state.pth"))
	require.NoError(t, err)
	legacy, err := os.ReadFile(fixture("state_legacy.pth"))
	require.NoError(t, err)
	pkl := tensorPickle("FloatStorage", 4, 0, []int64{4}, []int64{1})
	data16 := make([]byte, 16)
	// A Go-written file with one corrupted storage byte (CRC mismatch).
	var crcBad bytes.Buffer
	require.NoError(t, Write(&crcBad, []Tensor{{Name: "w", DType: "F32", Shape: []int{4}, Raw: data16}}, WriteOptions{}))
	flipped := append([]byte(nil), crcBad.Bytes()...)
	zr, err := zip.NewReader(bytes.NewReader(flipped), int64(len(flipped)))
	require.NoError(t, err)
	off, err := zr.File[2].DataOffset() // data.pkl, byteorder, data/0
	require.NoError(t, err)
	assert.Zero(t, off%dataAlign, "storage data is 64-byte aligned")
	flipped[off+5] ^= 1

	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"truncated zip", good[:len(good)/2], "zip archive"},
		{"zip without its last bytes", good[:len(good)-10], "zip archive"},
		{"truncated legacy", legacy[:len(legacy)-20], "past the end"},
		{"legacy header only", legacy[:40], "truncated"},
		{"storage too short", zipOf(t, rec{name: "a/data.pkl", data: pkl}, rec{name: "a/data/0", data: make([]byte, 12)}),
			"holds 12 bytes, but 4 FloatStorage elements need 16"},
		{"storage missing", zipOf(t, rec{name: "a/data.pkl", data: pkl}), `storage "0" has no record a/data/0`},
		{"compressed storage", zipOf(t, rec{name: "a/data.pkl", data: pkl}, rec{name: "a/data/0", data: data16, method: zip.Deflate}),
			"compressed"},
		{"offset past the storage", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 4, 2, []int64{3}, []int64{1})},
			rec{name: "a/data/0", data: data16}), "reads element 4 of storage \"0\", which has 4"},
		{"stride past the storage", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 4, 0, []int64{2, 2}, []int64{3, 1})},
			rec{name: "a/data/0", data: data16}), "reads element 4"},
		{"expanded view", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 4, 0, []int64{8, 4}, []int64{0, 1})},
			rec{name: "a/data/0", data: data16}), "expanded views are not supported"},
		{"huge shape", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 4, 0, []int64{1 << 31, 1 << 31}, []int64{1, 1})},
			rec{name: "a/data/0", data: data16}), "too large"},
		{"huge element count", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 1<<60, 0, []int64{4}, []int64{1})},
			rec{name: "a/data/0", data: data16}), "holds 16 bytes, but 1152921504606846976 FloatStorage elements need"},
		{"stride overflow", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 4, 0, []int64{3, 2}, []int64{1 << 62, 1})},
			rec{name: "a/data/0", data: data16}), `(the value of "w"): _rebuild_tensor_v2: strides [4611686018427387904 1] of size [3 2] overflow`},
		{"element count overflow", zipOf(t, rec{name: "a/data.pkl",
			data: tensorPickle("FloatStorage", 4, 0, []int64{1<<31 - 1, 1<<31 - 1, 1<<31 - 1}, []int64{1, 1, 1})},
			rec{name: "a/data/0", data: data16}), "has too many elements"},
		{"offset names the key", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 4, -1, []int64{4}, []int64{1})},
			rec{name: "a/data/0", data: data16}), `REDUCE at byte 143 (the value of "w"): _rebuild_tensor_v2: storage offset -1`},
		{"wrong zip magic", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xa5}, 200)...), "zip archive"},
		{"wrong legacy protocol", append(append(append([]byte(nil), legacyMagic...), '.'), []byte("\x80\x02M\xe7\x03.")...),
			"legacy protocol version 999, want 1001"},
		{"legacy magic without STOP", append(append([]byte(nil), legacyMagic...), 'K'), "not followed by STOP"},
		{"negative stride", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("FloatStorage", 4, 3, []int64{4}, []int64{-1})},
			rec{name: "a/data/0", data: data16}), "negative size or stride"},
		{"unknown storage class", zipOf(t, rec{name: "a/data.pkl", data: tensorPickle("QInt8Storage", 4, 0, []int64{4}, []int64{1})}),
			"refused global torch.QInt8Storage"},
		{"os.system", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.")}),
			"refused global os.system at byte 2"},
		{"builtins.eval by STACK_GLOBAL", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x04\x8c\x08builtins\x8c\x04eval\x93.")}),
			"refused global builtins.eval at byte 18"},
		{"INST opcode", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02(ios\nsystem\n.")}), "unsupported pickle opcode 0x69"},
		{"string past the end", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02X\xf0\xff\xff\xffabc.")}), "runs past the"},
		{"stack underflow", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02R.")}), "stack underflow"},
		{"memo never stored", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02h\x05.")}), "memo entry 5"},
		{"two values at STOP", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02K\x01K\x02.")}), "leaves 2 values"},
		{"no STOP", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02K\x01")}), "without STOP"},
		{"protocol 1", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x01K\x01.")}), "protocol 1"},
		{"big-endian", zipOf(t, rec{name: "a/byteorder", data: []byte("big")}, rec{name: "a/data.pkl", data: []byte("\x80\x02}.")}),
			"only little-endian"},
		{"unknown version", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02}.")}, rec{name: "a/version", data: []byte("99\n")}),
			"format version \"99\""},
		{"two folders", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02}.")}, rec{name: "b/data/0", data: data16}),
			"more than one top-level folder"},
		{"no data.pkl", zipOf(t, rec{name: "a/data/0", data: data16}), "no a/data.pkl"},
		{"trailing bytes after STOP", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02}.xx")}), "2 bytes after its STOP"},
		{"CRC mismatch", flipped, "CRC-32"},
		{"set item on a list", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02]K\x01K\x02s.")}), "SETITEM at byte 8 on a list"},
		{"unhashable key", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02}]K\x01s.")}), "dict key of type list"},
		{"rebuild of a non-storage", zipOf(t, rec{name: "a/data.pkl",
			data: []byte("\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(K\x01K\x00)\x29\x89}tR.")}), "want a storage"},
		{"persistent id of a module", zipOf(t, rec{name: "a/data.pkl", data: []byte("\x80\x02(X\x06\x00\x00\x00moduleK\x01K\x02K\x03K\x04tQ.")}),
			"only storages are supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := readBytes(tc.file)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestCyclicPickle checks that a list holding itself neither loops nor
// overflows the stack when searched.
func TestCyclicPickle(t *testing.T) {
	pkl := []byte("\x80\x02]q\x00h\x00a.") // l = []; l.append(l)
	b := zipOf(t, rec{name: "a/data.pkl", data: pkl})
	c, err := NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	assert.Empty(t, c.StateDicts())
	_, err = c.Find("")
	assert.ErrorContains(t, err, "no state dict")
}
