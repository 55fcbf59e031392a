package nn

import (
	"bytes"
	"testing"
)

// FuzzReadSafetensors checks that the reader never panics and that what
// it accepts re-encodes to a file it accepts again with the same tensors.
func FuzzReadSafetensors(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, sampleTensors(), map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:len(buf.Bytes())-3])
	f.Add(rawFile(`{}`, nil))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, []byte{0, 0, 128, 63}))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, '{'})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSafetensors(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteSafetensors(&out, s.Tensors, s.Metadata); err != nil {
			t.Fatalf("re-encode accepted file: %v", err)
		}
		s2, err := ReadSafetensors(out.Bytes())
		if err != nil {
			t.Fatalf("re-read re-encoded file: %v", err)
		}
		if len(s2.Tensors) != len(s.Tensors) {
			t.Fatalf("%d tensors became %d", len(s.Tensors), len(s2.Tensors))
		}
		for i := range s.Tensors {
			if s.Tensors[i].Name != s2.Tensors[i].Name || !bytes.Equal(s.Tensors[i].Raw, s2.Tensors[i].Raw) {
				t.Fatalf("tensor %d changed on round trip", i)
			}
		}
	})
}
