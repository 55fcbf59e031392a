package vulkan

import (
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"sargo/internal/atomicfile"
	"sargo/kernels/gpu"
)

//go:generate go run ./internal/shadergen

//go:embed shaders/*.spv
var shaderFS embed.FS

// pushConstantBytes is the push constant range of every pipeline layout.
const pushConstantBytes = 128

// pipeline is one compute pipeline with its layouts.
type pipeline struct {
	name       string
	handle     uint64
	layout     uint64
	setLayout  uint64
	tmpl       uint64 // the layout's push descriptor update template, 0 without one
	nbuf       int
	dispatches uint64 // recorded so far (Counters.ByShader sums them by name)
}

// layoutPair is the set and pipeline layouts of one binding count, and
// its push descriptor update template (0 without one).
type layoutPair struct{ set, layout, tmpl uint64 }

// pipelines creates pipelines lazily, caching them per (shader,
// specialization constants), and persists the driver's pipeline cache.
type pipelines struct {
	dev       *device
	push      bool // set layouts for push descriptors
	cache     uint64
	cachePath string
	modules   map[string]uint64
	layouts   map[int]layoutPair
	byKey     map[pipelineKey]*pipeline
	added     map[string][]byte // modules given to AddShader, by name
}

// maxSpec is the most specialization constants one launch may pass.
const maxSpec = gpu.MaxSpec

// pipelineKey identifies a pipeline: shader, specialization constants and
// binding count. It is a comparable value so a lookup allocates nothing.
type pipelineKey struct {
	name     string
	spec     [maxSpec]uint32
	nspec    int
	nbuf     int
	subgroup uint32 // required subgroup size, 0 for the device's own
}

func newPipelines(dev *device, info DeviceInfo, en deviceFeatures) *pipelines {
	p := &pipelines{dev: dev, push: en.PushDescriptor, modules: map[string]uint64{}, layouts: map[int]layoutPair{},
		byKey: map[pipelineKey]*pipeline{}, added: map[string][]byte{}}
	var data []byte
	if dir, err := os.UserCacheDir(); err == nil {
		p.cachePath = filepath.Join(dir, "sargo", "vulkan-pipelines-"+hex.EncodeToString(info.UUID[:])+".bin")
		data, _ = os.ReadFile(p.cachePath) // a missing cache is normal
	}
	if c, err := dev.createPipelineCache(data); err == nil {
		p.cache = c
	}
	return p
}

// get returns the pipeline of shader name specialised with spec, with
// the required subgroup size subgroup (0: the device's own), and whether
// it was created by this call.
func (p *pipelines) get(name string, spec []uint32, nbuf int, subgroup uint32) (*pipeline, bool, error) {
	if len(spec) > maxSpec {
		return nil, false, fmt.Errorf("%d specialization constants exceed %d", len(spec), maxSpec)
	}
	key := pipelineKey{name: name, nspec: len(spec), nbuf: nbuf, subgroup: subgroup}
	copy(key.spec[:], spec)
	if pl := p.byKey[key]; pl != nil {
		return pl, false, nil
	}
	mod, ok := p.modules[name]
	if !ok {
		var err error
		code, ok := p.added[name]
		if !ok {
			if code, err = shaderFS.ReadFile("shaders/" + name + ".spv"); err != nil {
				return nil, false, fmt.Errorf("no embedded or added shader %s.spv: %w", name, err)
			}
		}
		if mod, err = p.dev.createModule(code); err != nil {
			return nil, false, fmt.Errorf("create shader module %s: %w", name, err)
		}
		p.modules[name] = mod
	}
	lp, ok := p.layouts[nbuf]
	if !ok {
		s, l, tm, err := p.dev.createLayouts(uint32(nbuf), pushConstantBytes, p.push)
		if err != nil {
			return nil, false, fmt.Errorf("create pipeline layout for %d buffers: %w", nbuf, err)
		}
		lp = layoutPair{s, l, tm}
		p.layouts[nbuf] = lp
	}
	h, err := p.dev.createPipeline(p.cache, mod, lp.layout, spec, subgroup, 0)
	if err != nil {
		return nil, false, fmt.Errorf("create pipeline %s spec %v subgroup size %d: %w", name, spec, subgroup, err)
	}
	pl := &pipeline{name: name, handle: h, layout: lp.layout, setLayout: lp.set, tmpl: lp.tmpl, nbuf: nbuf}
	p.byKey[key] = pl
	return pl, true, nil
}

// destroy saves the pipeline cache (when save is set; failures to write are
// ignored) and destroys every object.
func (p *pipelines) destroy(save bool) {
	if save && p.cache != 0 && p.cachePath != "" {
		if data := p.dev.pipelineCacheData(p.cache); len(data) > 0 {
			if os.MkdirAll(filepath.Dir(p.cachePath), 0o755) == nil {
				_ = atomicfile.WriteFile(p.cachePath, data)
			}
		}
	}
	for _, pl := range p.byKey {
		p.dev.destroyPipeline(pl.handle)
	}
	for _, lp := range p.layouts {
		p.dev.destroyLayouts(lp.set, lp.layout, lp.tmpl)
	}
	for _, m := range p.modules {
		p.dev.destroyModule(m)
	}
	if p.cache != 0 {
		p.dev.destroyPipelineCache(p.cache)
	}
	p.byKey, p.layouts, p.modules, p.cache = nil, nil, nil, 0
}
