package pth

import (
	"bytes"
	"os"
	"testing"
)

// FuzzRead checks that the reader never panics, never allocates beyond
// what the input justifies, and that every state dict it accepts writes
// out and reads back to the same tensors.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"state.pth", "state_legacy.pth", "state_proto4.pth", "nested.pth"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var buf bytes.Buffer
	if err := Write(&buf, sampleTensors()[:5], WriteOptions{Key: "model"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, sd := range c.StateDicts() {
			ts, err := c.Tensors(sd)
			if err != nil {
				continue
			}
			var out bytes.Buffer
			if err := Write(&out, ts, WriteOptions{}); err != nil {
				// Only names a state dict cannot hold twice are refused.
				continue
			}
			c2, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatalf("re-read written file: %v", err)
			}
			sd2, err := c2.Find("")
			if err != nil {
				t.Fatalf("find in written file: %v", err)
			}
			ts2, err := c2.Tensors(sd2)
			if err != nil {
				t.Fatalf("read written file: %v", err)
			}
			if len(ts2) != len(ts) {
				t.Fatalf("%d tensors became %d", len(ts), len(ts2))
			}
			for i := range ts {
				if ts[i].Name != ts2[i].Name || ts[i].DType != ts2[i].DType || !bytes.Equal(ts[i].Raw, ts2[i].Raw) {
					t.Fatalf("tensor %q changed on round trip", ts[i].Name)
				}
			}
		}
	})
}
