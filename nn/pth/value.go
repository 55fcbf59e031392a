package pth

import (
	"fmt"
	"math"
	"strconv"
)

// The values the unpickler builds. Python's None, bool, int, float, str and
// bytes become nil, bool, int64, float64, string and []byte; containers
// and tensors are the types below.

// Dict is a Python dict or OrderedDict with its keys in insertion order.
// Keys are strings, integers, floats, booleans or None.
type Dict struct {
	Keys   []any
	Values []any
	index  map[dictKey]int
}

// dictKey is a comparable form of a hashable key.
type dictKey struct {
	kind byte
	s    string
}

func keyOf(k any) (dictKey, error) {
	switch v := k.(type) {
	case string:
		return dictKey{'s', v}, nil
	case int64:
		return dictKey{'i', strconv.FormatInt(v, 10)}, nil
	case bool:
		// Python: True == 1 and hash(True) == hash(1).
		if v {
			return dictKey{'i', "1"}, nil
		}
		return dictKey{'i', "0"}, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<62 {
			return dictKey{'i', strconv.FormatInt(int64(v), 10)}, nil
		}
		return dictKey{'f', strconv.FormatFloat(v, 'g', -1, 64)}, nil
	case nil:
		return dictKey{'n', ""}, nil
	}
	return dictKey{}, fmt.Errorf("dict key of type %s is not supported", typeName(k))
}

// set inserts or replaces k.
func (d *Dict) set(k, v any) error {
	dk, err := keyOf(k)
	if err != nil {
		return err
	}
	if d.index == nil {
		d.index = map[dictKey]int{}
	}
	if i, ok := d.index[dk]; ok {
		d.Values[i] = v
		return nil
	}
	d.index[dk] = len(d.Keys)
	d.Keys = append(d.Keys, k)
	d.Values = append(d.Values, v)
	return nil
}

// Get returns the value of key k.
func (d *Dict) Get(k any) (any, bool) {
	dk, err := keyOf(k)
	if err != nil {
		return nil, false
	}
	i, ok := d.index[dk]
	if !ok {
		return nil, false
	}
	return d.Values[i], true
}

// Len is the number of entries.
func (d *Dict) Len() int { return len(d.Keys) }

// List is a Python list.
type List struct{ Items []any }

// Tuple is a Python tuple.
type Tuple []any

// storageType is a typed storage class of torch (torch.FloatStorage, ...).
type storageType struct {
	name  string // the class name, such as "FloatStorage"
	dtype string // the safetensors dtype
	size  int    // bytes per element
}

// storageTypes are the storage classes the unpickler knows.
var storageTypes = map[string]storageType{
	"FloatStorage":    {"FloatStorage", "F32", 4},
	"HalfStorage":     {"HalfStorage", "F16", 2},
	"BFloat16Storage": {"BFloat16Storage", "BF16", 2},
	"LongStorage":     {"LongStorage", "I64", 8},
	"DoubleStorage":   {"DoubleStorage", "F64", 8},
	"IntStorage":      {"IntStorage", "I32", 4},
	"ShortStorage":    {"ShortStorage", "I16", 2},
	"CharStorage":     {"CharStorage", "I8", 1},
	"ByteStorage":     {"ByteStorage", "U8", 1},
	"BoolStorage":     {"BoolStorage", "BOOL", 1},
}

// storage is one storage a persistent id names: its key in the archive,
// its element type and its declared element count.
type storage struct {
	key   string
	typ   storageType
	numel int64
}

// Tensor is a tensor of a checkpoint: its dtype (safetensors names), shape
// and contiguous little-endian data. Name is its key in the state dict.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Raw   []byte
}

// NumElements is the product of the shape.
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// TensorRef is a tensor as the pickle describes it: a strided view of a
// storage. Its data is read from the archive by Checkpoint.Tensor.
type TensorRef struct {
	storage *storage
	offset  int64
	shape   []int
	stride  []int64
}

// DType is the tensor's element type in safetensors' names.
func (r *TensorRef) DType() string { return r.storage.typ.dtype }

// Shape is the tensor's shape (a copy).
func (r *TensorRef) Shape() []int { return append([]int(nil), r.shape...) }

// NumElements is the product of the shape.
func (r *TensorRef) NumElements() int64 {
	n := int64(1)
	for _, d := range r.shape {
		n *= int64(d)
	}
	return n
}

// global is a resolved GLOBAL: one of the fixed constructions the
// unpickler allows.
type global int

const (
	globalOrderedDict global = iota + 1
	globalRebuildTensor
	globalRebuildParameter
	globalRebuildParameterState
)

func (g global) String() string {
	switch g {
	case globalOrderedDict:
		return "collections.OrderedDict"
	case globalRebuildTensor:
		return "torch._utils._rebuild_tensor_v2"
	case globalRebuildParameter:
		return "torch._utils._rebuild_parameter"
	case globalRebuildParameterState:
		return "torch._utils._rebuild_parameter_with_state"
	}
	return "unknown global"
}

// typeName names the Python type of an unpickled value, for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case *Dict:
		return "dict"
	case *List:
		return "list"
	case Tuple:
		return "tuple"
	case *TensorRef:
		return "tensor"
	case *storage:
		return "storage"
	case storageType:
		return "storage class"
	case global:
		return "global " + v.(global).String()
	}
	return fmt.Sprintf("%T", v)
}
