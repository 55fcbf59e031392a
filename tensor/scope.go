package tensor

import (
	"fmt"
	"path"
	"runtime"
	"strings"
)

// Scope owns the tensors made on one device while it is that device's
// innermost open scope, and frees them all at Close. Scopes nest: each
// device keeps a stack of open scopes, and a tensor created (by an
// operation, a view or a copy) while the stack is not empty belongs to the
// scope on top. A tensor created while no scope is open belongs to
// whoever holds it, who frees it with Release.
//
// A device's scopes belong to the goroutine that drives the device: open,
// use and close them on that goroutine only.
type Scope struct {
	dev    Backend
	parent *Scope
	owned  []*Tensor // nil entries were released or kept
	label  string
	pc     uintptr // where the scope was opened
	open   bool
	// freshSlab and viewSlab hold headers not yet used for the tensors
	// and views made in the scope: they are allocated a slab at a time,
	// so that a graph's step makes a few allocations for its hundreds of
	// tensors. A header is never reused (a stale pointer to a freed tensor
	// keeps failing loudly); the collector frees a slab once none of its
	// tensors is referenced.
	freshSlab []fresh
	viewSlab  []Tensor
	slab      int // the size of the next slab
	// intSlab, partSlab and sumPartSlab hold what launches read and
	// backends may keep a reference to: the strides of broadcast operands,
	// the parts of row copies (ConcatInto, SplitCopies) and of sums
	// (SumToEach). Like headers, never reused.
	intSlab     []int
	partSlab    []RowsPart
	sumPartSlab []SumPart
}

// Slab sizes: the first slab of a scope is small, so that a scope made
// for one temporary stays cheap, and they double up to maxSlab.
const (
	minSlab = 4
	maxSlab = 256
)

// nextSlab is the size of s's next slab.
func (s *Scope) nextSlab() int {
	s.slab = min(max(2*s.slab, minSlab), maxSlab)
	return s.slab
}

// newFresh returns the header of a new tensor and its storage reference:
// from s's slab, or allocated alone for a nil scope.
func (s *Scope) newFresh() *fresh {
	if s == nil {
		return new(fresh)
	}
	return fromSlab(s, &s.freshSlab)
}

// newView returns the header of a new view, as newFresh does.
func (s *Scope) newView() *Tensor {
	if s == nil {
		return new(Tensor)
	}
	return fromSlab(s, &s.viewSlab)
}

// intSlabSize is the number of ints in one slab of a scope's intSlab.
const intSlabSize = 256

// ints returns n ints from s's int slab, or new ones for a nil scope or a
// long request.
func (s *Scope) ints(n int) []int {
	if s == nil || n > intSlabSize/4 {
		return make([]int, n)
	}
	if len(s.intSlab) < n {
		s.intSlab = make([]int, intSlabSize)
	}
	r := s.intSlab[:n:n]
	s.intSlab = s.intSlab[n:]
	return r
}

// rowsParts returns room for MaxConcatParts parts of a rows launch from
// s's part slab, or new room for a nil scope.
func (s *Scope) rowsParts() []RowsPart {
	if s == nil {
		return make([]RowsPart, MaxConcatParts)
	}
	if len(s.partSlab) < MaxConcatParts {
		s.partSlab = make([]RowsPart, 32*MaxConcatParts)
	}
	r := s.partSlab[:MaxConcatParts:MaxConcatParts]
	s.partSlab = s.partSlab[MaxConcatParts:]
	return r
}

// sumParts returns room for MaxSumParts parts of a SumInto launch from
// s's slab, or new room for a nil scope.
func (s *Scope) sumParts() []SumPart {
	if s == nil {
		return make([]SumPart, 0, MaxSumParts)
	}
	if len(s.sumPartSlab) < MaxSumParts {
		s.sumPartSlab = make([]SumPart, 32*MaxSumParts)
	}
	r := s.sumPartSlab[:0:MaxSumParts]
	s.sumPartSlab = s.sumPartSlab[MaxSumParts:]
	return r
}

// fromSlab takes the first unused element of one of s's slabs, starting a
// new slab when it is used up.
func fromSlab[T any](s *Scope, slab *[]T) *T {
	if len(*slab) == 0 {
		*slab = make([]T, s.nextSlab())
	}
	p := &(*slab)[0]
	*slab = (*slab)[1:]
	return p
}

// NewScope opens a scope on device b; it becomes b's innermost scope until
// Close.
//
//	s := tensor.NewScope(dev)
//	defer s.Close()
//	y := ... // temporaries and y belong to s
//	s.Keep(y) // y outlives s: it now belongs to the enclosing scope
func NewScope(b Backend) *Scope { return OpenScope(b, "scope", 1) }

// OpenScope is NewScope for a type that owns a scope on behalf of its
// caller, such as an autograd graph: label names the owner in messages,
// and skip is the number of its own frames to skip, so that messages name
// the caller's line (0 names OpenScope's caller).
func OpenScope(b Backend, label string, skip int) *Scope {
	if b == nil {
		panic("tensor: NewScope on a nil device")
	}
	var pcs [1]uintptr
	runtime.Callers(2+skip, pcs[:])
	st := stackOf(b)
	s := &Scope{dev: b, parent: st.top, label: label, pc: pcs[0], open: true, owned: st.takeSlice()}
	st.top = s
	return s
}

