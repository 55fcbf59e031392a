package nn

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"strconv"
	"strings"

	"sargo/internal/regfile"
	"sargo/tensor"
)

// Checkpoint metadata keys and tensor name prefixes.
const (
	CheckpointFormat = "sargo-checkpoint/1"
	metaFormat       = "format"
	metaStep         = "step"
	metaRNGOffset    = "rng_offset"
	metaConfig       = "config"
	metaOptimStep    = "optim.step"
	optimMPrefix     = "optim.m."
	optimVPrefix     = "optim.v."
)

// TrainState is what a checkpoint stores beside the weights.
type TrainState struct {
	// Step is the training step.
	Step int
	// RNGOffset is the next unused offset of the training random stream.
	RNGOffset uint64
	// Config is the run's configuration as JSON (may be empty).
	Config json.RawMessage
	// Optimizer, when set, has its moments saved as optim.m.<name> and
	// optim.v.<name> and its step count, and restored on load.
	Optimizer *AdamW
}

// SaveCheckpoint writes params and state to path as safetensors. The file
// is written to a temporary file in the same directory, synced, renamed
// over path and the directory synced, so a crash leaves either the old
// file or the new one.
func SaveCheckpoint(path string, params []NamedParam, state *TrainState) error {
	if _, err := ParamIndex(params); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	meta := map[string]string{metaFormat: CheckpointFormat}
	var ts []STensor
	add := func(name string, t *tensor.Tensor) error {
		d, err := t.Read()
		if err != nil {
			return fmt.Errorf("save checkpoint %s: tensor %s: %w", path, name, err)
		}
		ts = append(ts, NewSTensorF32(name, t.Shape(), d))
		return nil
	}
	for _, p := range params {
		if err := add(p.Name, p.Var.Value); err != nil {
			return err
		}
	}
	if state != nil {
		meta[metaStep] = strconv.Itoa(state.Step)
		meta[metaRNGOffset] = strconv.FormatUint(state.RNGOffset, 10)
		if len(state.Config) > 0 {
			meta[metaConfig] = string(state.Config)
		}
		if o := state.Optimizer; o != nil {
			meta[metaOptimStep] = strconv.Itoa(o.Step)
			for i, p := range o.params {
				if err := add(optimMPrefix+p.Name, o.m[i]); err != nil {
					return err
				}
				if err := add(optimVPrefix+p.Name, o.v[i]); err != nil {
					return err
				}
			}
		}
	}
	if err := WriteSafetensorsFile(path, ts, meta); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	return nil
}

// expectedTensor is one tensor LoadCheckpoint looks for.
type expectedTensor struct {
	name string
	dst  *tensor.Tensor
}

