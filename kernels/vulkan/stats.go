package vulkan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"sargo/kernels/gpu"
)

// Shader statistics: every pipeline variant the backend can launch
// (gpu.Variants) is compiled with VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR
// on a device that enables VK_KHR_pipeline_executable_properties, and the
// compiler's report is read back with vkGetPipelineExecutableStatisticsKHR.
// Mesa's RADV driver exposes a null device for any AMD family
// (RADV_FORCE_FAMILY) that runs AMD's real shader compiler (ACO) without
// the hardware, which is how the test suite checks register pressure,
// spills, scratch and occupancy without a GPU.

// ShaderStats is what a driver's compiler reports for one pipeline.
// Register, spill and occupancy fields use RADV's statistic names; Driver
// holds every statistic the driver reports under its own name.
type ShaderStats struct {
	Shader       string             `json:"shader"`
	Group        string             `json:"group"`
	Variant      string             `json:"variant"`
	Spec         []uint32           `json:"spec"`
	SubgroupSize uint32             `json:"subgroup_size"`
	VGPRs        int                `json:"vgprs"`
	SGPRs        int                `json:"sgprs"`
	SpilledVGPRs int                `json:"spilled_vgprs"`
	SpilledSGPRs int                `json:"spilled_sgprs"`
	ScratchBytes int                `json:"scratch_bytes"` // per wave
	LDSBytes     int                `json:"lds_bytes"`
	WavesPerSIMD int                `json:"waves_per_simd"`
	Instructions int                `json:"instructions"`
	Driver       map[string]float64 `json:"driver"`
}

// Name is the pipeline's name in reports: its group and variant.
func (s ShaderStats) Name() string {
	if s.Variant == "" {
		return s.Group
	}
	return s.Group + " " + s.Variant
}

// Problems lists what makes a pipeline unfit for a GPU: spilled registers,
// scratch memory, and fewer waves per SIMD than floor.
func (s ShaderStats) Problems(floor int) []string {
	var p []string
	if s.SpilledVGPRs > 0 || s.SpilledSGPRs > 0 {
		p = append(p, fmt.Sprintf("spills %d VGPRs and %d SGPRs", s.SpilledVGPRs, s.SpilledSGPRs))
	}
	if s.ScratchBytes > 0 {
		p = append(p, fmt.Sprintf("uses %d bytes of scratch per wave", s.ScratchBytes))
	}
	if s.WavesPerSIMD < floor {
		p = append(p, fmt.Sprintf("%d waves per SIMD, below the floor of %d", s.WavesPerSIMD, floor))
	}
	return p
}

// StatsReport is the statistics of every pipeline variant on one device.
type StatsReport struct {
	Target    string        `json:"target"`          // the RADV family and wave size, when compiled for one
	Floor     int           `json:"occupancy_floor"` // the target's occupancy floor, when compiled for one
	Device    string        `json:"device"`
	Driver    string        `json:"driver"`
	Pipelines []ShaderStats `json:"pipelines"`
}

// Pipelines lists the pipeline variants the backend launches on a device
// described by info, as the shader statistics compile them.
func Pipelines(info DeviceInfo) []gpu.Variant {
	return gpu.Variants(info.features())
}

// PipelineStats compiles every pipeline variant the backend can launch on
// Vulkan device index (in Devices order) and returns what the device's compiler reports for each. The
// device must support VK_KHR_pipeline_executable_properties.
func PipelineStats(index int) (StatsReport, error) {
	in, err := loadVulkan(false)
	if err != nil {
		return StatsReport{}, err
	}
	defer in.close()
	pds, infos, err := physicalDevices(in)
	if err != nil {
		return StatsReport{}, fmt.Errorf("vulkan: %w", err)
	}
	if index < 0 || index >= len(pds) {
		return StatsReport{}, fmt.Errorf("vulkan: no device vulkan:%d (%d devices)", index, len(pds))
	}
	info := infos[index]
	family, _, err := computeQueueFamily(pds[index])
	if err != nil {
		return StatsReport{}, fmt.Errorf("vulkan: %s: %w", info.Name, err)
	}
	// The statistics describe the pipelines as compiled without the
	// robustness features a Backend enables where the device has them.
	dev, err := createDevice(in, pds[index], family, deviceFeatures{PipelineStats: true}, info.MaxWorkgroupCount)
	if err != nil {
		return StatsReport{}, fmt.Errorf("vulkan: %s: enable VK_KHR_pipeline_executable_properties: %w", info.Name, err)
	}
	defer dev.destroy()
	c := statsCompiler{dev: dev, modules: map[string]uint64{}, layouts: map[int]layoutPair{}}
	defer c.destroy()
	rep := StatsReport{Device: info.Name, Driver: info.Driver}
	for _, v := range Pipelines(info) {
		s, err := c.compile(v)
		if err != nil {
			return StatsReport{}, fmt.Errorf("vulkan: %s: %s: %w", info.Name, v.Name(), err)
		}
		rep.Pipelines = append(rep.Pipelines, s)
	}
	return rep, nil
}

