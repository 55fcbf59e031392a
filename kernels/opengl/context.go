//go:build opengl && cgo

package opengl

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"
)

// The GL entry points of the binding are process-wide C globals, loaded
// once through eglGetProcAddress (which serves every context: libglvnd
// dispatches on the calling thread's current context).
var bindingInit struct {
	once sync.Once
	err  error
}

// request is one unit of work for a GL thread, run in the order sent: a
// batch of recorded commands, a function, or both; done (when set) is
// signalled afterwards.
type request struct {
	bt   *batch
	fn   func()
	done chan struct{}
}

// glThread is a locked OS thread with a current OpenGL context. Every GL
// call of a backend runs on it; the fields below reqs belong to it.
type glThread struct {
	reqs chan request

	dpy, ctx unsafe.Pointer
}

// startThread creates a context on dev on a new locked OS thread and
// serves requests on it until stop. The context's limits are queried on
// the way.
func startThread(dev eglDevice, req contextRequest, serve func(*glThread, request)) (*glThread, DeviceInfo, error) {
	t := &glThread{reqs: make(chan request, 8)}
	type result struct {
		info DeviceInfo
		err  error
	}
	started := make(chan result)
	go func() {
		// The goroutine never unlocks: when it returns, Go ends the OS
		// thread, which held a context.
		runtime.LockOSThread()
		info, err := t.create(dev, req)
		started <- result{info, err}
		if err != nil {
			return
		}
		for r := range t.reqs {
			serve(t, r)
			if r.done != nil {
				r.done <- struct{}{}
			}
		}
		eglRelease(t.dpy, t.ctx)
	}()
	r := <-started
	if r.err != nil {
		return nil, DeviceInfo{}, r.err
	}
	return t, r.info, nil
}

// do runs f on the thread after everything sent before it, and waits.
func (t *glThread) do(f func()) {
	done := make(chan struct{}, 1)
	t.reqs <- request{fn: f, done: done}
	<-done
}

// stop ends the thread after the work sent before; it releases the
// context.
func (t *glThread) stop() { close(t.reqs) }

// create makes the context current on the calling (locked) thread: OpenGL
// 4.3 core, with robust buffer access where the driver has it and the
// debug flag as asked. A driver without 4.3 is ErrOldDriver, with the
// version it has.
func (t *glThread) create(dev eglDevice, req contextRequest) (DeviceInfo, error) {
	dpy, err := eglDisplay(dev)
	if err != nil {
		return DeviceInfo{}, fmt.Errorf("%w (eglInitialize: %v)", ErrNoDevice, err)
	}
	t.dpy = dpy
	req.major, req.minor, req.core = 4, 3, true
	robust := req
	robust.robust = true
	ctx, err := eglContext(dpy, robust)
	if err != nil {
		ctx, err = eglContext(dpy, req)
	}
	if err != nil {
		return DeviceInfo{}, t.explain(err)
	}
	t.ctx = ctx
	bindingInit.once.Do(func() { bindingInit.err = gl.InitWithProcAddrFunc(procAddress) })
	if bindingInit.err != nil {
		eglRelease(dpy, ctx)
		return DeviceInfo{}, fmt.Errorf("opengl: load the GL entry points through eglGetProcAddress: missing %v", bindingInit.err)
	}
	info := queryInfo(dev)
	info.EGL = displayString(dpy, eglVendor) + " " + displayString(dpy, eglVersion)
	return info, nil
}

// explain turns a failed 4.3 core context into an error that says what
// the driver has.
func (t *glThread) explain(err error) error {
	ctx, anyErr := eglContext(t.dpy, contextRequest{})
	if anyErr != nil {
		return fmt.Errorf("%w (eglCreateContext for OpenGL 4.3 core: %v; for any OpenGL: %v)", ErrNoDevice, err, anyErr)
	}
	defer eglRelease(t.dpy, ctx)
	// glGetString alone, as the 4.3 binding may not load on this driver.
	version, renderer := glString(gl.VERSION), glString(gl.RENDERER)
	return fmt.Errorf("%w: it offers OpenGL %s on %s (eglCreateContext for 4.3 core: %v); update Mesa (apt-get install libgl1-mesa-dri) or the GPU's driver",
		ErrOldDriver, version, renderer, err)
}

