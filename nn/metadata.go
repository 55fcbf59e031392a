package nn

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"sargo/internal/regfile"
)

// ReadSafetensorsMetadata reads only the header of the safetensors file
// at path and returns its __metadata__ map (nil when it has none), so
// that a checkpoint's configuration can be checked before its weights
// are read. A header longer than the file or than MaxSafetensorsHeader,
// and a path that is not a regular file, are errors.
func ReadSafetensorsMetadata(path string) (map[string]string, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("%s: header length: %w", path, err)
	}
	if n > MaxSafetensorsHeader || n > uint64(st.Size())-8 {
		return nil, corrupt("%s: header of %d bytes in a file of %d bytes", path, n, st.Size())
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	var hdr struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(buf, &hdr); err != nil {
		return nil, corrupt("%s: header: %v", path, err)
	}
	return hdr.Meta, nil
}