// statsCompiler creates pipelines with statistics capture, keeping the
// shader modules and layouts they share.
type statsCompiler struct {
	dev     *device
	modules map[string]uint64
	layouts map[int]layoutPair
}

func (c *statsCompiler) compile(v gpu.Variant) (ShaderStats, error) {
	mod, ok := c.modules[v.Shader]
	if !ok {
		code, err := shaderFS.ReadFile("shaders/" + v.Shader + ".spv")
		if err != nil {
			return ShaderStats{}, fmt.Errorf("no embedded shader: %w", err)
		}
		if mod, err = c.dev.createModule(code); err != nil {
			return ShaderStats{}, fmt.Errorf("create shader module: %w", err)
		}
		c.modules[v.Shader] = mod
	}
	lp, ok := c.layouts[v.Bindings]
	if !ok {
		s, l, tm, err := c.dev.createLayouts(uint32(v.Bindings), pushConstantBytes, false)
		if err != nil {
			return ShaderStats{}, fmt.Errorf("create pipeline layout: %w", err)
		}
		lp = layoutPair{s, l, tm}
		c.layouts[v.Bindings] = lp
	}
	h, err := c.dev.createPipeline(0, mod, lp.layout, v.Spec, v.Subgroup, pipelineCaptureStatistics)
	if err != nil {
		return ShaderStats{}, fmt.Errorf("create pipeline: %w", err)
	}
	defer c.dev.destroyPipeline(h)
	raw, sub, err := c.dev.pipelineStatistics(h)
	if err != nil {
		return ShaderStats{}, err
	}
	stat := func(name string) int { return int(raw[name]) }
	return ShaderStats{
		Shader: v.Shader, Group: v.Group, Variant: v.Label, Spec: v.Spec, SubgroupSize: sub,
		VGPRs: stat("VGPRs"), SGPRs: stat("SGPRs"),
		SpilledVGPRs: stat("Spilled VGPRs"), SpilledSGPRs: stat("Spilled SGPRs"),
		ScratchBytes: stat("Scratch size"), LDSBytes: stat("LDS size"),
		WavesPerSIMD: stat("Subgroups per SIMD"), Instructions: stat("Instructions"),
		Driver: raw,
	}, nil
}

func (c *statsCompiler) destroy() {
	for _, lp := range c.layouts {
		c.dev.destroyLayouts(lp.set, lp.layout, lp.tmpl)
	}
	for _, m := range c.modules {
		c.dev.destroyModule(m)
	}
}

// RADVTarget is an AMD GPU family compiled for by Mesa's RADV null device,
// in wave64 (RADV's default for compute) or wave32 (RADV_PERFTEST=cswave32).
type RADVTarget struct {
	Family string // a RADV_FORCE_FAMILY name: navi21 (RDNA2), gfx1100 (RDNA3), ...
	Wave32 bool
}

// String is "family waveN".
func (t RADVTarget) String() string {
	if t.Wave32 {
		return t.Family + " wave32"
	}
	return t.Family + " wave64"
}

// WaveSize is the subgroup size compute shaders are compiled for.
func (t RADVTarget) WaveSize() uint32 {
	if t.Wave32 {
		return 32
	}
	return 64
}

// OccupancyFloor is the fewest waves per SIMD, as RADV reports them, a
// pipeline may have on the target: 256 resident invocations per SIMD
// (docs/shader-stats.md explains the choice). On RDNA, RADV reports waves
// in units of 32 invocations whatever the wave size (a wave64 wave counts
// twice), so the floor is 8 in both wave sizes; on GCN (vega), which runs
// only wave64 and counts each wave once, it is 4.
func (t RADVTarget) OccupancyFloor() int {
	if strings.HasPrefix(t.Family, "vega") {
		return 4
	}
	return 8
}

// radvFamilies are RADV_FORCE_FAMILY names Mesa 22.3 knows (RADV aborts
// the process on a name it does not know): GCN5, RDNA1, RDNA2, RDNA3.
var radvFamilies = []string{"vega10", "vega20", "navi10", "navi14", "navi21", "navi22", "navi23", "navi24", "gfx1100", "gfx1101", "gfx1102"}