// queryInfo reads the current context's strings and limits.
func queryInfo(dev eglDevice) DeviceInfo {
	info := DeviceInfo{
		Renderer: gl.GoStr(gl.GetString(gl.RENDERER)),
		Vendor:   gl.GoStr(gl.GetString(gl.VENDOR)),
		Version:  gl.GoStr(gl.GetString(gl.VERSION)),
		GLSL:     gl.GoStr(gl.GetString(gl.SHADING_LANGUAGE_VERSION)),
		Software: dev.software,
		DRMNode:  dev.drmNode,
	}
	geti := func(p uint32) uint32 {
		var v int32
		gl.GetIntegerv(p, &v)
		return uint32(v)
	}
	info.Major, info.Minor = int(geti(gl.MAJOR_VERSION)), int(geti(gl.MINOR_VERSION))
	var v64 int64
	gl.GetInteger64v(gl.MAX_SHADER_STORAGE_BLOCK_SIZE, &v64)
	info.MaxStorageBlockSize = uint64(v64)
	info.MaxStorageBlocks = geti(gl.MAX_COMPUTE_SHADER_STORAGE_BLOCKS)
	info.MaxUniformBlockSize = geti(gl.MAX_UNIFORM_BLOCK_SIZE)
	info.MaxSharedMemory = geti(gl.MAX_COMPUTE_SHARED_MEMORY_SIZE)
	info.MaxWorkgroupInvocations = geti(gl.MAX_COMPUTE_WORK_GROUP_INVOCATIONS)
	for i := range 3 {
		var c, s int32
		gl.GetIntegeri_v(gl.MAX_COMPUTE_WORK_GROUP_COUNT, uint32(i), &c)
		gl.GetIntegeri_v(gl.MAX_COMPUTE_WORK_GROUP_SIZE, uint32(i), &s)
		info.MaxWorkgroupCount[i], info.MaxWorkgroupSize[i] = uint32(c), uint32(s)
	}
	info.StorageAlignment = geti(gl.SHADER_STORAGE_BUFFER_OFFSET_ALIGNMENT)
	info.UniformAlignment = geti(gl.UNIFORM_BUFFER_OFFSET_ALIGNMENT)
	info.BinaryFormats = int(geti(gl.NUM_PROGRAM_BINARY_FORMATS))
	info.Robust = geti(gl.CONTEXT_FLAGS)&gl.CONTEXT_FLAG_ROBUST_ACCESS_BIT_ARB != 0
	exts := map[string]bool{}
	for i := range geti(gl.NUM_EXTENSIONS) {
		exts[gl.GoStr(gl.GetStringi(gl.EXTENSIONS, i))] = true
	}
	switch {
	case exts["GL_NVX_gpu_memory_info"]:
		info.VideoMemory = uint64(geti(glGPUMemoryInfoDedicatedVidmemNVX)) << 10
	case exts["GL_ATI_meminfo"]:
		var free [4]int32 // total free, largest free block, total auxiliary free, largest auxiliary block (KiB)
		gl.GetIntegerv(glVBOFreeMemoryATI, &free[0])
		info.VideoMemory = uint64(free[0]) << 10
	}
	if exts["GL_KHR_shader_subgroup"] {
		info.SubgroupSize = geti(gl.SUBGROUP_SIZE_KHR)
		info.SubgroupArithmetic = geti(gl.SUBGROUP_SUPPORTED_STAGES_KHR)&gl.COMPUTE_SHADER_BIT != 0 &&
			geti(gl.SUBGROUP_SUPPORTED_FEATURES_KHR)&gl.SUBGROUP_FEATURE_ARITHMETIC_BIT_KHR != 0
	}
	gl.GetError() // a driver may reject a query it does not know; that is not the backend's error
	return info
}

// Memory queries of GL_NVX_gpu_memory_info and GL_ATI_meminfo, which the
// core bindings lack.
const (
	glGPUMemoryInfoDedicatedVidmemNVX = 0x9047
	glVBOFreeMemoryATI                = 0x87FB
)

// orderedDevices lists the EGL devices in the order opengl:N names them:
// GPUs first, then software renderers, each in EGL's order.
func orderedDevices() ([]eglDevice, string, error) {
	if err := loadEGL(); err != nil {
		return nil, "", err
	}
	devs, platform, err := eglDevices()
	if err != nil {
		return nil, "", err
	}
	sort.SliceStable(devs, func(i, j int) bool { return !devs[i].software && devs[j].software })
	return devs, platform, nil
}

// Probe says in one line why OpenGL cannot be used, or returns nil when
// EGL has at least one device.
func Probe() error {
	devs, _, err := orderedDevices()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		return ErrNoDevice
	}
	return nil
}

// Devices lists the OpenGL devices in the order the names opengl:0,
// opengl:1, ... address them; the first is the default. Each is opened
// briefly to read its limits; a device that cannot give a 4.3 context is
// an error naming it.
func Devices() ([]DeviceInfo, error) {
	devs, platform, err := orderedDevices()
	if err != nil {
		return nil, err
	}
	var infos []DeviceInfo
	for i, d := range devs {
		t, info, err := startThread(d, contextRequest{}, func(*glThread, request) {})
		if err != nil {
			return nil, fmt.Errorf("opengl:%d: %w", i, err)
		}
		t.stop()
		info.Index, info.Platform, info.Default = i, platform, i == 0
		infos = append(infos, info)
	}
	return infos, nil
}

// glErrors names the glGetError codes.
var glErrors = map[uint32]string{gl.INVALID_ENUM: "GL_INVALID_ENUM", gl.INVALID_VALUE: "GL_INVALID_VALUE",
	gl.INVALID_OPERATION: "GL_INVALID_OPERATION", gl.INVALID_FRAMEBUFFER_OPERATION: "GL_INVALID_FRAMEBUFFER_OPERATION",
	gl.OUT_OF_MEMORY: "GL_OUT_OF_MEMORY", gl.STACK_OVERFLOW: "GL_STACK_OVERFLOW", gl.STACK_UNDERFLOW: "GL_STACK_UNDERFLOW"}

// glErrorName names a glGetError code.
func glErrorName(e uint32) string { return enumName(glErrors, e, fmt.Sprintf("GL error 0x%x", e)) }

// trimLog shortens a compiler or linker log for an error message.
func trimLog(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}