// LoadCheckpoint reads path into params (by name) and, when state is not
// nil, restores its step, RNG offset and config, and the moments of
// state.Optimizer when set. Every mismatch (a missing tensor, an
// unexpected one, a wrong shape or dtype) is reported in one error naming
// the file. Optimizer tensors in the file are ignored when no optimizer
// is given, so a training checkpoint loads for inference.
func LoadCheckpoint(path string, params []NamedParam, state *TrainState) error {
	f, err := ReadSafetensorsFile(path)
	if err != nil {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	if _, err := ParamIndex(params); err != nil {
		return fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	var want []expectedTensor
	for _, p := range params {
		want = append(want, expectedTensor{p.Name, p.Var.Value})
	}
	var opt *AdamW
	if state != nil {
		opt = state.Optimizer
	}
	if opt != nil {
		for i, p := range opt.params {
			want = append(want, expectedTensor{optimMPrefix + p.Name, opt.m[i]}, expectedTensor{optimVPrefix + p.Name, opt.v[i]})
		}
	}
	have := f.Index()
	var problems []string
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w.name] = true
		t, ok := have[w.name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing %s (want %v F32)", w.name, w.dst.Shape()))
		case t.DType != "F32":
			problems = append(problems, fmt.Sprintf("dtype of %s: want F32, got %s", w.name, t.DType))
		case !equalShape(t.Shape, w.dst.Shape()):
			problems = append(problems, fmt.Sprintf("shape of %s: want %v, got %v", w.name, w.dst.Shape(), t.Shape))
		}
	}
	for _, t := range f.Tensors {
		if wanted[t.Name] || (opt == nil && (strings.HasPrefix(t.Name, optimMPrefix) || strings.HasPrefix(t.Name, optimVPrefix))) {
			continue
		}
		problems = append(problems, fmt.Sprintf("unexpected %s %v %s", t.Name, t.Shape, t.DType))
	}
	var st struct {
		step, optStep int
		rng           uint64
	}
	if state != nil {
		var perr []string
		st.step, perr = metaInt(f.Metadata, metaStep, perr)
		rng, perr2 := metaInt(f.Metadata, metaRNGOffset, perr)
		st.rng, perr = uint64(rng), perr2
		if opt != nil {
			st.optStep, perr = metaInt(f.Metadata, metaOptimStep, perr)
		}
		problems = append(problems, perr...)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("load checkpoint %s: %d mismatches:\n  %s", path, len(problems), strings.Join(problems, "\n  "))
	}
	for _, w := range want {
		d, err := have[w.name].Float32s()
		if err != nil {
			return fmt.Errorf("load checkpoint %s: %w", path, err)
		}
		w.dst.Write(d) // parameters and moments are contiguous
	}
	if state != nil {
		state.Step, state.RNGOffset = st.step, st.rng
		state.Config = nil
		if c, ok := f.Metadata[metaConfig]; ok {
			state.Config = json.RawMessage(c)
		}
		if opt != nil {
			opt.Step = st.optStep
		}
	}
	return nil
}

func metaInt(meta map[string]string, key string, problems []string) (int, []string) {
	s, ok := meta[key]
	if !ok {
		return 0, append(problems, fmt.Sprintf("metadata %q missing", key))
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, append(problems, fmt.Sprintf("metadata %q = %q is not a non-negative integer", key, s))
	}
	return int(v), problems
}

// TensorInfo describes one tensor of a safetensors file.
type TensorInfo struct {
	Name  string
	DType string
	Shape []int
	Bytes int
	// CRC32 is the IEEE CRC-32 of the tensor's raw bytes.
	CRC32 uint32
}

// Report is the content summary of a safetensors file.
type Report struct {
	Path     string
	Size     int64
	Metadata map[string]string
	Tensors  []TensorInfo
	// Params is the total number of elements.
	Params int64
}

// Inspect validates the safetensors file or PyTorch checkpoint (see
// InspectPyTorch) at path and summarises it. A truncated or corrupt file
// gives an error naming the file and the problem.
func Inspect(path string) (Report, error) {
	if isPth, err := IsPyTorch(path); err == nil && isPth {
		return InspectPyTorch(path, "")
	}
	buf, err := regfile.ReadFile(path)
	if err != nil {
		return Report{}, fmt.Errorf("inspect: %w", err)
	}
	f, err := ReadSafetensors(buf)
	if err != nil {
		return Report{}, fmt.Errorf("inspect %s: %w", path, err)
	}
	r := Report{Path: path, Size: int64(len(buf)), Metadata: f.Metadata}
	for _, t := range f.Tensors {
		r.Tensors = append(r.Tensors, TensorInfo{Name: t.Name, DType: t.DType, Shape: t.Shape,
			Bytes: len(t.Raw), CRC32: crc32.ChecksumIEEE(t.Raw)})
		r.Params += int64(t.NumElements())
	}
	return r, nil
}

// WriteText prints the report for people: metadata, then one line per
// tensor with dtype, shape, size and checksum.
func (r Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s: %d bytes, %d tensors, %d elements\n", r.Path, r.Size, len(r.Tensors), r.Params)
	keys := make([]string, 0, len(r.Metadata))
	for k := range r.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(bw, "  meta %s = %s\n", k, r.Metadata[k])
	}
	for _, t := range r.Tensors {
		fmt.Fprintf(bw, "  %-48s %-4s %-18v %10d B  crc32 %08x\n", t.Name, t.DType, t.Shape, t.Bytes, t.CRC32)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report of %s: %w", r.Path, err)
	}
	return nil
}