// Reopen opens a closed scope again on its device, as if opened anew at
// the same place, so that a loop opening a scope per iteration can reuse
// one. Reopening an open scope panics.
func (s *Scope) Reopen() {
	if s == nil || s.open {
		panic(fmt.Sprintf("tensor: Reopen of %s, which is open", s))
	}
	st := stackOf(s.dev)
	s.parent, s.open, s.owned = st.top, true, st.takeSlice()
	st.top = s
}

// Close frees every tensor the scope still owns and makes its parent the
// innermost scope again. Closing a scope that is not the innermost open
// one panics (close inner scopes first); closing it twice does nothing.
func (s *Scope) Close() {
	if s == nil || !s.open {
		return
	}
	st := stackOf(s.dev)
	if st.top != s {
		panic(fmt.Sprintf("tensor: Close of %s while %s, opened inside it, is still open", s, st.top))
	}
	st.top = s.parent
	s.open = false
	for i := len(s.owned) - 1; i >= 0; i-- {
		t := s.owned[i]
		if t == nil {
			continue
		}
		t.owner = nil
		t.closedIn = s.pc
		t.free()
	}
	st.putSlice(s.owned)
	s.owned = nil
}

// Keep moves tensors that s owns to the scope that encloses s, or, when s
// is outermost, to the caller, who then frees them with Release. Tensors
// that already outlive s (owned by an enclosing scope, or by nobody) are
// left alone; a tensor owned by any other scope panics.
func (s *Scope) Keep(ts ...*Tensor) {
	s.mustBeOpen("Keep")
	for _, t := range ts {
		if t == nil {
			continue
		}
		switch {
		case t.owner == s:
			s.disown(t)
			if s.parent != nil {
				s.parent.adopt(t)
			}
		case t.owner == nil || s.encloses(t.owner):
		default:
			panic(fmt.Sprintf("tensor: Keep of %v owned by %s into %s", t, t.owner, s))
		}
	}
}

// Innermost returns device b's innermost open scope, or nil when none is
// open.
func Innermost(b Backend) *Scope { return innermost(b) }

// Innermost reports whether s is its device's innermost open scope.
func (s *Scope) Innermost() bool { return s != nil && s.open && innermost(s.dev) == s }

// Owns reports whether s owns t.
func (s *Scope) Owns(t *Tensor) bool { return t != nil && t.owner == s }

// Len is the number of tensors the scope owns.
func (s *Scope) Len() int {
	n := 0
	for _, t := range s.owned {
		if t != nil {
			n++
		}
	}
	return n
}

// String names the scope by its label and where it was opened.
func (s *Scope) String() string {
	if s == nil {
		return "no scope"
	}
	return s.label + " opened at " + site(s.pc)
}

// Escape takes tensors out of the scope that owns them: they outlive every
// scope, and whoever holds them frees them with Release. It is for the
// long-lived state an object owns (parameter gradients, optimiser moments,
// caches) when that state is made inside a scope.
func Escape(ts ...*Tensor) {
	for _, t := range ts {
		if t == nil || t.owner == nil {
			continue
		}
		t.owner.disown(t)
	}
}

// adopt makes s the owner of t.
func (s *Scope) adopt(t *Tensor) {
	t.owner, t.slot = s, len(s.owned)
	s.owned = append(s.owned, t)
}

// disown removes t from s, leaving it with no owner.
func (s *Scope) disown(t *Tensor) {
	s.owned[t.slot] = nil
	t.owner = nil
	// Drop trailing holes so that a scope that creates and releases
	// temporaries in a loop does not grow.
	for n := len(s.owned); n > 0 && s.owned[n-1] == nil; n-- {
		s.owned = s.owned[:n-1]
	}
}

// encloses reports whether o is s or a scope that s is nested in.
func (s *Scope) encloses(o *Scope) bool {
	for p := s; p != nil; p = p.parent {
		if p == o {
			return true
		}
	}
	return false
}

func (s *Scope) mustBeOpen(op string) {
	if s == nil {
		panic(fmt.Sprintf("tensor: %s on a nil scope", op))
	}
	if !s.open {
		panic(fmt.Sprintf("tensor: %s on %s, which is closed", op, s))
	}
}

// site formats a program counter as package/file.go:line (for example
// sargo/sar/train/loop.go:147).
func site(pc uintptr) string {
	if pc == 0 {
		return "an unknown place"
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	pkg := f.Function
	if slash := strings.LastIndexByte(pkg, '/'); slash >= 0 {
		if dot := strings.IndexByte(pkg[slash:], '.'); dot >= 0 {
			pkg = pkg[:slash+dot]
		}
	} else if dot := strings.IndexByte(pkg, '.'); dot >= 0 {
		pkg = pkg[:dot]
	}
	pkg = strings.TrimSuffix(pkg, "_test") // an external test package
	return fmt.Sprintf("%s/%s:%d", pkg, path.Base(f.File), f.Line)
}
