package tensor

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// The device registry is the one piece of global mutable state in sargo:
// backends register an opener under a name prefix ("cpu", "vulkan") from an
// init function, devices are opened once and shared, and each device's
// stack of open scopes is kept here.

// Opener opens the device with the given index of one backend kind.
type Opener func(index int) (Backend, error)

var registry = struct {
	sync.Mutex
	openers map[string]Opener
	open    map[string]Backend
}{openers: map[string]Opener{}, open: map[string]Backend{}}

// Register makes a backend kind available under name. It panics if the
// name is taken, as registering twice is a programming error.
func Register(name string, open Opener) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.openers[name]; dup {
		panic("tensor: backend registered twice: " + name)
	}
	registry.openers[name] = open
}

// Kinds lists the registered backend kinds, sorted.
func Kinds() []string {
	registry.Lock()
	defer registry.Unlock()
	var ks []string
	for k := range registry.openers {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// DeviceFromEnv returns the device named by SARGO_DEVICE, or "cpu".
func DeviceFromEnv() string {
	if d := os.Getenv("SARGO_DEVICE"); d != "" {
		return d
	}
	return "cpu"
}

// Open returns the device named name ("cpu", "vulkan", "vulkan:1"),
// opening it on first use. An empty name means DeviceFromEnv().
func Open(name string) (Backend, error) {
	if name == "" {
		name = DeviceFromEnv()
	}
	kind, index, err := parseDeviceName(name)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s:%d", kind, index)
	registry.Lock()
	defer registry.Unlock()
	if b, ok := registry.open[key]; ok {
		return b, nil
	}
	open, ok := registry.openers[kind]
	if !ok {
		var ks []string
		for k := range registry.openers {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return nil, fmt.Errorf("unknown device %q: known kinds are %s (write KIND or KIND:N)", name, strings.Join(ks, ", "))
	}
	b, err := open(index)
	if err != nil {
		return nil, fmt.Errorf("open device %q: %w", name, err)
	}
	registry.open[key] = b
	return b, nil
}

// MustOpen is Open for tests and examples; it panics on error.
func MustOpen(name string) Backend {
	b, err := Open(name)
	if err != nil {
		panic(err)
	}
	return b
}

func parseDeviceName(name string) (kind string, index int, err error) {
	kind, idx, hasIdx := strings.Cut(strings.TrimSpace(name), ":")
	if kind == "" {
		return "", 0, fmt.Errorf("invalid device name %q: empty kind", name)
	}
	if hasIdx {
		if _, err := fmt.Sscanf(idx, "%d", &index); err != nil || index < 0 || fmt.Sprint(index) != idx {
			return "", 0, fmt.Errorf("invalid device name %q: index %q is not a non-negative integer", name, idx)
		}
	}
	return kind, index, nil
}

// scopes holds the stack of open scopes of every device that has had one.
// Backends are pointer types, so a Backend is a valid map key.
var scopes = struct {
	sync.Mutex
	of map[Backend]*scopeStack
}{of: map[Backend]*scopeStack{}}

// scopeStack is one device's open scopes, and the owned-lists of closed
// scopes kept for reuse so that opening a scope allocates little.
type scopeStack struct {
	top   *Scope
	spare [][]*Tensor
}

// stackOf returns b's scope stack, making it on first use.
func stackOf(b Backend) *scopeStack {
	scopes.Lock()
	defer scopes.Unlock()
	st := scopes.of[b]
	if st == nil {
		st = &scopeStack{}
		scopes.of[b] = st
	}
	return st
}

// innermost is b's innermost open scope, or nil.
func innermost(b Backend) *Scope {
	scopes.Lock()
	defer scopes.Unlock()
	if st := scopes.of[b]; st != nil {
		return st.top
	}
	return nil
}

// maxSpare bounds the owned-lists a stack keeps for reuse.
const maxSpare = 8

func (st *scopeStack) takeSlice() []*Tensor {
	if n := len(st.spare); n > 0 {
		s := st.spare[n-1]
		st.spare = st.spare[:n-1]
		return s
	}
	return nil
}

func (st *scopeStack) putSlice(s []*Tensor) {
	if cap(s) == 0 || len(st.spare) >= maxSpare {
		return
	}
	clear(s)
	st.spare = append(st.spare, s[:0])
}
