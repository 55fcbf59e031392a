// Direct Vulkan calls for what the Go binding lacks: instance creation with
// validation features and a debug messenger, properties2/features2 queries,
// device creation, buffers, pipelines and the per-dispatch recording path.
// Non-dispatchable handles travel to and from Go as uint64_t.
#ifndef SARGO_VK_SHIM_H
#define SARGO_VK_SHIM_H

#include <stdint.h>
#include <pthread.h>
#include <vulkan/vulkan.h>

#define SG_MAX_MESSAGES 64
#define SG_MESSAGE_LEN 1024

// SgInstance is a VkInstance with its function pointers and collected
// debug messages.
typedef struct SgInstance {
	void *lib;
	PFN_vkGetInstanceProcAddr gipa;
	VkInstance instance;
	uint32_t apiVersion;
	int portability; // VK_KHR_portability_enumeration was enabled
	VkDebugUtilsMessengerEXT messenger;
	PFN_vkDestroyInstance DestroyInstance;
	PFN_vkGetPhysicalDeviceProperties2 GetPhysicalDeviceProperties2;
	PFN_vkGetPhysicalDeviceFeatures2 GetPhysicalDeviceFeatures2;
	PFN_vkGetPhysicalDeviceMemoryProperties2 GetPhysicalDeviceMemoryProperties2;
	PFN_vkEnumerateDeviceExtensionProperties EnumerateDeviceExtensionProperties;
	PFN_vkCreateDevice CreateDevice;
	PFN_vkGetDeviceProcAddr GetDeviceProcAddr;
	PFN_vkCreateDebugUtilsMessengerEXT CreateDebugUtilsMessengerEXT;
	PFN_vkDestroyDebugUtilsMessengerEXT DestroyDebugUtilsMessengerEXT;
	pthread_mutex_t mu;
	int nmsg;
	int dropped;
	char msgs[SG_MAX_MESSAGES][SG_MESSAGE_LEN];
} SgInstance;

// SgDeviceInfo is what sargo reads from a physical device.
typedef struct SgDeviceInfo {
	char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
	char driver[VK_MAX_DRIVER_NAME_SIZE + VK_MAX_DRIVER_INFO_SIZE + 4];
	uint8_t uuid[VK_UUID_SIZE];
	uint32_t type;
	uint32_t apiVersion;
	uint32_t vendorID, deviceID;
	uint32_t subgroupSize;
	uint32_t subgroupOps;    // VkSubgroupFeatureFlags
	uint32_t subgroupStages; // VkShaderStageFlags
	uint32_t maxSharedMemory;
	uint32_t maxWorkgroupInvocations;
	uint32_t maxWorkgroupSize[3];
	uint32_t maxWorkgroupCount[3];
	uint32_t maxStorageBufferRange;
	uint32_t maxPushConstantsSize;
	uint64_t minStorageBufferOffsetAlignment;
	uint64_t maxMemoryAllocationSize;
	float timestampPeriod;
	uint32_t timestampComputeAndGraphics;
	uint32_t shaderFloat16, shaderInt8, storage16, storage8;
	uint32_t maxPerStageStorageBuffers;
	// Optional features and extensions: 1 when the device has them.
	uint32_t robustBufferAccess;  // the core feature
	uint32_t robustness2;         // VK_EXT_robustness2 with robustBufferAccess2
	uint32_t memoryBudget;        // VK_EXT_memory_budget
	uint32_t pushDescriptor;      // VK_KHR_push_descriptor
	uint32_t maxPushDescriptors;
	uint32_t portabilitySubset;   // VK_KHR_portability_subset: must be enabled
	uint32_t subgroupSizeControl; // VK_EXT_subgroup_size_control, subgroupSizeControl and computeFullSubgroups
	uint32_t minSubgroupSize, maxSubgroupSize;
	uint32_t requiredSubgroupSizeStages;
} SgDeviceInfo;

