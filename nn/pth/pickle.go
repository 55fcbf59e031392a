package pth

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

// The pickle opcodes the unpickler implements (protocols 2 to 4).
const (
	opMark            = '('
	opStop            = '.'
	opPop             = '0'
	opPopMark         = '1'
	opDup             = '2'
	opBinFloat        = 'G'
	opBinInt          = 'J'
	opBinInt1         = 'K'
	opBinInt2         = 'M'
	opNone            = 'N'
	opBinPersID       = 'Q'
	opReduce          = 'R'
	opBinString       = 'T'
	opShortBinString  = 'U'
	opBinUnicode      = 'X'
	opBinBytes        = 'B'
	opShortBinBytes   = 'C'
	opEmptyList       = ']'
	opAppend          = 'a'
	opBuild           = 'b'
	opGlobal          = 'c'
	opAppends         = 'e'
	opBinGet          = 'h'
	opLongBinGet      = 'j'
	opBinPut          = 'q'
	opLongBinPut      = 'r'
	opSetItem         = 's'
	opTuple           = 't'
	opSetItems        = 'u'
	opEmptyDict       = '}'
	opEmptyTuple      = ')'
	opProto           = 0x80
	opTuple1          = 0x85
	opTuple2          = 0x86
	opTuple3          = 0x87
	opNewTrue         = 0x88
	opNewFalse        = 0x89
	opLong1           = 0x8a
	opShortBinUnicode = 0x8c
	opBinUnicode8     = 0x8d
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95
)

// maxGlobalName bounds a GLOBAL opcode's module and name lines.
const maxGlobalName = 256

// ErrCorrupt is wrapped by every error about a malformed or refused
// checkpoint.
var ErrCorrupt = errors.New("invalid PyTorch checkpoint")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// stream is the byte source of one or more pickles read in sequence: a
// buffered reader, the bytes consumed so far and the bytes left.
type stream struct {
	r         *bufio.Reader
	pos, left int64
}

func newStream(r io.Reader, size int64) *stream {
	return &stream{r: bufio.NewReader(r), left: size}
}

// unpickler is the restricted unpickler. It reads one pickle from a
// stream and never calls anything: globals resolve to markers of a fixed
// set of constructions (see global), and persistent ids go to persistent.
type unpickler struct {
	*stream
	stack      []any
	marks      []int
	memo       map[int64]any
	persistent func(pid any) (any, error)
}

func newUnpickler(s *stream, persistent func(any) (any, error)) *unpickler {
	return &unpickler{stream: s, memo: map[int64]any{}, persistent: persistent}
}

func (u *stream) byte() (byte, error) {
	if u.left <= 0 {
		return 0, corrupt("pickle ends at byte %d without STOP (truncated?)", u.pos)
	}
	b, err := u.r.ReadByte()
	if err != nil {
		return 0, corrupt("pickle ends at byte %d without STOP (truncated?): %v", u.pos, err)
	}
	u.pos++
	u.left--
	return b, nil
}