// RADVTargets lists the targets of families, a comma-separated list of
// RADV_FORCE_FAMILY names, each in wave64 and, on RDNA, wave32.
func RADVTargets(families string) ([]RADVTarget, error) {
	var ts []RADVTarget
	for _, f := range strings.Split(families, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if !slices.Contains(radvFamilies, f) {
			return nil, fmt.Errorf("unknown RADV family %q (known: %s)", f, strings.Join(radvFamilies, ", "))
		}
		ts = append(ts, RADVTarget{f, false})
		if !strings.HasPrefix(f, "vega") { // GCN runs wave64 only
			ts = append(ts, RADVTarget{f, true})
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no RADV family in %q", families)
	}
	return ts, nil
}

// ErrNoRADV is wrapped by errors when Mesa's RADV driver is not installed.
var ErrNoRADV = errors.New("no RADV driver manifest (install mesa-vulkan-drivers): /usr/share/vulkan/icd.d/radeon_icd.*.json")

// RADVManifest returns the path of RADV's ICD manifest.
func RADVManifest() (string, error) {
	m, _ := filepath.Glob("/usr/share/vulkan/icd.d/radeon_icd.*.json")
	if len(m) == 0 {
		return "", ErrNoRADV
	}
	sort.Strings(m)
	return m[0], nil
}

// RADVStats compiles every pipeline variant for target on RADV's null
// device (PipelineStats on a loader that sees only RADV). It sets the
// variables that select the null device (VK_ICD_FILENAMES,
// RADV_FORCE_FAMILY, RADV_PERFTEST) for its duration and restores them
// after, so no other Vulkan work may run in the process meanwhile.
func RADVStats(target RADVTarget) (StatsReport, error) {
	icd, err := RADVManifest()
	if err != nil {
		return StatsReport{}, err
	}
	perftest := ""
	if target.Wave32 {
		perftest = "cswave32"
	}
	restore := setEnv(map[string]string{
		"VK_ICD_FILENAMES":  icd,
		"RADV_FORCE_FAMILY": target.Family,
		"RADV_PERFTEST":     perftest,
	})
	defer restore()
	rep, err := PipelineStats(0)
	if err != nil {
		return StatsReport{}, fmt.Errorf("%s: %w", target, err)
	}
	rep.Target = target.String()
	rep.Floor = target.OccupancyFloor()
	return rep, nil
}

// RADVStatsFamilies runs RADVStats for each target of families (see
// RADVTargets).
func RADVStatsFamilies(families string) ([]StatsReport, error) {
	targets, err := RADVTargets(families)
	if err != nil {
		return nil, err
	}
	var reps []StatsReport
	for _, t := range targets {
		rep, err := RADVStats(t)
		if err != nil {
			return nil, err
		}
		reps = append(reps, rep)
	}
	return reps, nil
}

// setEnv sets the variables in vars (unsetting those set to "") and
// returns a function restoring their previous values.
func setEnv(vars map[string]string) func() {
	type old struct {
		v  string
		ok bool
	}
	prev := map[string]old{}
	for k, v := range vars {
		o, ok := os.LookupEnv(k)
		prev[k] = old{o, ok}
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return func() {
		for k, o := range prev {
			if o.ok {
				os.Setenv(k, o.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// GroupStats summarises the pipelines of one group on one target with the
// worst value of each statistic: the most registers, spills, scratch,
// shared memory and instructions, and the fewest waves per SIMD.
type GroupStats struct {
	Group        string `json:"group"`
	Variants     int    `json:"variants"`
	Failing      int    `json:"failing"` // variants with Problems
	VGPRs        int    `json:"vgprs"`
	SGPRs        int    `json:"sgprs"`
	SpilledVGPRs int    `json:"spilled_vgprs"`
	SpilledSGPRs int    `json:"spilled_sgprs"`
	ScratchBytes int    `json:"scratch_bytes"`
	LDSBytes     int    `json:"lds_bytes"`
	WavesPerSIMD int    `json:"waves_per_simd"`
	Instructions int    `json:"instructions"`
}

// Summarize groups the report's pipelines, in report order, judging
// problems against floor.
func (r StatsReport) Summarize(floor int) []GroupStats {
	var out []GroupStats
	index := map[string]int{}
	for _, p := range r.Pipelines {
		i, ok := index[p.Group]
		if !ok {
			i = len(out)
			index[p.Group] = i
			out = append(out, GroupStats{Group: p.Group, WavesPerSIMD: p.WavesPerSIMD})
		}
		g := &out[i]
		g.Variants++
		if len(p.Problems(floor)) > 0 {
			g.Failing++
		}
		g.VGPRs = max(g.VGPRs, p.VGPRs)
		g.SGPRs = max(g.SGPRs, p.SGPRs)
		g.SpilledVGPRs = max(g.SpilledVGPRs, p.SpilledVGPRs)
		g.SpilledSGPRs = max(g.SpilledSGPRs, p.SpilledSGPRs)
		g.ScratchBytes = max(g.ScratchBytes, p.ScratchBytes)
		g.LDSBytes = max(g.LDSBytes, p.LDSBytes)
		g.WavesPerSIMD = min(g.WavesPerSIMD, p.WavesPerSIMD)
		g.Instructions = max(g.Instructions, p.Instructions)
	}
	return out
}