// SgEnable selects the optional features and extensions sg_create_device
// enables (each only where SgDeviceInfo says the device has it).
typedef struct SgEnable {
	uint32_t robustBufferAccess, robustness2, memoryBudget, pushDescriptor, portabilitySubset, subgroupSizeControl, pipelineStats;
} SgEnable;

// SgDevice is a VkDevice with one compute queue and the device-level
// function pointers sargo uses.
typedef struct SgDevice {
	VkDevice device;
	VkQueue queue;
	uint32_t queueFamily;
	PFN_vkDestroyDevice DestroyDevice;
	PFN_vkDeviceWaitIdle DeviceWaitIdle;
	PFN_vkCreateBuffer CreateBuffer;
	PFN_vkDestroyBuffer DestroyBuffer;
	PFN_vkGetBufferMemoryRequirements GetBufferMemoryRequirements;
	PFN_vkAllocateMemory AllocateMemory;
	PFN_vkFreeMemory FreeMemory;
	PFN_vkBindBufferMemory BindBufferMemory;
	PFN_vkMapMemory MapMemory;
	PFN_vkUnmapMemory UnmapMemory;
	PFN_vkCreateShaderModule CreateShaderModule;
	PFN_vkDestroyShaderModule DestroyShaderModule;
	PFN_vkCreateDescriptorSetLayout CreateDescriptorSetLayout;
	PFN_vkDestroyDescriptorSetLayout DestroyDescriptorSetLayout;
	PFN_vkCreatePipelineLayout CreatePipelineLayout;
	PFN_vkDestroyPipelineLayout DestroyPipelineLayout;
	PFN_vkCreateComputePipelines CreateComputePipelines;
	PFN_vkDestroyPipeline DestroyPipeline;
	PFN_vkCreatePipelineCache CreatePipelineCache;
	PFN_vkGetPipelineCacheData GetPipelineCacheData;
	PFN_vkDestroyPipelineCache DestroyPipelineCache;
	PFN_vkCreateDescriptorPool CreateDescriptorPool;
	PFN_vkDestroyDescriptorPool DestroyDescriptorPool;
	PFN_vkResetDescriptorPool ResetDescriptorPool;
	PFN_vkAllocateDescriptorSets AllocateDescriptorSets;
	PFN_vkUpdateDescriptorSets UpdateDescriptorSets;
	PFN_vkCreateCommandPool CreateCommandPool;
	PFN_vkDestroyCommandPool DestroyCommandPool;
	PFN_vkResetCommandPool ResetCommandPool;
	PFN_vkAllocateCommandBuffers AllocateCommandBuffers;
	PFN_vkBeginCommandBuffer BeginCommandBuffer;
	PFN_vkEndCommandBuffer EndCommandBuffer;
	PFN_vkQueueSubmit QueueSubmit;
	PFN_vkCreateFence CreateFence;
	PFN_vkDestroyFence DestroyFence;
	PFN_vkWaitForFences WaitForFences;
	PFN_vkResetFences ResetFences;
	PFN_vkGetFenceStatus GetFenceStatus;
	PFN_vkCreateQueryPool CreateQueryPool;
	PFN_vkDestroyQueryPool DestroyQueryPool;
	PFN_vkGetQueryPoolResults GetQueryPoolResults;
	PFN_vkCmdResetQueryPool CmdResetQueryPool;
	PFN_vkCmdWriteTimestamp CmdWriteTimestamp;
	PFN_vkCmdBindPipeline CmdBindPipeline;
	PFN_vkCmdBindDescriptorSets CmdBindDescriptorSets;
	PFN_vkCmdPushConstants CmdPushConstants;
	PFN_vkCmdDispatch CmdDispatch;
	PFN_vkCmdDispatchBase CmdDispatchBase;
	PFN_vkCmdPushDescriptorSetKHR CmdPushDescriptorSetKHR;
	PFN_vkCmdPushDescriptorSetWithTemplateKHR CmdPushDescriptorSetWithTemplateKHR;
	PFN_vkCreateDescriptorUpdateTemplate CreateDescriptorUpdateTemplate;
	PFN_vkDestroyDescriptorUpdateTemplate DestroyDescriptorUpdateTemplate;
	PFN_vkCmdPipelineBarrier CmdPipelineBarrier;
	PFN_vkCmdFillBuffer CmdFillBuffer;
	PFN_vkCmdCopyBuffer CmdCopyBuffer;
	uint32_t maxGroups[3]; // maxComputeWorkGroupCount: larger grids are split
	// What vkCreateDevice was given: robustBufferAccess, and
	// VK_EXT_robustness2's robustBufferAccess2.
	uint32_t robustBufferAccess, robustBufferAccess2;
	// Set only on a device created for shader statistics.
	PFN_vkGetPipelineExecutablePropertiesKHR GetPipelineExecutablePropertiesKHR;
	PFN_vkGetPipelineExecutableStatisticsKHR GetPipelineExecutableStatisticsKHR;
} SgDevice;

