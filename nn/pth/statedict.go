package pth

import (
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
)

// maxDepth bounds how deep the object tree is searched for state dicts.
const maxDepth = 64

// StateDict is a dict of the checkpoint whose keys are all strings and
// whose values are all tensors: a module's state_dict. Path is where it
// sits in the object tree, the keys joined by dots ("" for the root,
// "trainer.var_wo_ddp" for ckpt["trainer"]["var_wo_ddp"]).
type StateDict struct {
	Path  string
	Names []string
	Refs  []*TensorRef
}

// Elements is the total number of tensor elements.
func (s StateDict) Elements() int64 {
	var n int64
	for _, r := range s.Refs {
		n += r.NumElements()
	}
	return n
}

// Has reports whether the state dict holds a tensor called name.
func (s StateDict) Has(name string) bool {
	for _, n := range s.Names {
		if n == name {
			return true
		}
	}
	return false
}

// asStateDict returns d as a state dict when it is one.
func asStateDict(path string, d *Dict) (StateDict, bool) {
	if d.Len() == 0 {
		return StateDict{}, false
	}
	sd := StateDict{Path: path}
	for i, k := range d.Keys {
		name, ok := k.(string)
		ref, isRef := d.Values[i].(*TensorRef)
		if !ok || !isRef {
			return StateDict{}, false
		}
		sd.Names = append(sd.Names, name)
		sd.Refs = append(sd.Refs, ref)
	}
	return sd, true
}

// keyText is how a dict key appears in a path.
func keyText(k any) string {
	switch v := k.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(k)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// StateDicts lists every state dict in the object tree, the root first,
// then in the order of the tree. The search stops maxDepth levels deep and
// visits every container once, so cyclic pickles terminate.
func (c *Checkpoint) StateDicts() []StateDict {
	var out []StateDict
	seen := map[any]bool{}
	var walk func(v any, path string, depth int)
	walk = func(v any, path string, depth int) {
		if depth > maxDepth {
			return
		}
		switch x := v.(type) {
		case *Dict:
			if seen[x] {
				return
			}
			seen[x] = true
			if sd, ok := asStateDict(path, x); ok {
				out = append(out, sd)
				return
			}
			for i, k := range x.Keys {
				walk(x.Values[i], join(path, keyText(k)), depth+1)
			}
		case *List:
			if seen[x] {
				return
			}
			seen[x] = true
			for i, item := range x.Items {
				walk(item, join(path, strconv.Itoa(i)), depth+1)
			}
		case Tuple:
			for i, item := range x {
				walk(item, join(path, strconv.Itoa(i)), depth+1)
			}
		}
	}
	walk(c.Root, "", 0)
	return out
}

// Lookup returns the value at a dotted path ("" is the root). Since keys
// may themselves hold dots, each step takes the longest prefix of the
// rest of the path that is a key of the current dict.
func (c *Checkpoint) Lookup(path string) (any, error) {
	v := c.Root
	rest := path
	for depth := 0; rest != ""; depth++ {
		if depth > maxDepth {
			return nil, fmt.Errorf("key %q: deeper than %d levels", path, maxDepth)
		}
		next, remain, ok := step(v, rest)
		if !ok {
			done := strings.TrimSuffix(strings.TrimSuffix(path, rest), ".")
			return nil, fmt.Errorf("key %q: %s has no entry %q (it holds %s)", path, where(done), firstSegment(rest), entries(v))
		}
		v, rest = next, remain
	}
	return v, nil
}

func where(path string) string {
	if path == "" {
		return "the checkpoint's root"
	}
	return strconv.Quote(path)
}

func firstSegment(p string) string {
	s, _, _ := strings.Cut(p, ".")
	return s
}

// step descends one level of a path into v.
func step(v any, rest string) (any, string, bool) {
	cuts := []int{len(rest)}
	for i := len(rest) - 1; i > 0; i-- {
		if rest[i] == '.' {
			cuts = append(cuts, i)
		}
	}
	for _, i := range cuts {
		seg, remain := rest[:i], strings.TrimPrefix(rest[i:], ".")
		switch x := v.(type) {
		case *Dict:
			if val, ok := x.Get(seg); ok {
				return val, remain, true
			}
			if n, err := strconv.ParseInt(seg, 10, 64); err == nil {
				if val, ok := x.Get(n); ok {
					return val, remain, true
				}
			}
		case *List, Tuple:
			items := []any(nil)
			if l, ok := x.(*List); ok {
				items = l.Items
			} else {
				items = x.(Tuple)
			}
			if n, err := strconv.Atoi(seg); err == nil && n >= 0 && n < len(items) {
				return items[n], remain, true
			}
		}
	}
	return nil, "", false
}

// entries summarises what a container holds, for error messages.
func entries(v any) string {
	switch x := v.(type) {
	case *Dict:
		var ks []string
		for i, k := range x.Keys {
			if i == 8 {
				ks = append(ks, fmt.Sprintf("... %d more", x.Len()-8))
				break
			}
			ks = append(ks, strconv.Quote(keyText(k)))
		}
		return "keys " + strings.Join(ks, ", ")
	case *List:
		return fmt.Sprintf("a list of %d", len(x.Items))
	case Tuple:
		return fmt.Sprintf("a tuple of %d", len(x))
	}
	return "a " + typeName(v)
}

// Find selects the state dict to load. With a key, it is the dict at that
// path. Without one it is the only state dict holding every name of want
// (every state dict when want is empty), or the root when the root is one
// of several; otherwise the error lists the candidates.
func (c *Checkpoint) Find(key string, want ...string) (StateDict, error) {
	if key != "" {
		v, err := c.Lookup(key)
		if err != nil {
			return StateDict{}, err
		}
		d, ok := v.(*Dict)
		if !ok {
			return StateDict{}, fmt.Errorf("key %q holds a %s, not a state dict", key, typeName(v))
		}
		sd, ok := asStateDict(key, d)
		if !ok {
			return StateDict{}, fmt.Errorf("key %q holds a dict that is not a state dict (string keys and tensor values)", key)
		}
		return sd, nil
	}
	all := c.StateDicts()
	var fit []StateDict
	for _, sd := range all {
		ok := true
		for _, w := range want {
			if !sd.Has(w) {
				ok = false
				break
			}
		}
		if ok {
			fit = append(fit, sd)
		}
	}
	switch {
	case len(fit) == 1:
		return fit[0], nil
	case len(fit) > 1 && fit[0].Path == "":
		return fit[0], nil
	case len(all) == 0:
		return StateDict{}, fmt.Errorf("no state dict (a dict of named tensors) in the checkpoint; it holds %s", entries(c.Root))
	case len(fit) == 0:
		return StateDict{}, fmt.Errorf("no state dict holds %s; the checkpoint's state dicts are %s", strings.Join(want, ", "), summary(all))
	}
	return StateDict{}, fmt.Errorf("%d state dicts fit (%s): choose one with a key", len(fit), summary(fit))
}

// summary lists state dicts by path and size, largest first, at most 8.
func summary(sds []StateDict) string {
	s := append([]StateDict(nil), sds...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Elements() > s[j].Elements() })
	var parts []string
	for i, sd := range s {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("... %d more", len(s)-8))
			break
		}
		p := sd.Path
		if p == "" {
			p = "(root)"
		}
		parts = append(parts, fmt.Sprintf("%q: %d tensors, %d elements", p, len(sd.Refs), sd.Elements()))
	}
	return strings.Join(parts, "; ")
}