// bytes reads n bytes; n is checked against what is left before anything
// is allocated.
func (u *stream) bytes(n int64, what string) ([]byte, error) {
	if n < 0 || n > u.left {
		return nil, corrupt("%s of %d bytes at byte %d runs past the %d bytes left (truncated?)", what, n, u.pos, u.left)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(u.r, b); err != nil {
		return nil, corrupt("%s at byte %d: %v (truncated?)", what, u.pos, err)
	}
	u.pos += n
	u.left -= n
	return b, nil
}

func (u *stream) uint(n int, what string) (uint64, error) {
	b, err := u.bytes(int64(n), what)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop(op string) (any, error) {
	base := 0
	if len(u.marks) > 0 {
		base = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= base {
		return nil, corrupt("%s at byte %d: stack underflow", op, u.pos)
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top(op string) (any, error) {
	base := 0
	if len(u.marks) > 0 {
		base = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= base {
		return nil, corrupt("%s at byte %d: empty stack", op, u.pos)
	}
	return u.stack[len(u.stack)-1], nil
}

// keyHint names the dict key a value under construction will be stored
// under, as " (the value of "name")", when the stack below it reads like a
// dict's items (the key string, then possibly the callables of enclosing
// rebuilds, as _rebuild_parameter wraps _rebuild_tensor_v2); otherwise "".
func (u *unpickler) keyHint() string {
	for i := len(u.stack) - 1; i >= 0 && i >= len(u.stack)-4; i-- {
		switch v := u.stack[i].(type) {
		case global:
			continue
		case string:
			return fmt.Sprintf(" (the value of %q)", v)
		}
		return ""
	}
	return ""
}

// popMark pops everything above the last mark, and the mark.
func (u *unpickler) popMark(op string) ([]any, error) {
	if len(u.marks) == 0 {
		return nil, corrupt("%s at byte %d: no MARK", op, u.pos)
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

// str decodes a pickled text string.
func (u *stream) str(n int64, what string) (string, error) {
	b, err := u.bytes(n, what)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", corrupt("%s at byte %d is not valid UTF-8", what, u.pos)
	}
	return string(b), nil
}

// line reads a newline-terminated line of at most maxGlobalName bytes.
func (u *stream) line(what string) (string, error) {
	var b []byte
	for {
		c, err := u.byte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= maxGlobalName {
			return "", corrupt("%s at byte %d is longer than %d bytes", what, u.pos, maxGlobalName)
		}
		b = append(b, c)
	}
}

// resolve maps a global to one of the allowed constructions, and refuses
// every other global by name.
func resolve(module, name string, at int64) (any, error) {
	switch module + "." + name {
	case "collections.OrderedDict":
		return globalOrderedDict, nil
	case "torch._utils._rebuild_tensor_v2":
		return globalRebuildTensor, nil
	case "torch._utils._rebuild_parameter":
		return globalRebuildParameter, nil
	case "torch._utils._rebuild_parameter_with_state":
		return globalRebuildParameterState, nil
	}
	if module == "torch" {
		if t, ok := storageTypes[name]; ok {
			return t, nil
		}
	}
	return nil, corrupt("refused global %s.%s at byte %d: only collections.OrderedDict, torch._utils._rebuild_tensor_v2, "+
		"torch._utils._rebuild_parameter and torch.*Storage may appear in a state dict", module, name, at)
}

// load runs the pickle to its STOP and returns the object.
func (u *unpickler) load() (any, error) {
	for {
		op, err := u.byte()
		if err != nil {
			return nil, err
		}
		if err := u.step(op); err != nil {
			if errors.Is(err, errStop) {
				if len(u.stack) != 1 || len(u.marks) != 0 {
					return nil, corrupt("STOP at byte %d leaves %d values and %d marks (want one value)", u.pos, len(u.stack), len(u.marks))
				}
				return u.stack[0], nil
			}
			return nil, err
		}
	}
}

var errStop = errors.New("stop")

// step runs one opcode.
func (u *unpickler) step(op byte) error {
	switch op {
	case opStop:
		return errStop
	case opProto:
		v, err := u.byte()
		if err != nil {
			return err
		}
		if v < 2 || v > 5 {
			return corrupt("pickle protocol %d: want 2 to 5", v)
		}
	case opFrame:
		n, err := u.uint(8, "frame length")
		if err != nil {
			return err
		}
		if n > uint64(u.left) {
			return corrupt("frame of %d bytes at byte %d runs past the %d bytes left (truncated?)", n, u.pos, u.left)
		}
	case opMark:
		u.marks = append(u.marks, len(u.stack))
	case opPop:
		_, err := u.pop("POP")
		return err
	case opPopMark:
		_, err := u.popMark("POP_MARK")
		return err
	case opDup:
		v, err := u.top("DUP")
		if err != nil {
			return err
		}
		u.push(v)
	case opNone:
		u.push(nil)
	case opNewTrue:
		u.push(true)
	case opNewFalse:
		u.push(false)
	case opBinInt:
		v, err := u.uint(4, "BININT")
		if err != nil {
			return err
		}
		u.push(int64(int32(uint32(v))))
	case opBinInt1:
		v, err := u.uint(1, "BININT1")
		if err != nil {
			return err
		}
		u.push(int64(v))
	case opBinInt2:
		v, err := u.uint(2, "BININT2")
		if err != nil {
			return err
		}
		u.push(int64(v))
	case opLong1:
		n, err := u.byte()
		if err != nil {
			return err
		}
		if n > 8 {
			return corrupt("LONG1 of %d bytes at byte %d: integers beyond 64 bits are not supported", n, u.pos)
		}
		v, err := u.uint(int(n), "LONG1")
		if err != nil {
			return err
		}
		if n > 0 && n < 8 && v&(1<<(8*n-1)) != 0 { // sign-extend
			v |= ^uint64(0) << (8 * n)
		}
		u.push(int64(v))
	case opBinFloat:
		b, err := u.bytes(8, "BINFLOAT")
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinUnicode, opBinUnicode, opBinUnicode8, opShortBinString, opBinString:
		size := map[byte]int{opShortBinUnicode: 1, opBinUnicode: 4, opBinUnicode8: 8, opShortBinString: 1, opBinString: 4}[op]
		n, err := u.uint(size, "string length")
		if err != nil {
			return err
		}
		if op == opBinString {
			n = uint64(int64(int32(uint32(n))))
		}
		if n > math.MaxInt64 {
			return corrupt("string of %d bytes at byte %d", n, u.pos)
		}
		s, err := u.str(int64(n), "string")
		if err != nil {
			return err
		}
		u.push(s)
	case opShortBinBytes, opBinBytes:
		size := 1
		if op == opBinBytes {
			size = 4
		}
		n, err := u.uint(size, "bytes length")
		if err != nil {
			return err
		}
		b, err := u.bytes(int64(n), "bytes")
		if err != nil {
			return err
		}
		u.push(b)
	case opEmptyDict:
		u.push(&Dict{})
	case opEmptyList:
		u.push(&List{})
	case opEmptyTuple:
		u.push(Tuple{})
	case opTuple:
		items, err := u.popMark("TUPLE")
		if err != nil {
			return err
		}
		u.push(Tuple(items))
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		t := make(Tuple, n)
		for i := n - 1; i >= 0; i-- {
			v, err := u.pop("TUPLE" + fmt.Sprint(n))
			if err != nil {
				return err
			}
			t[i] = v
		}
		u.push(t)
	case opAppend, opAppends:
		var items []any
		if op == opAppend {
			v, err := u.pop("APPEND")
			if err != nil {
				return err
			}
			items = []any{v}
		} else {
			var err error
			if items, err = u.popMark("APPENDS"); err != nil {
				return err
			}
		}
		t, err := u.top("APPEND")
		if err != nil {
			return err
		}
		l, ok := t.(*List)
		if !ok {
			return corrupt("APPEND at byte %d to a %s, want a list", u.pos, typeName(t))
		}
		l.Items = append(l.Items, items...)
	case opSetItem, opSetItems:
		var items []any
		if op == opSetItem {
			v, err := u.pop("SETITEM")
			if err != nil {
				return err
			}
			k, err := u.pop("SETITEM")
			if err != nil {
				return err
			}
			items = []any{k, v}
		} else {
			var err error
			if items, err = u.popMark("SETITEMS"); err != nil {
				return err
			}
			if len(items)%2 != 0 {
				return corrupt("SETITEMS at byte %d with an odd number (%d) of keys and values", u.pos, len(items))
			}
		}
		t, err := u.top("SETITEM")
		if err != nil {
			return err
		}
		d, ok := t.(*Dict)
		if !ok {
			return corrupt("SETITEM at byte %d on a %s, want a dict", u.pos, typeName(t))
		}
		for i := 0; i < len(items); i += 2 {
			if err := d.set(items[i], items[i+1]); err != nil {
				return corrupt("SETITEM at byte %d: %v", u.pos, err)
			}
		}
	case opBinPut, opLongBinPut, opMemoize:
		var idx int64
		switch op {
		case opBinPut:
			v, err := u.uint(1, "BINPUT")
			if err != nil {
				return err
			}
			idx = int64(v)
		case opLongBinPut:
			v, err := u.uint(4, "LONG_BINPUT")
			if err != nil {
				return err
			}
			idx = int64(v)
		default:
			idx = int64(len(u.memo))
		}
		v, err := u.top("PUT")
		if err != nil {
			return err
		}
		u.memo[idx] = v
	case opBinGet, opLongBinGet:
		size := 1
		if op == opLongBinGet {
			size = 4
		}
		idx, err := u.uint(size, "GET")
		if err != nil {
			return err
		}
		v, ok := u.memo[int64(idx)]
		if !ok {
			return corrupt("GET at byte %d of memo entry %d, which was never stored", u.pos, idx)
		}
		u.push(v)
	case opGlobal:
		at := u.pos - 1
		module, err := u.line("GLOBAL module")
		if err != nil {
			return err
		}
		name, err := u.line("GLOBAL name")
		if err != nil {
			return err
		}
		g, err := resolve(module, name, at)
		if err != nil {
			return err
		}
		u.push(g)
	case opStackGlobal:
		name, err := u.pop("STACK_GLOBAL")
		if err != nil {
			return err
		}
		module, err := u.pop("STACK_GLOBAL")
		if err != nil {
			return err
		}
		ms, ok1 := module.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return corrupt("STACK_GLOBAL at byte %d with a %s and a %s, want two strings", u.pos, typeName(module), typeName(name))
		}
		g, err := resolve(ms, ns, u.pos-1)
		if err != nil {
			return err
		}
		u.push(g)
	case opReduce:
		args, err := u.pop("REDUCE")
		if err != nil {
			return err
		}
		fn, err := u.pop("REDUCE")
		if err != nil {
			return err
		}
		at, ok := args.(Tuple)
		if !ok {
			return corrupt("REDUCE at byte %d with %s arguments, want a tuple", u.pos, typeName(args))
		}
		v, err := construct(fn, at)
		if err != nil {
			return corrupt("REDUCE at byte %d%s: %v", u.pos, u.keyHint(), err)
		}
		u.push(v)
	case opBuild:
		state, err := u.pop("BUILD")
		if err != nil {
			return err
		}
		t, err := u.top("BUILD")
		if err != nil {
			return err
		}
		// An OrderedDict's state holds attributes such as a state dict's
		// _metadata (versions of the modules), which loading ignores.
		if _, ok := t.(*Dict); !ok {
			return corrupt("BUILD at byte %d on a %s: only dicts take a state", u.pos, typeName(t))
		}
		switch state.(type) {
		case nil, *Dict, Tuple:
		default:
			return corrupt("BUILD at byte %d with a %s state, want a dict", u.pos, typeName(state))
		}
	case opBinPersID:
		pid, err := u.pop("BINPERSID")
		if err != nil {
			return err
		}
		if u.persistent == nil {
			return corrupt("persistent id at byte %d where none may appear", u.pos)
		}
		v, err := u.persistent(pid)
		if err != nil {
			return err
		}
		u.push(v)
	default:
		return corrupt("unsupported pickle opcode 0x%02x at byte %d", op, u.pos-1)
	}
	return nil
}

// construct applies one of the allowed globals to its arguments.
func construct(fn any, args Tuple) (any, error) {
	g, ok := fn.(global)
	if !ok {
		return nil, fmt.Errorf("cannot call a %s", typeName(fn))
	}
	switch g {
	case globalOrderedDict:
		if len(args) != 0 {
			return nil, fmt.Errorf("collections.OrderedDict with %d arguments, want none", len(args))
		}
		return &Dict{}, nil
	case globalRebuildTensor:
		return rebuildTensor(args)
	case globalRebuildParameter, globalRebuildParameterState:
		want := 3
		if g == globalRebuildParameterState {
			want = 4
		}
		if len(args) != want {
			return nil, fmt.Errorf("%s with %d arguments, want %d", g, len(args), want)
		}
		t, ok := args[0].(*TensorRef)
		if !ok {
			return nil, fmt.Errorf("%s of a %s, want a tensor", g, typeName(args[0]))
		}
		return t, nil
	}
	return nil, fmt.Errorf("cannot call %s", g)
}

// maxRank bounds a tensor's number of dimensions.
const maxRank = 32

// rebuildTensor checks the arguments of _rebuild_tensor_v2 (storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
// and returns the view they describe. The view must lie within its
// storage and hold no more elements than it.
func rebuildTensor(args Tuple) (*TensorRef, error) {
	if len(args) != 6 && len(args) != 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 with %d arguments, want 6 or 7", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2 of a %s, want a storage", typeName(args[0]))
	}
	off, ok := args[1].(int64)
	if !ok || off < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage offset %v, want a non-negative int", args[1])
	}
	size, err := intTuple(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in rank", size, stride)
	}
	if len(size) > maxRank {
		return nil, fmt.Errorf("_rebuild_tensor_v2: rank %d exceeds %d", len(size), maxRank)
	}
	ref := &TensorRef{storage: st, offset: off, stride: stride}
	numel, last := int64(1), off // last: the largest element index the view reads
	for i, d := range size {
		if d < 0 || stride[i] < 0 {
			return nil, fmt.Errorf("_rebuild_tensor_v2: negative size or stride (size %v, stride %v)", size, stride)
		}
		if d > math.MaxInt32 {
			return nil, fmt.Errorf("_rebuild_tensor_v2: dimension %d of size %v is too large", i, size)
		}
		ref.shape = append(ref.shape, int(d))
		if numel != 0 && d > math.MaxInt64/numel {
			return nil, fmt.Errorf("_rebuild_tensor_v2: size %v has too many elements", size)
		}
		numel *= d
	}
	if numel > 0 {
		for i, d := range size {
			if d > 1 && stride[i] > (math.MaxInt64-last)/(d-1) {
				return nil, fmt.Errorf("_rebuild_tensor_v2: strides %v of size %v overflow", stride, size)
			}
			last += (d - 1) * stride[i]
		}
		if last >= st.numel {
			return nil, fmt.Errorf("tensor of size %v, stride %v at offset %d reads element %d of storage %q, which has %d",
				size, stride, off, last, st.key, st.numel)
		}
		if numel > st.numel {
			return nil, fmt.Errorf("tensor of size %v has %d elements but views storage %q of %d (expanded views are not supported)",
				size, numel, st.key, st.numel)
		}
	}
	if args[4] != nil {
		if _, ok := args[4].(bool); !ok {
			return nil, fmt.Errorf("_rebuild_tensor_v2: requires_grad is a %s, want a bool", typeName(args[4]))
		}
	}
	return ref, nil
}

// intTuple converts a tuple of ints.
func intTuple(v any, what string) ([]int64, error) {
	t, ok := v.(Tuple)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %s is a %s, want a tuple", what, typeName(v))
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("_rebuild_tensor_v2: %s element %d is a %s, want an int", what, i, typeName(x))
		}
		out[i] = n
	}
	return out, nil
}
