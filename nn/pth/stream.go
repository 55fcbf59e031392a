package pth

import (
	"fmt"
	"hash/crc32"
)

// StreamTensor reads the tensor of r in row-major pieces, each read into
// buf (as many whole elements as it holds, at least one), and calls fn
// with each piece's bytes, in the storage's dtype, and the index of its
// first element; the bytes are valid only during the call. A view that is its whole storage is read piece by piece, so that
// no more than one piece is held whatever the tensor's size (its CRC-32
// in the zip format is checked after the last piece: on a damaged file fn
// has seen the damaged bytes and StreamTensor returns the error); any
// other view is read with its storage and gathered, as Tensors does.
func (c *Checkpoint) StreamTensor(r *TensorRef, buf []byte, fn func(raw []byte, first int64) error) error {
	if !r.whole() {
		data, err := c.storageBytes(r.storage)
		if err != nil {
			return err
		}
		return fn(r.gather(data), 0)
	}
	rec, ok := c.records[r.storage.key]
	if !ok {
		return corrupt("storage %q has no data", r.storage.key)
	}
	es := int64(r.storage.typ.size)
	if n := r.NumElements(); n*es != rec.size {
		return corrupt("storage %q holds %d bytes, %d elements of %s need %d", r.storage.key, rec.size, n, r.storage.typ.dtype, n*es)
	}
	step := max(int64(len(buf))/es, 1) * es
	if int64(len(buf)) < min(step, rec.size) {
		buf = make([]byte, min(step, rec.size))
	}
	var sum uint32
	for off := int64(0); off < rec.size; off += step {
		b := buf[:min(step, rec.size-off)]
		if _, err := c.src.ReadAt(b, rec.off+off); err != nil {
			return corrupt("storage %q: %v (truncated file?)", r.storage.key, err)
		}
		if rec.hasCRC {
			sum = crc32.Update(sum, crc32.IEEETable, b)
		}
		if err := fn(b, off/es); err != nil {
			return fmt.Errorf("storage %q: %w", r.storage.key, err)
		}
	}
	if rec.hasCRC && sum != rec.crc {
		return corrupt("storage %q: CRC-32 %08x, the archive says %08x (damaged file)", r.storage.key, sum, rec.crc)
	}
	return nil
}
