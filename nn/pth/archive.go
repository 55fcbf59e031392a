package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"sargo/internal/regfile"
)

// maxPickle bounds the size of a checkpoint's object pickle (data.pkl).
const maxPickle = 1 << 30

// legacyMagic opens a legacy torch.save file: protocol 2, then LONG1 of
// ten bytes holding the magic number 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// legacyProtocol is the protocol version record of the legacy format.
const legacyProtocol = 1001

// Checkpoint is an opened PyTorch checkpoint: its object tree (Root), with
// tensors as references (*TensorRef) whose data is read on demand.
type Checkpoint struct {
	// Root is the unpickled object: usually a *Dict, such as a state dict
	// or {"model": state_dict, "args": ...}.
	Root any
	// Format is "zip" or "legacy".
	Format string

	src      io.ReaderAt
	closer   io.Closer
	records  map[string]record // storage key → its bytes in src
	storages map[string]*storage
}

// record locates a storage's bytes in the file.
type record struct {
	off, size int64
	crc       uint32
	hasCRC    bool
}

// IsCheckpoint reports whether head, the first bytes of a file, opens a
// PyTorch checkpoint (a zip archive or the legacy format).
func IsCheckpoint(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, legacyMagic)
}

// Open opens the checkpoint at path, which must be a regular file (a pipe
// or a device is refused), and reads its object tree; tensor data stays
// in the file until read. Close releases the file.
func Open(path string) (*Checkpoint, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	c, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	c.closer = f
	return c, nil
}

// Close releases the file Open opened.
func (c *Checkpoint) Close() error {
	if c.closer == nil {
		return nil
	}
	err := c.closer.Close()
	c.closer = nil
	return err
}

// NewReader reads a checkpoint of size bytes from r.
func NewReader(r io.ReaderAt, size int64) (*Checkpoint, error) {
	head := make([]byte, len(legacyMagic))
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	c := &Checkpoint{src: r, records: map[string]record{}, storages: map[string]*storage{}}
	var err error
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		c.Format = "zip"
		err = c.readZip(r, size)
	case bytes.HasPrefix(head, legacyMagic):
		c.Format = "legacy"
		err = c.readLegacy(r, size)
	default:
		return nil, corrupt("neither a zip archive nor a legacy torch.save file (starts with % x)", head)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// storageOf returns the storage a persistent id names, creating it on
// first use; later ids of the same key must agree on its type and size.
func (c *Checkpoint) storageOf(key string, typ storageType, numel int64) (*storage, error) {
	if numel < 0 {
		return nil, corrupt("storage %q: negative element count %d", key, numel)
	}
	if st, ok := c.storages[key]; ok {
		if st.typ != typ || st.numel != numel {
			return nil, corrupt("storage %q is named as %d %s elements and as %d %s elements", key, st.numel, st.typ.name, numel, typ.name)
		}
		return st, nil
	}
	st := &storage{key: key, typ: typ, numel: numel}
	c.storages[key] = st
	return st, nil
}

// persistentID decodes a storage's persistent id: ("storage", class, key,
// location, numel) in the zip format, with a sixth view_metadata (which
// must be None) in the legacy format.
func (c *Checkpoint) persistentID(legacy bool) func(any) (any, error) {
	return func(pid any) (any, error) {
		t, ok := pid.(Tuple)
		want := 5
		if legacy {
			want = 6
		}
		if !ok || len(t) != want {
			return nil, corrupt("persistent id %v: want a %d-tuple (\"storage\", class, key, location, numel)", describe(pid), want)
		}
		if s, _ := t[0].(string); s != "storage" {
			return nil, corrupt("persistent id of kind %v: only storages are supported", describe(t[0]))
		}
		typ, ok := t[1].(storageType)
		if !ok {
			return nil, corrupt("persistent id with storage class %v, want a torch.*Storage", describe(t[1]))
		}
		key, ok := t[2].(string)
		if !ok || key == "" {
			return nil, corrupt("persistent id with storage key %v, want a string", describe(t[2]))
		}
		if _, ok := t[3].(string); !ok {
			return nil, corrupt("storage %q: location %v, want a string", key, describe(t[3]))
		}
		numel, ok := t[4].(int64)
		if !ok {
			return nil, corrupt("storage %q: element count %v, want an int", key, describe(t[4]))
		}
		if legacy && t[5] != nil {
			return nil, corrupt("storage %q is a view of another storage (legacy view metadata), which is not supported", key)
		}
		return c.storageOf(key, typ, numel)
	}
}

// describe prints a value briefly for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 64 {
			x = x[:64] + "..."
		}
		return strconv.Quote(x)
	case int64, float64, bool:
		return fmt.Sprint(x)
	case Tuple:
		return fmt.Sprintf("a %d-tuple", len(x))
	}
	return "a " + typeName(v)
}

