package vulkan

/*
#cgo !windows LDFLAGS: -ldl
#include <stdlib.h>
#include "cshim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"sargo/kernels/gpu"
)

// This file is the only one that imports "C": thin Go wrappers over
// cshim.c. Dispatchable handles (instance, physical device, device,
// command buffer) are unsafe.Pointer; non-dispatchable ones are uint64.

// vkError is a failed VkResult.
type vkError struct{ code int32 }

func (e vkError) Error() string {
	switch e.code {
	case -1:
		return "VK_ERROR_OUT_OF_HOST_MEMORY"
	case -2:
		return "VK_ERROR_OUT_OF_DEVICE_MEMORY"
	case -3:
		return "VK_ERROR_INITIALIZATION_FAILED"
	case -4:
		return "VK_ERROR_DEVICE_LOST"
	case -5:
		return "VK_ERROR_MEMORY_MAP_FAILED"
	case -6:
		return "VK_ERROR_LAYER_NOT_PRESENT"
	case -7:
		return "VK_ERROR_EXTENSION_NOT_PRESENT"
	case -8:
		return "VK_ERROR_FEATURE_NOT_PRESENT"
	case -9:
		return "VK_ERROR_INCOMPATIBLE_DRIVER"
	case -12:
		return "VK_ERROR_FRAGMENTED_POOL"
	case -1000069000:
		return "VK_ERROR_OUT_OF_POOL_MEMORY"
	}
	return fmt.Sprintf("VkResult %d", e.code)
}

// errDeviceLost is the VkResult the fault-injection hook simulates.
var errDeviceLost = vkError{-4}

func vkCheck(r C.VkResult) error {
	if r == C.VK_SUCCESS {
		return nil
	}
	return vkError{int32(r)}
}

// library is an opened Vulkan loader.
type library struct {
	name   string
	handle unsafe.Pointer
	gipa   unsafe.Pointer // vkGetInstanceProcAddr
}

func openLibrary(name string) (*library, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var errbuf [512]C.char
	h := C.sg_dlopen(cname, &errbuf[0], C.int(len(errbuf)))
	if h == nil {
		return nil, errors.New(C.GoString(&errbuf[0]))
	}
	sym := C.CString("vkGetInstanceProcAddr")
	defer C.free(unsafe.Pointer(sym))
	p := C.sg_dlsym(h, sym)
	if p == nil {
		C.sg_dlclose(h)
		return nil, fmt.Errorf("%s has no vkGetInstanceProcAddr", name)
	}
	return &library{name: name, handle: h, gipa: p}, nil
}

func (l *library) close() { C.sg_dlclose(l.handle) }

// instance wraps SgInstance, allocated in C memory because the debug
// messenger callback keeps a pointer to it.
type instance struct {
	c   *C.SgInstance
	lib *library
}

func createInstance(lib *library, validation bool) (*instance, error) {
	c := (*C.SgInstance)(C.calloc(1, C.size_t(unsafe.Sizeof(C.SgInstance{}))))
	c.lib = lib.handle
	c.gipa = C.PFN_vkGetInstanceProcAddr(lib.gipa)
	v := C.int(0)
	if validation {
		v = 1
	}
	var errbuf [256]C.char
	if err := vkCheck(C.sg_create_instance(c, v, &errbuf[0], C.int(len(errbuf)))); err != nil {
		if c.instance != nil {
			C.sg_destroy_instance(c)
		}
		C.free(unsafe.Pointer(c))
		return nil, fmt.Errorf("%s: %w", C.GoString(&errbuf[0]), err)
	}
	return &instance{c: c, lib: lib}, nil
}

func (in *instance) handle() unsafe.Pointer { return unsafe.Pointer(in.c.instance) }

func (in *instance) destroy() {
	C.sg_destroy_instance(in.c)
	C.free(unsafe.Pointer(in.c))
	in.c = nil
}

// takeMessages drains the collected validation messages.
func (in *instance) takeMessages() []string {
	buf := make([]byte, C.SG_MAX_MESSAGES*C.SG_MESSAGE_LEN+128)
	n := int(C.sg_take_messages(in.c, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf))))
	if n == 0 {
		return nil
	}
	parts := strings.Split(string(buf), "\x00")
	return parts[:n]
}

func (in *instance) query(pd unsafe.Pointer) C.SgDeviceInfo {
	var info C.SgDeviceInfo
	C.sg_query_device(in.c, C.VkPhysicalDevice(pd), &info)
	return info
}

// device wraps SgDevice.
type device struct {
	c *C.SgDevice
}

// deviceFeatures are the optional features and extensions a device was
// created with. PipelineStats enables VK_KHR_pipeline_executable_properties
// for pipelineStatistics.
type deviceFeatures struct {
	RobustBufferAccess, Robustness2, MemoryBudget, PushDescriptor, PortabilitySubset, SubgroupSizeControl bool
	PipelineStats                                                                                         bool
}

// createDevice creates a device with one queue of family and the features
// en; grids larger than maxGroups (maxComputeWorkGroupCount) are split
// (sg_dispatch): only matmul's column tiles, the one grid dimension
// kernels/gpu does not cap at 65535 (matmul.comp does not loop over it).
func createDevice(in *instance, pd unsafe.Pointer, family uint32, en deviceFeatures, maxGroups [3]uint32) (*device, error) {
	c := (*C.SgDevice)(C.calloc(1, C.size_t(unsafe.Sizeof(C.SgDevice{}))))
	ce := C.SgEnable{robustBufferAccess: cbool32(en.RobustBufferAccess), robustness2: cbool32(en.Robustness2),
		memoryBudget: cbool32(en.MemoryBudget), pushDescriptor: cbool32(en.PushDescriptor),
		portabilitySubset: cbool32(en.PortabilitySubset), subgroupSizeControl: cbool32(en.SubgroupSizeControl),
		pipelineStats: cbool32(en.PipelineStats)}
	if err := vkCheck(C.sg_create_device(in.c, C.VkPhysicalDevice(pd), C.uint32_t(family), &ce, c)); err != nil {
		C.free(unsafe.Pointer(c))
		return nil, fmt.Errorf("vkCreateDevice: %w", err)
	}
	for i, g := range maxGroups {
		c.maxGroups[i] = C.uint32_t(g)
	}
	return &device{c: c}, nil
}

// robustness reports the robustness features the device was created
// with, as passed to vkCreateDevice.
func (d *device) robustness() (bufferAccess, bufferAccess2 bool) {
	return d.c.robustBufferAccess != 0, d.c.robustBufferAccess2 != 0
}

// memoryBudget returns each heap's size, and with the VK_EXT_memory_budget
// extension its budget and current usage (zeros without).
func (in *instance) memoryBudget(pd unsafe.Pointer, ext bool) (size, budget, usage []uint64) {
	var s, b, u [C.VK_MAX_MEMORY_HEAPS]C.uint64_t
	n := int(C.sg_memory_budget(in.c, C.VkPhysicalDevice(pd), cbool(ext), &s[0], &b[0], &u[0]))
	for i := range n {
		size, budget, usage = append(size, uint64(s[i])), append(budget, uint64(b[i])), append(usage, uint64(u[i]))
	}
	return size, budget, usage
}

func cbool32(v bool) C.uint32_t {
	if v {
		return 1
	}
	return 0
}

func (d *device) destroy() {
	C.sg_destroy_device(d.c)
	C.free(unsafe.Pointer(d.c))
	d.c = nil
}

func (d *device) waitIdle() { C.sg_wait_idle(d.c) }

// createMemory allocates size bytes of memory type memType, mapped when
// mapIt is set.
func (d *device) createMemory(size uint64, memType uint32, mapIt bool) (memory uint64, mapped unsafe.Pointer, err error) {
	var m C.uint64_t
	var p unsafe.Pointer
	if err := vkCheck(C.sg_create_memory(d.c, C.uint64_t(size), C.uint32_t(memType), cbool(mapIt), &m, &p)); err != nil {
		return 0, nil, err
	}
	return uint64(m), p, nil
}

func (d *device) destroyMemory(memory uint64, mapped bool) {
	C.sg_destroy_memory(d.c, C.uint64_t(memory), cbool(mapped))
}

// bufferRequirements returns the alignment and memory types of a storage
// buffer of size bytes.
func (d *device) bufferRequirements(size uint64) (alignment uint64, typeBits uint32, err error) {
	var a C.uint64_t
	var t C.uint32_t
	err = vkCheck(C.sg_buffer_requirements(d.c, C.uint64_t(size), &a, &t))
	return uint64(a), uint32(t), err
}

// createBuffer creates a storage buffer of size bytes bound to memory (of
// type memType) at offset.
func (d *device) createBuffer(memory uint64, memType uint32, offset, size uint64) (uint64, error) {
	var b C.uint64_t
	err := vkCheck(C.sg_create_buffer(d.c, C.uint64_t(memory), C.uint32_t(memType), C.uint64_t(offset), C.uint64_t(size), &b))
	return uint64(b), err
}

func (d *device) destroyBuffer(buffer uint64) { C.sg_destroy_buffer(d.c, C.uint64_t(buffer)) }

func cbool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

// copyBuffer records a buffer-to-buffer copy of size bytes.
func (d *device) copyBuffer(cmd unsafe.Pointer, src, srcOff, dst, dstOff, size uint64, barrier bool) {
	C.sg_copy(d.c, C.VkCommandBuffer(cmd), C.uint64_t(src), C.uint64_t(srcOff), C.uint64_t(dst), C.uint64_t(dstOff), C.uint64_t(size), cbool(barrier))
}

// fillBuffer records filling size bytes with the 32-bit pattern value.
func (d *device) fillBuffer(cmd unsafe.Pointer, buffer, offset, size uint64, value uint32, barrier bool) {
	C.sg_fill(d.c, C.VkCommandBuffer(cmd), C.uint64_t(buffer), C.uint64_t(offset), C.uint64_t(size), C.uint32_t(value), cbool(barrier))
}

func (d *device) createPipelineCache(data []byte) (uint64, error) {
	var c C.uint64_t
	var p unsafe.Pointer
	if len(data) > 0 {
		p = C.CBytes(data)
		defer C.free(p)
	}
	err := vkCheck(C.sg_create_pipeline_cache(d.c, p, C.size_t(len(data)), &c))
	return uint64(c), err
}

func (d *device) pipelineCacheData(cache uint64) []byte {
	n := C.sg_pipeline_cache_data(d.c, C.uint64_t(cache), nil, 0)
	if n == 0 {
		return nil
	}
	p := C.malloc(n)
	defer C.free(p)
	n = C.sg_pipeline_cache_data(d.c, C.uint64_t(cache), p, n)
	return C.GoBytes(p, C.int(n))
}

func (d *device) destroyPipelineCache(cache uint64) {
	C.sg_destroy_pipeline_cache(d.c, C.uint64_t(cache))
}

// createLayouts creates the set and pipeline layouts of nbuf storage
// buffers and, with push descriptors, the update template that pushes
// them in one call (0 where the device has none).
func (d *device) createLayouts(nbuf, pushSize uint32, pushDescriptors bool) (setLayout, layout, tmpl uint64, err error) {
	var s, l, t C.uint64_t
	err = vkCheck(C.sg_create_layouts(d.c, C.uint32_t(nbuf), C.uint32_t(pushSize), cbool(pushDescriptors), &s, &l, &t))
	return uint64(s), uint64(l), uint64(t), err
}

func (d *device) destroyLayouts(setLayout, layout, tmpl uint64) {
	C.sg_destroy_layouts(d.c, C.uint64_t(setLayout), C.uint64_t(layout), C.uint64_t(tmpl))
}

func (d *device) createModule(code []byte) (uint64, error) {
	p := C.CBytes(code) // 4-byte aligned C copy of the SPIR-V words
	defer C.free(p)
	var m C.uint64_t
	err := vkCheck(C.sg_create_module(d.c, (*C.uint32_t)(p), C.size_t(len(code)), &m))
	return uint64(m), err
}

func (d *device) destroyModule(m uint64) { C.sg_destroy_module(d.c, C.uint64_t(m)) }

// pipelineCaptureStatistics is VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR.
const pipelineCaptureStatistics = C.VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR

// createPipeline creates a compute pipeline; subgroupSize, when not 0, is
// its required subgroup size, and flags are further VkPipelineCreateFlags.
func (d *device) createPipeline(cache, module, layout uint64, spec []uint32, subgroupSize, flags uint32) (uint64, error) {
	var p C.uint64_t
	var sp *C.uint32_t
	if len(spec) > 0 {
		sp = (*C.uint32_t)(unsafe.Pointer(&spec[0]))
	}
	err := vkCheck(C.sg_create_pipeline(d.c, C.uint64_t(cache), C.uint64_t(module), C.uint64_t(layout), sp, C.uint32_t(len(spec)),
		C.uint32_t(subgroupSize), C.uint32_t(flags), &p))
	return uint64(p), err
}

// pipelineStatistics returns the driver's statistics of a pipeline created
// with pipelineCaptureStatistics on a statistics device, by name, and the
// subgroup size its compute shader was compiled for.
func (d *device) pipelineStatistics(p uint64) (map[string]float64, uint32, error) {
	var out [64]C.SgStat
	var n, sub C.uint32_t
	if err := vkCheck(C.sg_pipeline_statistics(d.c, C.uint64_t(p), &out[0], C.uint32_t(len(out)), &n, &sub)); err != nil {
		return nil, 0, fmt.Errorf("vkGetPipelineExecutableStatisticsKHR: %w", err)
	}
	stats := make(map[string]float64, int(n))
	for _, s := range out[:n] {
		stats[C.GoString(&s.name[0])] = float64(s.value)
	}
	return stats, uint32(sub), nil
}

func (d *device) destroyPipeline(p uint64) { C.sg_destroy_pipeline(d.c, C.uint64_t(p)) }

// frameHandles are the Vulkan objects of one frame.
type frameHandles struct {
	cmdPool, fence, queryPool uint64
	cmd                       unsafe.Pointer
}

func (d *device) createFrame(queries uint32) (frameHandles, error) {
	var cp, f, qp C.uint64_t
	var cmd C.VkCommandBuffer
	err := vkCheck(C.sg_create_frame(d.c, C.uint32_t(queries), &cp, &cmd, &f, &qp))
	h := frameHandles{cmdPool: uint64(cp), fence: uint64(f), queryPool: uint64(qp), cmd: unsafe.Pointer(cmd)}
	if err != nil {
		d.destroyFrame(h)
		return frameHandles{}, err
	}
	return h, nil
}

func (d *device) destroyFrame(h frameHandles) {
	C.sg_destroy_frame(d.c, C.uint64_t(h.cmdPool), C.uint64_t(h.fence), C.uint64_t(h.queryPool))
}

func (d *device) begin(h frameHandles, queries uint32) error {
	return vkCheck(C.sg_begin(d.c, C.uint64_t(h.cmdPool), C.VkCommandBuffer(h.cmd), C.uint64_t(h.queryPool), C.uint32_t(queries)))
}

func (d *device) createDescriptorPool(maxSets, maxDescriptors uint32) (uint64, error) {
	var p C.uint64_t
	err := vkCheck(C.sg_create_descriptor_pool(d.c, C.uint32_t(maxSets), C.uint32_t(maxDescriptors), &p))
	return uint64(p), err
}

func (d *device) destroyDescriptorPool(pool uint64) {
	C.sg_destroy_descriptor_pool(d.c, C.uint64_t(pool))
}

func (d *device) resetDescriptorPool(pool uint64) error {
	return vkCheck(C.sg_reset_descriptor_pool(d.c, C.uint64_t(pool)))
}

// makeSet allocates a descriptor set of setLayout from pool and writes the
// first nbuf bindings of x into it.
func (d *device) makeSet(pool, setLayout uint64, x *dispatchRecord, nbuf int) (uint64, error) {
	var s C.uint64_t
	err := vkCheck(C.sg_make_set(d.c, C.uint64_t(pool), C.uint64_t(setLayout), C.uint32_t(nbuf), &x.bufs[0], &s))
	return uint64(s), err
}

func (d *device) submit(h frameHandles) error {
	return vkCheck(C.sg_submit(d.c, C.VkCommandBuffer(h.cmd), C.uint64_t(h.fence)))
}

func (d *device) wait(h frameHandles) error {
	if err := vkCheck(C.sg_wait(d.c, C.uint64_t(h.fence))); err != nil {
		return err
	}
	return vkCheck(C.sg_reset_fence(d.c, C.uint64_t(h.fence)))
}

func (d *device) queryResults(h frameHandles, out []uint64) error {
	if len(out) == 0 {
		return nil
	}
	return vkCheck(C.sg_query_results(d.c, C.uint64_t(h.queryPool), C.uint32_t(len(out)), (*C.uint64_t)(unsafe.Pointer(&out[0]))))
}

// dispatchRecord is the C description of one dispatch, filled in by launch.
type dispatchRecord = C.SgDispatch

func setBinding(x *dispatchRecord, i int, buffer, offset, rng uint64) {
	x.bufs[i] = C.SgBuf{buffer: C.uint64_t(buffer), offset: C.uint64_t(offset), _range: C.uint64_t(rng)}
}

func setDispatch(x *dispatchRecord, pipeline, layout, set, tmpl, queryPool uint64, query uint32, barrier, bind bool, nbuf int, pushSize uintptr, groups [3]uint32) {
	x.pipeline = C.uint64_t(pipeline)
	x.bind = 0
	if bind {
		x.bind = 1
	}
	x.layout = C.uint64_t(layout)
	x.set = C.uint64_t(set)
	x.tmpl = C.uint64_t(tmpl)
	x.queryPool = C.uint64_t(queryPool)
	x.query = C.uint32_t(query)
	x.barrier = 0
	if barrier {
		x.barrier = 1
	}
	x.nbuf = C.uint32_t(nbuf)
	x.pushSize = C.uint32_t(pushSize)
	for i := range groups {
		x.groups[i] = C.uint32_t(groups[i])
	}
}

// maxBindings is the most storage buffers one dispatch may bind.
const maxBindings = gpu.MaxBindings

// setPush copies the push constants' bytes into x.
func setPush(x *dispatchRecord, push []byte) {
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&x.push[0])), len(x.push)), push)
}

// record records x.
func (d *device) record(cmd unsafe.Pointer, x *dispatchRecord) error {
	return vkCheck(C.sg_dispatch(d.c, C.VkCommandBuffer(cmd), x))
}

// deviceInfo reads what sargo needs to know about a physical device.
func (in *instance) deviceInfo(pd unsafe.Pointer) DeviceInfo {
	c := in.query(pd)
	info := DeviceInfo{
		Name:                            C.GoString(&c.name[0]),
		Driver:                          strings.TrimSpace(C.GoString(&c.driver[0])),
		Type:                            deviceTypeName(uint32(c._type)),
		APIVersion:                      fmt.Sprintf("%d.%d.%d", c.apiVersion>>22&0x7f, c.apiVersion>>12&0x3ff, c.apiVersion&0xfff),
		VendorID:                        uint32(c.vendorID),
		DeviceID:                        uint32(c.deviceID),
		SubgroupSize:                    uint32(c.subgroupSize),
		SubgroupArithmetic:              c.subgroupOps&C.VK_SUBGROUP_FEATURE_ARITHMETIC_BIT != 0 && c.subgroupStages&C.VK_SHADER_STAGE_COMPUTE_BIT != 0,
		SubgroupShuffle:                 c.subgroupOps&C.VK_SUBGROUP_FEATURE_SHUFFLE_BIT != 0 && c.subgroupStages&C.VK_SHADER_STAGE_COMPUTE_BIT != 0,
		MaxSharedMemory:                 uint32(c.maxSharedMemory),
		MaxWorkgroupInvocations:         uint32(c.maxWorkgroupInvocations),
		MaxStorageBufferRange:           uint64(c.maxStorageBufferRange),
		MaxPushConstantsSize:            uint32(c.maxPushConstantsSize),
		MinStorageBufferOffsetAlignment: uint64(c.minStorageBufferOffsetAlignment),
		MaxMemoryAllocationSize:         uint64(c.maxMemoryAllocationSize),
		TimestampPeriod:                 float32(c.timestampPeriod),
		Timestamps:                      c.timestampComputeAndGraphics != 0,
		Float16:                         c.shaderFloat16 != 0,
		Int8:                            c.shaderInt8 != 0,
		Storage16:                       c.storage16 != 0,
		Storage8:                        c.storage8 != 0,
		MaxPerStageStorageBuffers:       uint32(c.maxPerStageStorageBuffers),
		RobustBufferAccess:              c.robustBufferAccess != 0,
		Robustness2:                     c.robustness2 != 0,
		MemoryBudgetExt:                 c.memoryBudget != 0,
		PushDescriptor:                  c.pushDescriptor != 0 && c.maxPushDescriptors >= maxBindings,
		PortabilitySubset:               c.portabilitySubset != 0,
		SubgroupSizeControl:             c.subgroupSizeControl != 0 && c.requiredSubgroupSizeStages&C.VK_SHADER_STAGE_COMPUTE_BIT != 0,
		MinSubgroupSize:                 uint32(c.minSubgroupSize),
		MaxSubgroupSize:                 uint32(c.maxSubgroupSize),
		typeCode:                        uint32(c._type),
	}
	for i := 0; i < 3; i++ {
		info.MaxWorkgroupSize[i] = uint32(c.maxWorkgroupSize[i])
		info.MaxWorkgroupCount[i] = uint32(c.maxWorkgroupCount[i])
	}
	for i := range info.UUID {
		info.UUID[i] = byte(c.uuid[i])
	}
	return info
}

// endUnsubmitted ends a command buffer that will not be submitted.
func (d *device) endUnsubmitted(h frameHandles) { C.sg_end(d.c, C.VkCommandBuffer(h.cmd)) }

// signaled reports whether the frame's fence is signaled, without waiting.
func (d *device) signaled(h frameHandles) bool {
	return C.sg_fence_status(d.c, C.uint64_t(h.fence)) == C.VK_SUCCESS
}
