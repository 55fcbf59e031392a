package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"sargo/internal/atomicfile"
	"sargo/internal/regfile"
)

// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON mapping each tensor name to {"dtype", "shape", "data_offsets"}
// (plus an optional "__metadata__" map of strings), then the raw
// little-endian tensor data. Offsets are relative to the end of the header.

// MaxSafetensorsHeader bounds the JSON header a reader accepts (100 MB, as
// the reference implementation does).
const MaxSafetensorsHeader = 100 << 20

// dtypeSize is the element size of a dtype the reader knows.
func dtypeSize(dtype string) (int, bool) {
	switch dtype {
	case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2":
		return 1, true
	case "I16", "U16", "F16", "BF16":
		return 2, true
	case "I32", "U32", "F32":
		return 4, true
	case "I64", "U64", "F64":
		return 8, true
	}
	return 0, false
}

// STensor is one tensor of a safetensors file, held on the host.
type STensor struct {
	Name  string
	DType string
	Shape []int
	// Raw is the little-endian data, len = product(Shape) * element size.
	Raw []byte
}

// NewSTensorF32 makes an F32 tensor from host values.
func NewSTensorF32(name string, shape []int, data []float32) STensor {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return STensor{Name: name, DType: "F32", Shape: append(make([]int, 0, len(shape)), shape...), Raw: raw}
}

