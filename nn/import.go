package nn

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"sargo/internal/regfile"
	"sargo/nn/pth"
	"sargo/tensor"
)

// Weights written by other programs: a PyTorch checkpoint (torch.save, read
// by package nn/pth) or a safetensors file without sargo's checkpoint
// metadata, holding a state dict under PyTorch's parameter names.

// IsPyTorch reports whether the file at path is a PyTorch checkpoint (by
// its first bytes).
func IsPyTorch(path string) (bool, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return pth.IsCheckpoint(head[:n]), nil
}

// IsCheckpoint reports whether the safetensors metadata meta is that of a
// checkpoint sargo wrote (SaveCheckpoint).
func IsCheckpoint(meta map[string]string) bool { return meta[metaFormat] == CheckpointFormat }

// StateDict is a set of named tensors opened from a PyTorch checkpoint or a
// safetensors file; tensor data is read when loaded.
type StateDict struct {
	// Path is the file; Format is "pytorch zip", "pytorch legacy" or
	// "safetensors"; Key is where the state dict sits in a nested PyTorch
	// checkpoint ("" for the root).
	Path, Format, Key string
	// Names lists the tensors in file order.
	Names []string
	// Metadata is the safetensors metadata (nil for PyTorch files).
	Metadata map[string]string

	shapes map[string][]int
	dtypes map[string]string
	ckpt   *pth.Checkpoint
	sd     pth.StateDict
	st     map[string]STensor
}

// OpenStateDict opens the state dict of the file at path. In a nested
// PyTorch checkpoint it is the dict at key (dotted, such as
// "trainer.var_wo_ddp"), or when key is empty the only state dict that
// holds every name of want (see pth.Checkpoint.Find). Close releases it.
func OpenStateDict(path, key string, want ...string) (*StateDict, error) {
	isPth, err := IsPyTorch(path)
	if err != nil {
		return nil, fmt.Errorf("open state dict: %w", err)
	}
	s := &StateDict{Path: path, shapes: map[string][]int{}, dtypes: map[string]string{}}
	if !isPth {
		f, err := ReadSafetensorsFile(path)
		if err != nil {
			return nil, fmt.Errorf("open state dict: %w", err)
		}
		if key != "" {
			return nil, fmt.Errorf("open state dict %s: a key (%q) only applies to PyTorch checkpoints", path, key)
		}
		s.Format, s.Metadata, s.st = "safetensors", f.Metadata, f.Index()
		for _, t := range f.Tensors {
			s.Names = append(s.Names, t.Name)
			s.shapes[t.Name], s.dtypes[t.Name] = t.Shape, t.DType
		}
		return s, nil
	}
	c, err := pth.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open state dict: %w", err)
	}
	sd, err := c.Find(key, want...)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("open state dict %s: %w", path, err)
	}
	s.Format, s.Key, s.ckpt, s.sd = "pytorch "+c.Format, sd.Path, c, sd
	for i, n := range sd.Names {
		s.Names = append(s.Names, n)
		s.shapes[n], s.dtypes[n] = sd.Refs[i].Shape(), sd.Refs[i].DType()
	}
	return s, nil
}

// Close releases the file of a PyTorch checkpoint.
func (s *StateDict) Close() error {
	if s.ckpt != nil {
		return s.ckpt.Close()
	}
	return nil
}

// Shape returns the shape of tensor name.
func (s *StateDict) Shape(name string) ([]int, bool) {
	sh, ok := s.shapes[name]
	return append([]int(nil), sh...), ok
}

// DType returns the dtype of tensor name (safetensors names).
func (s *StateDict) DType(name string) string { return s.dtypes[name] }

// ShapeOfRank returns the shape of name when the dict holds it with rank
// dimensions. Otherwise it appends an error naming the problem to errs and
// returns rank zeros, so that a reader of a configuration from the shapes
// reads on and reports everything that is wrong at once.
func (s *StateDict) ShapeOfRank(name string, rank int, errs *[]error) []int {
	shape, ok := s.Shape(name)
	if !ok {
		*errs = append(*errs, fmt.Errorf("no %s", name))
		return make([]int, rank)
	}
	if len(shape) != rank {
		*errs = append(*errs, fmt.Errorf("%s has shape %v, want rank %d", name, shape, rank))
		return make([]int, rank)
	}
	return shape
}

// Has reports whether the state dict holds tensor name.
func (s *StateDict) Has(name string) bool {
	_, ok := s.shapes[name]
	return ok
}

// Tensor reads one tensor in its stored dtype.
func (s *StateDict) Tensor(name string) (STensor, error) {
	if s.st != nil {
		t, ok := s.st[name]
		if !ok {
			return STensor{}, fmt.Errorf("%s: no tensor %q", s.Path, name)
		}
		return t, nil
	}
	for i, n := range s.sd.Names {
		if n != name {
			continue
		}
		ts, err := s.ckpt.Tensors(pth.StateDict{Path: s.sd.Path, Names: []string{n}, Refs: s.sd.Refs[i : i+1]})
		if err != nil {
			return STensor{}, fmt.Errorf("%s: %w", s.Path, err)
		}
		return STensor(ts[0]), nil
	}
	return STensor{}, fmt.Errorf("%s: no tensor %q", s.Path, name)
}

// Tensors reads every tensor in file order, in its stored dtype.
func (s *StateDict) Tensors() ([]STensor, error) {
	out := make([]STensor, 0, len(s.Names))
	if s.ckpt != nil {
		ts, err := s.ckpt.Tensors(s.sd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Path, err)
		}
		for _, t := range ts {
			out = append(out, STensor(t))
		}
		return out, nil
	}
	for _, n := range s.Names {
		out = append(out, s.st[n])
	}
	return out, nil
}