// readZip reads the zip format: one top-level folder with data.pkl,
// data/<key> storages and optional byteorder and version records.
func (c *Checkpoint) readZip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && zr == nil {
		return corrupt("zip archive: %v (truncated or damaged file?)", err)
	}
	if len(zr.File) == 0 {
		return corrupt("zip archive holds no records")
	}
	prefix, _, ok := strings.Cut(zr.File[0].Name, "/")
	if !ok || prefix == "" {
		return corrupt("zip record %q is not inside a top-level folder", zr.File[0].Name)
	}
	prefix += "/"
	var pkl *zip.File
	seen := map[string]bool{}
	for _, f := range zr.File {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok {
			return corrupt("zip records in more than one top-level folder (%q and %q)", prefix, f.Name)
		}
		if seen[name] {
			return corrupt("zip record %q appears twice", f.Name)
		}
		seen[name] = true
		switch {
		case name == "data.pkl":
			pkl = f
		case name == "byteorder":
			b, err := smallRecord(f)
			if err != nil {
				return err
			}
			if s := strings.TrimSpace(string(b)); s != "little" {
				return corrupt("byte order %q: only little-endian checkpoints are supported", s)
			}
		case name == "version" || name == ".data/version":
			b, err := smallRecord(f)
			if err != nil {
				return err
			}
			v, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || v < 1 || v > 10 {
				return corrupt("format version %q in %s: want an integer from 1 to 10", strings.TrimSpace(string(b)), f.Name)
			}
		case strings.HasPrefix(name, "data/"):
			key := strings.TrimPrefix(name, "data/")
			if f.Method != zip.Store {
				return corrupt("storage record %s is compressed (method %d); torch.save stores storages uncompressed", f.Name, f.Method)
			}
			if f.CompressedSize64 != f.UncompressedSize64 {
				return corrupt("storage record %s: stored size %d differs from its size %d", f.Name, f.CompressedSize64, f.UncompressedSize64)
			}
			off, err := f.DataOffset()
			if err != nil {
				return corrupt("storage record %s: %v (truncated file?)", f.Name, err)
			}
			n := f.UncompressedSize64
			if off < 0 || n > uint64(size) || off > size-int64(n) {
				return corrupt("storage record %s of %d bytes at offset %d runs past the end of the %d-byte file (truncated?)", f.Name, n, off, size)
			}
			c.records[key] = record{off: off, size: int64(n), crc: f.CRC32, hasCRC: true}
		}
	}
	if pkl == nil {
		return corrupt("zip archive has no %sdata.pkl record", prefix)
	}
	if pkl.UncompressedSize64 > maxPickle {
		return corrupt("%s of %d bytes exceeds %d", pkl.Name, pkl.UncompressedSize64, maxPickle)
	}
	rc, err := pkl.Open()
	if err != nil {
		return corrupt("%s: %v", pkl.Name, err)
	}
	defer rc.Close()
	// zip's reader checks the size and CRC-32 of data.pkl as it is read.
	buf, err := io.ReadAll(io.LimitReader(rc, int64(pkl.UncompressedSize64)+1))
	if err != nil {
		return corrupt("%s: %v (truncated file?)", pkl.Name, err)
	}
	s := newStream(bytes.NewReader(buf), int64(len(buf)))
	root, err := newUnpickler(s, c.persistentID(false)).load()
	if err != nil {
		return fmt.Errorf("%s: %w", pkl.Name, err)
	}
	if s.left != 0 {
		return corrupt("%s has %d bytes after its STOP", pkl.Name, s.left)
	}
	c.Root = root
	for key, st := range c.storages {
		rec, ok := c.records[key]
		if !ok {
			return corrupt("storage %q has no record %sdata/%s in the archive", key, prefix, key)
		}
		if want := st.numel * int64(st.typ.size); rec.size != want {
			return corrupt("storage %q: record %sdata/%s holds %d bytes, but %d %s elements need %d",
				key, prefix, key, rec.size, st.numel, st.typ.name, want)
		}
	}
	return nil
}