// NumElements is the product of the shape.
func (t STensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s decodes the data as float32 values. F32, F64, F16, BF16, I64
// and I32 are converted; other dtypes are an error.
func (t STensor) Float32s() ([]float32, error) {
	out := make([]float32, t.NumElements())
	if err := decodeFloat32s(out, t.DType, t.Raw); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return out, nil
}

// decodeFloat32s converts len(out) values of dtype from the little-endian
// bytes raw into out.
func decodeFloat32s(out []float32, dtype string, raw []byte) error {
	le := binary.LittleEndian
	switch dtype {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case "F64":
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		}
	case "BF16":
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(raw[2*i:])) << 16)
		}
	case "F16":
		for i := range out {
			out[i] = halfToFloat(le.Uint16(raw[2*i:]))
		}
	case "I64":
		for i := range out {
			out[i] = float32(int64(le.Uint64(raw[8*i:])))
		}
	case "I32":
		for i := range out {
			out[i] = float32(int32(le.Uint32(raw[4*i:])))
		}
	default:
		return fmt.Errorf("cannot convert dtype %s to float32", dtype)
	}
	return nil
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		v := float32(frac) / 1024 / 16384
		if sign != 0 {
			return -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// Safetensors is a parsed safetensors file: its metadata and its tensors in
// file order.
type Safetensors struct {
	Metadata map[string]string
	Tensors  []STensor
}

// Lookup returns the tensor with the given name.
func (s *Safetensors) Lookup(name string) (STensor, bool) {
	for _, t := range s.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return STensor{}, false
}

// Index maps names to tensors.
func (s *Safetensors) Index() map[string]STensor {
	m := make(map[string]STensor, len(s.Tensors))
	for _, t := range s.Tensors {
		m[t.Name] = t
	}
	return m
}

type headerEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// WriteSafetensors writes tensors (in the given order) and metadata to w.
// Names must be unique and non-empty, and each tensor's data must match its
// shape and dtype.
func WriteSafetensors(w io.Writer, tensors []STensor, meta map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	var off int64
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("write safetensors: invalid tensor name %q", t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("write safetensors: duplicate tensor name %q", t.Name)
		}
		size, ok := dtypeSize(t.DType)
		if !ok {
			return fmt.Errorf("write safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if want := t.NumElements() * size; want != len(t.Raw) {
			return fmt.Errorf("write safetensors: tensor %q: %d bytes for shape %v of %s (want %d)", t.Name, len(t.Raw), t.Shape, t.DType, want)
		}
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int64(d)
		}
		header[t.Name] = headerEntry{DType: t.DType, Shape: shape, DataOffsets: []int64{off, off + int64(len(t.Raw))}}
		off += int64(len(t.Raw))
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("write safetensors: encode header: %w", err)
	}
	// Pad the header with spaces so the data starts 8-byte aligned.
	for (8+len(js))%8 != 0 {
		js = append(js, ' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	if _, err := w.Write(js); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Raw); err != nil {
			return fmt.Errorf("write safetensors: tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// ErrCorrupt is wrapped by every error ReadSafetensors returns for a
// malformed file.
var ErrCorrupt = errors.New("corrupt safetensors")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// ReadSafetensors parses a whole safetensors file held in memory. The
// returned tensors' Raw slices alias buf. It validates strictly: the header
// length is within bounds, the header is a JSON object without duplicate
// keys, every dtype is known, every shape's byte size matches its offsets,
// and the data regions are contiguous, in order of offset, start at 0 and
// end exactly at the end of the file.
func ReadSafetensors(buf []byte) (*Safetensors, error) {
	if len(buf) < 8 {
		return nil, corrupt("file of %d bytes is shorter than the 8-byte header length", len(buf))
	}
	n := binary.LittleEndian.Uint64(buf[:8])
	if n < 2 || n > MaxSafetensorsHeader {
		return nil, corrupt("header length %d out of range [2, %d]", n, MaxSafetensorsHeader)
	}
	if n > uint64(len(buf)-8) {
		return nil, corrupt("header length %d exceeds the %d bytes after it (truncated file?)", n, len(buf)-8)
	}
	hdr := buf[8 : 8+n]
	data := buf[8+n:]
	if hdr[0] != '{' {
		return nil, corrupt("header does not start with '{'")
	}
	raw, err := decodeObject(hdr)
	if err != nil {
		return nil, corrupt("header: %v", err)
	}
	out := &Safetensors{}
	type region struct {
		name       string
		begin, end int64
	}
	var regions []region
	entries := map[string]headerEntry{}
	for _, kv := range raw {
		if kv.key == "__metadata__" {
			meta := map[string]string{}
			if err := strictUnmarshal(kv.val, &meta); err != nil {
				return nil, corrupt("__metadata__ is not a map of strings: %v", err)
			}
			out.Metadata = meta
			continue
		}
		if kv.key == "" {
			return nil, corrupt("empty tensor name")
		}
		var e headerEntry
		if err := strictUnmarshal(kv.val, &e); err != nil {
			return nil, corrupt("tensor %q: %v", kv.key, err)
		}
		size, ok := dtypeSize(e.DType)
		if !ok {
			return nil, corrupt("tensor %q: unknown dtype %q", kv.key, e.DType)
		}
		if e.Shape == nil {
			return nil, corrupt("tensor %q: missing shape", kv.key)
		}
		if len(e.DataOffsets) != 2 {
			return nil, corrupt("tensor %q: data_offsets has %d values, want 2", kv.key, len(e.DataOffsets))
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(data)) {
			return nil, corrupt("tensor %q: data_offsets [%d, %d] outside the %d data bytes (truncated file?)", kv.key, begin, end, len(data))
		}
		nbytes := int64(size)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, corrupt("tensor %q: negative dimension in shape %v", kv.key, e.Shape)
			}
			if d > 0 && nbytes > math.MaxInt64/d {
				return nil, corrupt("tensor %q: shape %v is too large", kv.key, e.Shape)
			}
			nbytes *= d
		}
		if nbytes != end-begin {
			return nil, corrupt("tensor %q: shape %v of %s needs %d bytes, data_offsets give %d", kv.key, e.Shape, e.DType, nbytes, end-begin)
		}
		entries[kv.key] = e
		regions = append(regions, region{kv.key, begin, end})
	}
	sort.SliceStable(regions, func(i, j int) bool {
		if regions[i].begin != regions[j].begin {
			return regions[i].begin < regions[j].begin
		}
		return regions[i].end < regions[j].end
	})
	var pos int64
	for _, r := range regions {
		if r.begin != pos {
			if r.begin < pos {
				return nil, corrupt("tensor %q: data [%d, %d) overlaps the previous tensor (ends at %d)", r.name, r.begin, r.end, pos)
			}
			return nil, corrupt("tensor %q: gap in data before offset %d (previous tensor ends at %d)", r.name, r.begin, pos)
		}
		pos = r.end
	}
	if pos != int64(len(data)) {
		return nil, corrupt("tensors cover %d data bytes but the file has %d (truncated or trailing bytes)", pos, len(data))
	}
	for _, r := range regions {
		e := entries[r.name]
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			shape[i] = int(d)
		}
		out.Tensors = append(out.Tensors, STensor{Name: r.name, DType: e.DType, Shape: shape, Raw: data[r.begin:r.end:r.end]})
	}
	return out, nil
}

// ReadSafetensorsFile reads and parses the file at path; errors name it.
func ReadSafetensorsFile(path string) (*Safetensors, error) {
	buf, err := regfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read safetensors: %w", err)
	}
	s, err := ReadSafetensors(buf)
	if err != nil {
		return nil, fmt.Errorf("read safetensors %s: %w", path, err)
	}
	return s, nil
}

// WriteSafetensorsFile writes a safetensors file atomically: through a
// synced temporary file in the same folder renamed over path (see
// atomicfile.Write).
func WriteSafetensorsFile(path string, tensors []STensor, meta map[string]string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return WriteSafetensors(w, tensors, meta) })
}

type keyVal struct {
	key string
	val json.RawMessage
}

// decodeObject splits a JSON object into its members in order, rejecting
// duplicate keys and trailing content other than whitespace.
func decodeObject(b []byte) ([]keyVal, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	seen := map[string]bool{}
	var out []keyVal
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is not a string")
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		out = append(out, keyVal{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	rest := b[dec.InputOffset():]
	if len(strings.TrimRight(string(rest), " \t\r\n")) != 0 {
		return nil, fmt.Errorf("trailing bytes after the JSON object")
	}
	return out, nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