// Tensors reads the tensors of a state dict, each storage once (its CRC-32
// checked in the zip format), and returns them contiguous in the dict's
// order.
func (c *Checkpoint) Tensors(sd StateDict) ([]Tensor, error) {
	uses := map[*storage]int{}
	for _, r := range sd.Refs {
		uses[r.storage]++
	}
	cache := map[*storage][]byte{}
	out := make([]Tensor, len(sd.Refs))
	for i, r := range sd.Refs {
		data, ok := cache[r.storage]
		if !ok {
			var err error
			if data, err = c.storageBytes(r.storage); err != nil {
				return nil, fmt.Errorf("tensor %q: %w", sd.Names[i], err)
			}
			cache[r.storage] = data
		}
		uses[r.storage]--
		raw := data
		if uses[r.storage] > 0 || !r.whole() {
			raw = r.gather(data)
		}
		out[i] = Tensor{Name: sd.Names[i], DType: r.storage.typ.dtype, Shape: r.Shape(), Raw: raw}
		if uses[r.storage] == 0 {
			delete(cache, r.storage)
		}
	}
	return out, nil
}

// storageBytes reads one storage's bytes.
func (c *Checkpoint) storageBytes(st *storage) ([]byte, error) {
	rec, ok := c.records[st.key]
	if !ok {
		return nil, corrupt("storage %q has no data", st.key)
	}
	buf := make([]byte, rec.size)
	if _, err := c.src.ReadAt(buf, rec.off); err != nil && rec.size > 0 { // an io.ReaderAt may report EOF for no bytes at the end
		return nil, corrupt("storage %q: %v (truncated file?)", st.key, err)
	}
	if rec.hasCRC {
		if got := crc32.ChecksumIEEE(buf); got != rec.crc {
			return nil, corrupt("storage %q: CRC-32 %08x, the archive says %08x (damaged file)", st.key, got, rec.crc)
		}
	}
	return buf, nil
}

// gather copies the view's elements out of its storage's bytes in
// row-major order.
func (r *TensorRef) gather(data []byte) []byte {
	es := int64(r.storage.typ.size)
	n := r.NumElements()
	out := make([]byte, n*es)
	if n == 0 {
		return out
	}
	if r.contiguous() {
		copy(out, data[r.offset*es:(r.offset+n)*es])
		return out
	}
	idx := make([]int, len(r.shape))
	for k := int64(0); k < n; k++ {
		src := r.offset
		for d, i := range idx {
			src += int64(i) * r.stride[d]
		}
		copy(out[k*es:(k+1)*es], data[src*es:(src+1)*es])
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < r.shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// whole reports whether the view is its whole storage, in order (then its
// bytes are the storage's, and need no copy when nothing else uses them).
func (r *TensorRef) whole() bool {
	return r.offset == 0 && r.NumElements() == r.storage.numel && r.contiguous()
}

// contiguous reports whether the view is row-major without gaps
// (dimensions of size 1 may have any stride).
func (r *TensorRef) contiguous() bool {
	want := int64(1)
	for d := len(r.shape) - 1; d >= 0; d-- {
		if r.shape[d] != 1 && r.stride[d] != want {
			return false
		}
		want *= int64(r.shape[d])
	}
	return true
}