// Load copies the state dict into params by name, converting float16,
// bfloat16 and float64 to float32, one tensor at a time. Every parameter
// must be present with its shape; a tensor of the file that is not a
// parameter is an error unless ignore (may be nil) accepts its name
// (buffers such as PyTorch's attention masks). All mismatches are
// reported in one error naming the file.
func (s *StateDict) Load(params []NamedParam, ignore func(name string) bool) error {
	idx, err := ParamIndex(params)
	if err != nil {
		return fmt.Errorf("load %s: %w", s.Path, err)
	}
	var problems []string
	for _, p := range params {
		sh, ok := s.shapes[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing %s (want %v)", p.Name, p.Var.Value.Shape()))
		case !equalShape(sh, p.Var.Value.Shape()):
			problems = append(problems, fmt.Sprintf("shape of %s: want %v, got %v", p.Name, p.Var.Value.Shape(), sh))
		case !floatDType(s.dtypes[p.Name]):
			problems = append(problems, fmt.Sprintf("dtype of %s: %s, want a floating-point type", p.Name, s.dtypes[p.Name]))
		}
	}
	for _, n := range s.Names {
		if _, ok := idx[n]; ok || (ignore != nil && ignore(n)) {
			continue
		}
		problems = append(problems, fmt.Sprintf("unexpected %s %v %s", n, s.shapes[n], s.dtypes[n]))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		where := s.Path
		if s.Key != "" {
			where += " [" + s.Key + "]"
		}
		return fmt.Errorf("load %s: %d mismatches:\n  %s", where, len(problems), strings.Join(problems, "\n  "))
	}
	buf, raw := make([]float32, loadChunk), make([]byte, 8*loadChunk)
	for _, p := range params {
		if err := s.loadInto(p.Var.Value, p.Name, buf, raw); err != nil {
			return fmt.Errorf("load %s: %w", s.Path, err)
		}
	}
	return nil
}

// loadChunk is the number of values Load converts and writes at a time.
const loadChunk = 1 << 18

// loadInto converts tensor name to float32 and writes it into dst (of its
// shape) piece by piece, through buf (loadChunk values) and raw (the
// bytes of loadChunk values of any dtype). A PyTorch storage
// is streamed from the file (pth.Checkpoint.StreamTensor), so that loading
// holds one piece besides the parameters, not a copy of each tensor in its
// stored dtype, another in float32 and a third on the device.
func (s *StateDict) loadInto(dst *tensor.Tensor, name string, buf []float32, raw []byte) error {
	if !dst.IsContiguous() {
		return fmt.Errorf("load %s: destination %v is not contiguous", name, dst)
	}
	dtype := s.dtypes[name]
	es, ok := dtypeSize(dtype)
	if !ok {
		return fmt.Errorf("tensor %q: unknown dtype %s", name, dtype)
	}
	flat := dst.Reshape(-1)
	defer flat.Release()
	write := func(raw []byte, first int64) error {
		n := len(raw) / es
		piece := buf
		if n > len(piece) { // a gathered view comes whole
			piece = make([]float32, n)
		}
		piece = piece[:n]
		if err := decodeFloat32s(piece, dtype, raw); err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		part := flat.Narrow(0, int(first), n)
		part.Write(piece)
		part.Release()
		return nil
	}
	if s.st != nil {
		data := s.st[name].Raw
		for off := 0; off < len(data); off += loadChunk * es {
			if err := write(data[off:min(off+loadChunk*es, len(data))], int64(off/es)); err != nil {
				return err
			}
		}
		return nil
	}
	i := slices.Index(s.sd.Names, name)
	if i < 0 {
		return fmt.Errorf("no tensor %q", name)
	}
	if err := s.ckpt.StreamTensor(s.sd.Refs[i], raw[:loadChunk*es], write); err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	return nil
}

func floatDType(d string) bool { return d == "F32" || d == "F16" || d == "BF16" || d == "F64" }

// InspectPyTorch summarises a PyTorch checkpoint: every tensor of every
// state dict in it (or of the one at key), named by its dotted path, and
// as metadata the format and the path and size of each state dict.
func InspectPyTorch(path, key string) (Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Report{}, fmt.Errorf("inspect: %w", err)
	}
	c, err := pth.Open(path)
	if err != nil {
		return Report{}, fmt.Errorf("inspect: %w", err)
	}
	defer c.Close()
	sds := c.StateDicts()
	if key != "" {
		sd, err := c.Find(key)
		if err != nil {
			return Report{}, fmt.Errorf("inspect %s: %w", path, err)
		}
		sds = []pth.StateDict{sd}
	}
	r := Report{Path: path, Size: st.Size(), Metadata: map[string]string{"format": "pytorch " + c.Format}}
	for _, sd := range sds {
		name := sd.Path
		if name == "" {
			name = "(root)"
		}
		r.Metadata["state dict "+name] = fmt.Sprintf("%d tensors, %d elements", len(sd.Refs), sd.Elements())
		ts, err := c.Tensors(sd)
		if err != nil {
			return Report{}, fmt.Errorf("inspect %s: %w", path, err)
		}
		for _, t := range ts {
			full := t.Name
			if sd.Path != "" && key == "" {
				full = sd.Path + "." + t.Name
			}
			r.Tensors = append(r.Tensors, TensorInfo{Name: full, DType: t.DType, Shape: t.Shape,
				Bytes: len(t.Raw), CRC32: crc32.ChecksumIEEE(t.Raw)})
			r.Params += int64(t.NumElements())
		}
	}
	return r, nil
}
