package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"time"

	"sargo/internal/atomicfile"
)

// WriteOptions shape the file Write produces.
type WriteOptions struct {
	// Key, when set, stores the state dict inside nested dicts, one per
	// dot-separated segment: "model" gives {"model": state_dict} (as
	// FlexVAE.pth) and "trainer.var_wo_ddp" gives {"trainer":
	// {"var_wo_ddp": state_dict}} (as FlexVAR's training checkpoints).
	Key string
}

// archiveName is the top-level folder of the archives Write produces.
const archiveName = "archive"

// dataAlign is the alignment of every storage's bytes in the archive, as
// torch.save pads them (so that they can be memory-mapped).
const dataAlign = 64

// zipEpoch is the modification time of every record (the earliest an
// MS-DOS time can hold), so that the same tensors give the same file.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// dtypeClass maps a safetensors dtype to its torch storage class.
func dtypeClass(dtype string) (storageType, bool) {
	for _, t := range storageTypes {
		if t.dtype == dtype {
			return t, true
		}
	}
	return storageType{}, false
}

// Write writes tensors as a state dict (an OrderedDict in the given order)
// in torch.save's zip format: archive/data.pkl, archive/byteorder, one
// storage archive/data/<i> per tensor (uncompressed, 64-byte aligned) and
// archive/version. torch.load reads the result.
func Write(w io.Writer, tensors []Tensor, opt WriteOptions) error {
	seen := map[string]bool{}
	for _, t := range tensors {
		typ, ok := dtypeClass(t.DType)
		if !ok {
			return fmt.Errorf("write pth: tensor %q: dtype %q has no torch storage class", t.Name, t.DType)
		}
		if seen[t.Name] {
			return fmt.Errorf("write pth: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		if want := t.NumElements() * typ.size; want != len(t.Raw) {
			return fmt.Errorf("write pth: tensor %q: %d bytes for shape %v of %s (want %d)", t.Name, len(t.Raw), t.Shape, t.DType, want)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("write pth: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
		}
	}
	zw := zip.NewWriter(w)
	var off int64 // bytes written so far: CreateRaw writes no data descriptors
	add := func(name string, data []byte, align bool) error {
		name = archiveName + "/" + name
		var extra []byte
		if align {
			pad := (dataAlign - (off+30+int64(len(name)))%dataAlign) % dataAlign
			if pad > 0 && pad < 4 {
				pad += dataAlign
			}
			if pad > 0 {
				extra = make([]byte, pad)
				binary.LittleEndian.PutUint16(extra[0:], 0x4246) // "FB", as torch.save pads
				binary.LittleEndian.PutUint16(extra[2:], uint16(pad-4))
			}
		}
		fw, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, Extra: extra,
			ModifiedDate: dosDate(zipEpoch), CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))})
		if err != nil {
			return fmt.Errorf("write pth: record %s: %w", name, err)
		}
		if _, err := fw.Write(data); err != nil {
			return fmt.Errorf("write pth: record %s: %w", name, err)
		}
		off += 30 + int64(len(name)) + int64(len(extra)) + int64(len(data))
		return nil
	}
	if err := add("data.pkl", statePickle(tensors, opt.Key), false); err != nil {
		return err
	}
	if err := add("byteorder", []byte("little"), false); err != nil {
		return err
	}
	for i, t := range tensors {
		if err := add("data/"+strconv.Itoa(i), t.Raw, true); err != nil {
			return err
		}
	}
	if err := add("version", []byte("3\n"), false); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write pth: %w", err)
	}
	return nil
}

// dosDate is t's MS-DOS date field.
func dosDate(t time.Time) uint16 {
	return uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
}

// WriteFile writes a state dict to path atomically (internal/atomicfile).
func WriteFile(path string, tensors []Tensor, opt WriteOptions) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, tensors, opt) })
}

// pickler emits the protocol-2 pickle of a state dict.
type pickler struct {
	b    bytes.Buffer
	memo map[string]byte // memoised globals
}

func (p *pickler) op(ops ...byte) { p.b.Write(ops) }

func (p *pickler) str(s string) {
	p.op(opBinUnicode)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.b.Write(n[:])
	p.b.WriteString(s)
}

func (p *pickler) int(v int64) {
	switch {
	case v >= 0 && v < 1<<8:
		p.op(opBinInt1, byte(v))
	case v >= 0 && v < 1<<16:
		p.op(opBinInt2, byte(v), byte(v>>8))
	case v >= -1<<31 && v < 1<<31:
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(int32(v)))
		p.op(opBinInt)
		p.b.Write(n[:])
	default:
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(v))
		p.op(opLong1, 8)
		p.b.Write(n[:])
	}
}

func (p *pickler) ints(vs []int64) {
	if len(vs) == 0 {
		p.op(opEmptyTuple)
		return
	}
	p.op(opMark)
	for _, v := range vs {
		p.int(v)
	}
	p.op(opTuple)
}

// global pushes module.name, through the memo after its first use.
func (p *pickler) global(module, name string) {
	key := module + "\n" + name
	if i, ok := p.memo[key]; ok {
		p.op(opBinGet, i)
		return
	}
	p.op(opGlobal)
	p.b.WriteString(key + "\n")
	i := byte(len(p.memo))
	p.memo[key] = i
	p.op(opBinPut, i)
}

// statePickle is the pickle of an OrderedDict of tensors, each a
// _rebuild_tensor_v2 of its own storage "i", optionally inside nested
// dicts named by the segments of key.
func statePickle(tensors []Tensor, key string) []byte {
	p := &pickler{memo: map[string]byte{}}
	p.op(opProto, 2)
	var levels []string
	if key != "" {
		levels = strings.Split(key, ".")
	}
	for _, k := range levels {
		p.op(opEmptyDict, opMark)
		p.str(k)
	}
	p.global("collections", "OrderedDict")
	p.op(opEmptyTuple, opReduce, opMark)
	for i, t := range tensors {
		typ, _ := dtypeClass(t.DType)
		shape := make([]int64, len(t.Shape))
		stride := make([]int64, len(t.Shape))
		s := int64(1)
		for d := len(t.Shape) - 1; d >= 0; d-- {
			shape[d], stride[d] = int64(t.Shape[d]), s
			s *= int64(t.Shape[d])
		}
		p.str(t.Name)
		p.global("torch._utils", "_rebuild_tensor_v2")
		p.op(opMark, opMark)
		p.str("storage")
		p.global("torch", typ.name)
		p.str(strconv.Itoa(i))
		p.str("cpu")
		p.int(int64(t.NumElements()))
		p.op(opTuple, opBinPersID)
		p.int(0)
		p.ints(shape)
		p.ints(stride)
		p.op(opNewFalse)
		p.global("collections", "OrderedDict")
		p.op(opEmptyTuple, opReduce, opTuple, opReduce)
	}
	p.op(opSetItems)
	for range levels {
		p.op(opSetItems)
	}
	p.op(opStop)
	return p.b.Bytes()
}