// smallRecord reads a record of at most a few bytes.
func smallRecord(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > 64 {
		return nil, corrupt("record %s of %d bytes, want a few", f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, corrupt("%s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 65))
	if err != nil {
		return nil, corrupt("%s: %v", f.Name, err)
	}
	return b, nil
}

// readLegacy reads the legacy format: magic number, protocol version and
// system information pickles, the object pickle, the pickled list of
// storage keys, then every storage as an 8-byte element count and its
// bytes.
func (c *Checkpoint) readLegacy(r io.ReaderAt, size int64) error {
	s := newStream(io.NewSectionReader(r, 0, size), size)
	head, err := s.bytes(int64(len(legacyMagic))+1, "magic number")
	if err != nil {
		return err
	}
	if head[len(head)-1] != opStop {
		return corrupt("legacy magic number is not followed by STOP")
	}
	proto, err := newUnpickler(s, nil).load()
	if err != nil {
		return fmt.Errorf("legacy protocol record: %w", err)
	}
	if p, _ := proto.(int64); p != legacyProtocol {
		return corrupt("legacy protocol version %v, want %d", describe(proto), legacyProtocol)
	}
	info, err := newUnpickler(s, nil).load()
	if err != nil {
		return fmt.Errorf("legacy system information: %w", err)
	}
	if d, ok := info.(*Dict); ok {
		if le, ok := d.Get("little_endian"); ok && le != true {
			return corrupt("legacy checkpoint written on a big-endian machine: only little-endian checkpoints are supported")
		}
	} else {
		return corrupt("legacy system information is a %s, want a dict", typeName(info))
	}
	root, err := newUnpickler(s, c.persistentID(true)).load()
	if err != nil {
		return fmt.Errorf("legacy object: %w", err)
	}
	keys, err := newUnpickler(s, nil).load()
	if err != nil {
		return fmt.Errorf("legacy storage keys: %w", err)
	}
	list, ok := keys.(*List)
	if !ok {
		return corrupt("legacy storage keys are a %s, want a list", typeName(keys))
	}
	pos := s.pos
	listed := map[string]bool{}
	for _, k := range list.Items {
		key, ok := k.(string)
		if !ok {
			return corrupt("legacy storage key %v, want a string", describe(k))
		}
		if listed[key] {
			return corrupt("legacy storage %q is listed twice", key)
		}
		listed[key] = true
		st, ok := c.storages[key]
		if !ok {
			return corrupt("legacy storage %q is listed but no tensor uses it, so its element size is unknown", key)
		}
		var cnt [8]byte
		if pos > size-8 {
			return corrupt("legacy storage %q: its element count at offset %d is past the end of the %d-byte file (truncated?)", key, pos, size)
		}
		if _, err := r.ReadAt(cnt[:], pos); err != nil {
			return corrupt("legacy storage %q: %v", key, err)
		}
		n := int64(binary.LittleEndian.Uint64(cnt[:]))
		if n != st.numel {
			return corrupt("legacy storage %q holds %d elements, but its persistent id says %d", key, n, st.numel)
		}
		bytes := st.numel * int64(st.typ.size)
		if bytes < 0 || pos+8 > size-bytes {
			return corrupt("legacy storage %q of %d bytes at offset %d runs past the end of the %d-byte file (truncated?)", key, bytes, pos+8, size)
		}
		c.records[key] = record{off: pos + 8, size: bytes}
		pos += 8 + bytes
	}
	for key := range c.storages {
		if !listed[key] {
			return corrupt("legacy storage %q is used but not in the list of storage keys", key)
		}
	}
	c.Root = root
	return nil
}