// SgStat is one statistic the driver reports for a compiled pipeline
// (VK_KHR_pipeline_executable_properties), converted to a double.
typedef struct SgStat {
	char name[VK_MAX_DESCRIPTION_SIZE];
	double value;
} SgStat;

// SgBuf is one storage buffer binding of a dispatch, laid out as a
// VkDescriptorBufferInfo so that an array of them is the data of a push
// descriptor update template.
typedef struct SgBuf {
	uint64_t buffer;
	uint64_t offset;
	uint64_t range;
} SgBuf;

// SgDispatch is everything one recorded dispatch needs.
typedef struct SgDispatch {
	uint64_t pipeline;
	uint64_t layout;
	uint64_t set;       // a descriptor set to bind; 0: push the bindings (VK_KHR_push_descriptor)
	uint64_t tmpl;      // with set 0, the layout's push descriptor update template; 0: push writes
	uint64_t queryPool; // 0: no timestamps
	uint32_t query;     // first of two timestamp queries
	uint32_t barrier;   // 1: a compute-to-compute memory barrier first
	uint32_t bind;      // 1: bind the pipeline (0: it is the one bound last in this command buffer)
	uint32_t nbuf;
	uint32_t pushSize;
	uint32_t groups[3];
	SgBuf bufs[16];
	uint8_t push[128]; // the push constants' bytes
} SgDispatch;

void *sg_dlopen(const char *name, char *err, int errlen);
void sg_dlclose(void *lib);
void *sg_dlsym(void *lib, const char *sym);
VkResult sg_create_instance(SgInstance *in, int validation, char *err, int errlen);
void sg_destroy_instance(SgInstance *in);
int sg_take_messages(SgInstance *in, char *out, int outlen);
void sg_query_device(SgInstance *in, VkPhysicalDevice pd, SgDeviceInfo *info);
// en selects the optional features and extensions; with pipelineStats the
// device enables VK_KHR_pipeline_executable_properties (feature
// pipelineExecutableInfo) for sg_pipeline_statistics.
VkResult sg_create_device(SgInstance *in, VkPhysicalDevice pd, uint32_t family, const SgEnable *en, SgDevice *d);
uint32_t sg_memory_budget(SgInstance *in, VkPhysicalDevice pd, int ext, uint64_t *size, uint64_t *budget, uint64_t *usage);
void sg_destroy_device(SgDevice *d);

VkResult sg_create_memory(SgDevice *d, uint64_t size, uint32_t memType, int map, uint64_t *memory, void **mapped);
void sg_destroy_memory(SgDevice *d, uint64_t memory, int mapped);
VkResult sg_buffer_requirements(SgDevice *d, uint64_t size, uint64_t *alignment, uint32_t *typeBits);
VkResult sg_create_buffer(SgDevice *d, uint64_t memory, uint32_t memType, uint64_t offset, uint64_t size, uint64_t *buffer);
void sg_destroy_buffer(SgDevice *d, uint64_t buffer);

