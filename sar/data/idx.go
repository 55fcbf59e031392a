package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"sargo/internal/regfile"
)

// IDX is the file format of MNIST (LeCun et al.): a 4-byte magic number
// whose third byte is the element type (0x08 for unsigned bytes) and whose
// fourth is the number of axes, then one big-endian uint32 per axis, then
// the elements in row-major order.

// IDXArray is the content of an IDX file of unsigned bytes.
type IDXArray struct {
	Shape []int
	Data  []byte
}

// maxIDXElements bounds what a header may claim before anything is read,
// so a corrupt header cannot ask for gigabytes.
const maxIDXElements = 1 << 30

// ReadIDX parses an IDX stream of unsigned bytes.
func ReadIDX(r io.Reader) (*IDXArray, error) { return readIDX(r, nil) }

// readIDX parses an IDX stream, calling check (when set) with the shape
// its header declares before any data are read, so that a caller can
// refuse a shape it cannot hold before the memory is taken.
func readIDX(r io.Reader, check func(shape []int) error) (*IDXArray, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("idx: reading magic: %w", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("idx: bad magic %x: the first two bytes must be zero", magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("idx: element type 0x%02x not supported (want 0x08, unsigned byte)", magic[2])
	}
	rank := int(magic[3])
	if rank == 0 || rank > 4 {
		return nil, fmt.Errorf("idx: %d axes not supported (want 1 to 4)", rank)
	}
	shape := make([]int, rank)
	n := 1
	for i := range shape {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("idx: reading size of axis %d: %w", i, err)
		}
		shape[i] = int(d)
		n *= int(d)
		if n > maxIDXElements {
			return nil, fmt.Errorf("idx: shape %v is larger than %d elements", shape[:i+1], maxIDXElements)
		}
	}
	if check != nil {
		if err := check(shape); err != nil {
			return nil, fmt.Errorf("idx: shape %v: %w", shape, err)
		}
	}
	// The buffer grows with the data actually read, so a corrupt header
	// claiming a large shape over a short stream allocates little.
	data, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("idx: shape %v needs %d bytes of data: %w", shape, n, err)
	}
	if len(data) < n {
		return nil, fmt.Errorf("idx: shape %v needs %d bytes of data, the stream holds %d: %w", shape, n, len(data), io.ErrUnexpectedEOF)
	}
	return &IDXArray{Shape: shape, Data: data}, nil
}

// ReadIDXFile reads an IDX file, gunzipping it when its name ends in .gz.
// A path that is not a regular file is an error.
func ReadIDXFile(path string) (*IDXArray, error) { return readIDXFile(path, nil) }

// readIDXFile is ReadIDXFile with readIDX's shape check.
func readIDXFile(path string, check func(shape []int) error) (*IDXArray, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	a, err := readIDX(r, check)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