VkResult sg_create_pipeline_cache(SgDevice *d, const void *data, size_t len, uint64_t *cache);
size_t sg_pipeline_cache_data(SgDevice *d, uint64_t cache, void *out, size_t cap);
void sg_destroy_pipeline_cache(SgDevice *d, uint64_t cache);
// With pushDescriptors, *tmpl is a push descriptor update template over
// the nbuf bindings whose data is an array of SgBuf (0 where the device
// lacks vkCmdPushDescriptorSetWithTemplateKHR).
VkResult sg_create_layouts(SgDevice *d, uint32_t nbuf, uint32_t pushSize, int pushDescriptors, uint64_t *setLayout, uint64_t *layout, uint64_t *tmpl);
void sg_destroy_layouts(SgDevice *d, uint64_t setLayout, uint64_t layout, uint64_t tmpl);
VkResult sg_create_module(SgDevice *d, const uint32_t *code, size_t len, uint64_t *module);
void sg_destroy_module(SgDevice *d, uint64_t module);
// subgroupSize, when not 0, is the pipeline's required subgroup size;
// flags are further VkPipelineCreateFlags (VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR
// on a statistics device).
VkResult sg_create_pipeline(SgDevice *d, uint64_t cache, uint64_t module, uint64_t layout, const uint32_t *spec, uint32_t nspec,
	uint32_t subgroupSize, uint32_t flags, uint64_t *pipeline);
// sg_pipeline_statistics writes up to cap statistics of the pipeline's
// compute executable into out, its subgroup size into subgroupSize, and
// sets *count to the number written.
VkResult sg_pipeline_statistics(SgDevice *d, uint64_t pipeline, SgStat *out, uint32_t cap, uint32_t *count, uint32_t *subgroupSize);
void sg_destroy_pipeline(SgDevice *d, uint64_t pipeline);

// A frame is one command buffer with its fence and timestamp queries.
VkResult sg_create_frame(SgDevice *d, uint32_t queries, uint64_t *cmdPool, VkCommandBuffer *cmd, uint64_t *fence, uint64_t *queryPool);
void sg_destroy_frame(SgDevice *d, uint64_t cmdPool, uint64_t fence, uint64_t queryPool);
VkResult sg_begin(SgDevice *d, uint64_t cmdPool, VkCommandBuffer cmd, uint64_t queryPool, uint32_t queries);

// The descriptor cache's pool and sets (devices without push descriptors).
VkResult sg_create_descriptor_pool(SgDevice *d, uint32_t maxSets, uint32_t maxDescriptors, uint64_t *pool);
void sg_destroy_descriptor_pool(SgDevice *d, uint64_t pool);
VkResult sg_reset_descriptor_pool(SgDevice *d, uint64_t pool);
VkResult sg_make_set(SgDevice *d, uint64_t pool, uint64_t setLayout, uint32_t nbuf, const SgBuf *bufs, uint64_t *set);
VkResult sg_submit(SgDevice *d, VkCommandBuffer cmd, uint64_t fence);
VkResult sg_wait(SgDevice *d, uint64_t fence);
VkResult sg_reset_fence(SgDevice *d, uint64_t fence);
VkResult sg_query_results(SgDevice *d, uint64_t queryPool, uint32_t count, uint64_t *out);
VkResult sg_dispatch(SgDevice *d, VkCommandBuffer cmd, const SgDispatch *x);
void sg_fill(SgDevice *d, VkCommandBuffer cmd, uint64_t buffer, uint64_t offset, uint64_t size, uint32_t value, int barrier);
void sg_wait_idle(SgDevice *d);
void sg_end(SgDevice *d, VkCommandBuffer cmd);
VkResult sg_fence_status(SgDevice *d, uint64_t fence);
void sg_copy(SgDevice *d, VkCommandBuffer cmd, uint64_t src, uint64_t srcOffset, uint64_t dst, uint64_t dstOffset, uint64_t size, int barrier);

#endif
