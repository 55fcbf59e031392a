// Implementation of cshim.h. See the header for what lives here.
#include "cshim.h"

#ifndef _WIN32
#include <dlfcn.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H(T, x) ((T)(uintptr_t)(x))
#define U(x) ((uint64_t)(uintptr_t)(x))

#ifdef _WIN32
#include <windows.h>

void *sg_dlopen(const char *name, char *err, int errlen) {
	HMODULE lib = LoadLibraryA(name);
	if (!lib) snprintf(err, errlen, "LoadLibrary %s: error %lu", name, (unsigned long)GetLastError());
	return (void *)lib;
}

void sg_dlclose(void *lib) { FreeLibrary((HMODULE)lib); }

void *sg_dlsym(void *lib, const char *sym) { return (void *)GetProcAddress((HMODULE)lib, sym); }
#else
void *sg_dlopen(const char *name, char *err, int errlen) {
	void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		snprintf(err, errlen, "%s", e ? e : "dlopen failed");
	}
	return lib;
}

void sg_dlclose(void *lib) { dlclose(lib); }

void *sg_dlsym(void *lib, const char *sym) { return dlsym(lib, sym); }
#endif

static VKAPI_ATTR VkBool32 VKAPI_CALL sg_debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
	VkDebugUtilsMessageTypeFlagsEXT types, const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
	SgInstance *in = (SgInstance *)user;
	(void)types;
	pthread_mutex_lock(&in->mu);
	if (in->nmsg < SG_MAX_MESSAGES) {
		snprintf(in->msgs[in->nmsg], SG_MESSAGE_LEN, "%s: %s",
			(severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning",
			data && data->pMessage ? data->pMessage : "(no message)");
		in->nmsg++;
	} else {
		in->dropped++;
	}
	pthread_mutex_unlock(&in->mu);
	return VK_FALSE;
}

int sg_take_messages(SgInstance *in, char *out, int outlen) {
	int n = 0, pos = 0;
	pthread_mutex_lock(&in->mu);
	out[0] = 0;
	for (int i = 0; i < in->nmsg; i++) {
		int w = snprintf(out + pos, outlen - pos, "%s%c", in->msgs[i], 0);
		if (w < 0 || pos + w >= outlen) break;
		pos += w;
		n++;
	}
	if (in->dropped > 0 && pos + 64 < outlen) {
		pos += snprintf(out + pos, outlen - pos, "%d more validation messages dropped%c", in->dropped, 0);
		n++;
	}
	in->nmsg = 0;
	in->dropped = 0;
	pthread_mutex_unlock(&in->mu);
	return n;
}

VkResult sg_create_instance(SgInstance *in, int validation, char *err, int errlen) {
	pthread_mutex_init(&in->mu, NULL);
	PFN_vkEnumerateInstanceVersion enumVersion =
		(PFN_vkEnumerateInstanceVersion)in->gipa(NULL, "vkEnumerateInstanceVersion");
	uint32_t loader = VK_API_VERSION_1_0;
	if (enumVersion) enumVersion(&loader);
	if (loader < VK_API_VERSION_1_1) {
		snprintf(err, errlen, "the Vulkan loader supports only API %u.%u; sargo needs 1.1",
			VK_API_VERSION_MAJOR(loader), VK_API_VERSION_MINOR(loader));
		return VK_ERROR_INCOMPATIBLE_DRIVER;
	}
	in->apiVersion = loader >= VK_API_VERSION_1_2 ? VK_API_VERSION_1_2 : VK_API_VERSION_1_1;
	VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO};
	app.pApplicationName = "sargo";
	app.pEngineName = "sargo";
	app.apiVersion = in->apiVersion;
	const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
	const char *exts[4];
	uint32_t next = 0;
	// MoltenVK and other portability drivers are listed only to an
	// instance that asks for them.
	PFN_vkEnumerateInstanceExtensionProperties enumExt =
		(PFN_vkEnumerateInstanceExtensionProperties)in->gipa(NULL, "vkEnumerateInstanceExtensionProperties");
	uint32_t nprops = 0;
	if (enumExt && enumExt(NULL, &nprops, NULL) == VK_SUCCESS && nprops > 0) {
		VkExtensionProperties *props = calloc(nprops, sizeof *props);
		if (props && enumExt(NULL, &nprops, props) == VK_SUCCESS) {
			for (uint32_t i = 0; i < nprops; i++) {
				if (strcmp(props[i].extensionName, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME) == 0) {
					exts[next++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
					in->portability = 1;
				}
			}
		}
		free(props);
	}
	VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
	VkValidationFeaturesEXT features = {VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
	features.enabledValidationFeatureCount = 1;
	features.pEnabledValidationFeatures = enables;
	VkDebugUtilsMessengerCreateInfoEXT dm = {VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
	dm.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
	dm.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
		VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
	dm.pfnUserCallback = sg_debug_callback;
	dm.pUserData = in;
	features.pNext = &dm;
	VkInstanceCreateInfo ci = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
	ci.pApplicationInfo = &app;
	if (in->portability) ci.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
	if (validation) {
		ci.enabledLayerCount = 1;
		ci.ppEnabledLayerNames = layers;
		exts[next++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
		exts[next++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
		ci.pNext = &features;
	}
	ci.enabledExtensionCount = next;
	ci.ppEnabledExtensionNames = exts;
	PFN_vkCreateInstance create = (PFN_vkCreateInstance)in->gipa(NULL, "vkCreateInstance");
	VkResult r = create(&ci, NULL, &in->instance);
	if (r != VK_SUCCESS) {
		snprintf(err, errlen, "vkCreateInstance%s", validation ? " with VK_LAYER_KHRONOS_validation" : "");
		return r;
	}
#define LOADI(f) in->f = (PFN_vk##f)in->gipa(in->instance, "vk" #f)
	LOADI(DestroyInstance);
	LOADI(GetPhysicalDeviceProperties2);
	LOADI(GetPhysicalDeviceFeatures2);
	LOADI(GetPhysicalDeviceMemoryProperties2);
	LOADI(EnumerateDeviceExtensionProperties);
	LOADI(CreateDevice);
	LOADI(GetDeviceProcAddr);
	LOADI(CreateDebugUtilsMessengerEXT);
	LOADI(DestroyDebugUtilsMessengerEXT);
	if (validation && in->CreateDebugUtilsMessengerEXT) {
		dm.pNext = NULL;
		r = in->CreateDebugUtilsMessengerEXT(in->instance, &dm, NULL, &in->messenger);
		if (r != VK_SUCCESS) {
			snprintf(err, errlen, "vkCreateDebugUtilsMessengerEXT");
			return r;
		}
	}
	return VK_SUCCESS;
}

void sg_destroy_instance(SgInstance *in) {
	if (in->messenger && in->DestroyDebugUtilsMessengerEXT)
		in->DestroyDebugUtilsMessengerEXT(in->instance, in->messenger, NULL);
	in->messenger = VK_NULL_HANDLE;
	if (in->instance) in->DestroyInstance(in->instance, NULL);
	in->instance = NULL;
	pthread_mutex_destroy(&in->mu);
}

// hasExtension reports whether the device lists the extension.
static int hasExtension(const VkExtensionProperties *props, uint32_t n, const char *name) {
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(props[i].extensionName, name) == 0) return 1;
	return 0;
}

// deviceExtensions returns the device's extension list (free it), or NULL.
static VkExtensionProperties *deviceExtensions(SgInstance *in, VkPhysicalDevice pd, uint32_t *n) {
	*n = 0;
	if (in->EnumerateDeviceExtensionProperties(pd, NULL, n, NULL) != VK_SUCCESS || *n == 0) return NULL;
	VkExtensionProperties *props = calloc(*n, sizeof *props);
	if (props && in->EnumerateDeviceExtensionProperties(pd, NULL, n, props) != VK_SUCCESS) {
		free(props);
		*n = 0;
		return NULL;
	}
	return props;
}

void sg_query_device(SgInstance *in, VkPhysicalDevice pd, SgDeviceInfo *info) {
	memset(info, 0, sizeof *info);
	uint32_t next = 0;
	VkExtensionProperties *exts = deviceExtensions(in, pd, &next);
	info->memoryBudget = hasExtension(exts, next, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
	info->pushDescriptor = hasExtension(exts, next, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
	info->portabilitySubset = hasExtension(exts, next, "VK_KHR_portability_subset");
	int robust2 = hasExtension(exts, next, VK_EXT_ROBUSTNESS_2_EXTENSION_NAME);
	int sizeControl = hasExtension(exts, next, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
	free(exts);

	VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
	VkPhysicalDeviceSubgroupProperties sub = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
	VkPhysicalDeviceMaintenance3Properties m3 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
	VkPhysicalDeviceIDProperties id = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
	VkPhysicalDeviceDriverProperties drv = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
	VkPhysicalDeviceSubgroupSizeControlPropertiesEXT ssc = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
	VkPhysicalDevicePushDescriptorPropertiesKHR pdp = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PUSH_DESCRIPTOR_PROPERTIES_KHR};
	p2.pNext = &sub;
	sub.pNext = &m3;
	m3.pNext = &id;
	void **tail = &id.pNext;
	VkPhysicalDeviceProperties base;
	PFN_vkGetPhysicalDeviceProperties gp =
		(PFN_vkGetPhysicalDeviceProperties)in->gipa(in->instance, "vkGetPhysicalDeviceProperties");
	gp(pd, &base);
	int v12 = base.apiVersion >= VK_API_VERSION_1_2 && in->apiVersion >= VK_API_VERSION_1_2;
	if (v12) {
		*tail = &drv;
		tail = &drv.pNext;
	}
	if (sizeControl) {
		*tail = &ssc;
		tail = &ssc.pNext;
	}
	if (info->pushDescriptor) {
		*tail = &pdp;
		tail = &pdp.pNext;
	}
	in->GetPhysicalDeviceProperties2(pd, &p2);
	VkPhysicalDeviceProperties *p = &p2.properties;
	snprintf(info->name, sizeof info->name, "%s", p->deviceName);
	if (v12)
		snprintf(info->driver, sizeof info->driver, "%s %s", drv.driverName, drv.driverInfo);
	memcpy(info->uuid, id.deviceUUID, VK_UUID_SIZE);
	info->type = p->deviceType;
	info->apiVersion = p->apiVersion;
	info->vendorID = p->vendorID;
	info->deviceID = p->deviceID;
	info->subgroupSize = sub.subgroupSize;
	info->subgroupOps = sub.supportedOperations;
	info->subgroupStages = sub.supportedStages;
	info->maxSharedMemory = p->limits.maxComputeSharedMemorySize;
	info->maxWorkgroupInvocations = p->limits.maxComputeWorkGroupInvocations;
	for (int i = 0; i < 3; i++) {
		info->maxWorkgroupSize[i] = p->limits.maxComputeWorkGroupSize[i];
		info->maxWorkgroupCount[i] = p->limits.maxComputeWorkGroupCount[i];
	}
	info->maxStorageBufferRange = p->limits.maxStorageBufferRange;
	info->maxPushConstantsSize = p->limits.maxPushConstantsSize;
	info->maxPerStageStorageBuffers = p->limits.maxPerStageDescriptorStorageBuffers;
	info->minStorageBufferOffsetAlignment = p->limits.minStorageBufferOffsetAlignment;
	info->maxMemoryAllocationSize = m3.maxMemoryAllocationSize;
	info->timestampPeriod = p->limits.timestampPeriod;
	info->timestampComputeAndGraphics = p->limits.timestampComputeAndGraphics;
	info->minSubgroupSize = info->maxSubgroupSize = sub.subgroupSize;
	if (sizeControl) {
		info->minSubgroupSize = ssc.minSubgroupSize;
		info->maxSubgroupSize = ssc.maxSubgroupSize;
		info->requiredSubgroupSizeStages = ssc.requiredSubgroupSizeStages;
	}
	info->maxPushDescriptors = pdp.maxPushDescriptors;

	VkPhysicalDeviceFeatures2 f2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
	VkPhysicalDevice16BitStorageFeatures s16 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
	VkPhysicalDeviceShaderFloat16Int8Features fi = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
	VkPhysicalDevice8BitStorageFeatures s8 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
	VkPhysicalDeviceRobustness2FeaturesEXT r2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT};
	VkPhysicalDeviceSubgroupSizeControlFeaturesEXT sscf = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT};
	f2.pNext = &s16;
	tail = &s16.pNext;
	if (v12) {
		s16.pNext = &fi;
		fi.pNext = &s8;
		tail = &s8.pNext;
	}
	if (robust2) {
		*tail = &r2;
		tail = &r2.pNext;
	}
	if (sizeControl) {
		*tail = &sscf;
		tail = &sscf.pNext;
	}
	in->GetPhysicalDeviceFeatures2(pd, &f2);
	info->shaderFloat16 = fi.shaderFloat16;
	info->shaderInt8 = fi.shaderInt8;
	info->storage16 = s16.storageBuffer16BitAccess;
	info->storage8 = s8.storageBuffer8BitAccess;
	info->robustBufferAccess = f2.features.robustBufferAccess;
	info->robustness2 = robust2 && r2.robustBufferAccess2 && f2.features.robustBufferAccess;
	info->subgroupSizeControl = sizeControl && sscf.subgroupSizeControl && sscf.computeFullSubgroups;
}

VkResult sg_create_device(SgInstance *in, VkPhysicalDevice pd, uint32_t family, const SgEnable *en, SgDevice *d) {
	float prio = 1.0f;
	VkDeviceQueueCreateInfo q = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
	q.queueFamilyIndex = family;
	q.queueCount = 1;
	q.pQueuePriorities = &prio;
	const char *exts[8];
	uint32_t next = 0;
	VkPhysicalDeviceFeatures2 f2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
	VkPhysicalDeviceRobustness2FeaturesEXT r2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ROBUSTNESS_2_FEATURES_EXT};
	VkPhysicalDeviceSubgroupSizeControlFeaturesEXT ssc = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT};
	void **tail = &f2.pNext;
	f2.features.robustBufferAccess = en->robustBufferAccess || en->robustness2;
	if (en->robustness2) {
		exts[next++] = VK_EXT_ROBUSTNESS_2_EXTENSION_NAME;
		r2.robustBufferAccess2 = VK_TRUE;
		*tail = &r2;
		tail = &r2.pNext;
	}
	if (en->subgroupSizeControl) {
		exts[next++] = VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
		ssc.subgroupSizeControl = VK_TRUE;
		ssc.computeFullSubgroups = VK_TRUE;
		*tail = &ssc;
		tail = &ssc.pNext;
	}
	if (en->memoryBudget) exts[next++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
	if (en->pushDescriptor) exts[next++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
	if (en->portabilitySubset) exts[next++] = "VK_KHR_portability_subset";
	VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR pe = {
		VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
	if (en->pipelineStats) {
		exts[next++] = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
		pe.pipelineExecutableInfo = VK_TRUE;
		*tail = &pe;
		tail = &pe.pNext;
	}
	VkDeviceCreateInfo ci = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
	ci.pNext = &f2;
	ci.queueCreateInfoCount = 1;
	ci.pQueueCreateInfos = &q;
	ci.enabledExtensionCount = next;
	ci.ppEnabledExtensionNames = exts;
	VkResult r = in->CreateDevice(pd, &ci, NULL, &d->device);
	if (r != VK_SUCCESS) return r;
	d->queueFamily = family;
	d->robustBufferAccess = f2.features.robustBufferAccess;
	d->robustBufferAccess2 = en->robustness2 ? r2.robustBufferAccess2 : VK_FALSE;
#define LOADD(f) d->f = (PFN_vk##f)in->GetDeviceProcAddr(d->device, "vk" #f)
	PFN_vkGetDeviceQueue getQueue = (PFN_vkGetDeviceQueue)in->GetDeviceProcAddr(d->device, "vkGetDeviceQueue");
	getQueue(d->device, family, 0, &d->queue);
	LOADD(DestroyDevice);
	LOADD(DeviceWaitIdle);
	LOADD(CreateBuffer);
	LOADD(DestroyBuffer);
	LOADD(GetBufferMemoryRequirements);
	LOADD(AllocateMemory);
	LOADD(FreeMemory);
	LOADD(BindBufferMemory);
	LOADD(MapMemory);
	LOADD(UnmapMemory);
	LOADD(CreateShaderModule);
	LOADD(DestroyShaderModule);
	LOADD(CreateDescriptorSetLayout);
	LOADD(DestroyDescriptorSetLayout);
	LOADD(CreatePipelineLayout);
	LOADD(DestroyPipelineLayout);
	LOADD(CreateComputePipelines);
	LOADD(DestroyPipeline);
	LOADD(CreatePipelineCache);
	LOADD(GetPipelineCacheData);
	LOADD(DestroyPipelineCache);
	LOADD(CreateDescriptorPool);
	LOADD(DestroyDescriptorPool);
	LOADD(ResetDescriptorPool);
	LOADD(AllocateDescriptorSets);
	LOADD(UpdateDescriptorSets);
	LOADD(CreateCommandPool);
	LOADD(DestroyCommandPool);
	LOADD(ResetCommandPool);
	LOADD(AllocateCommandBuffers);
	LOADD(BeginCommandBuffer);
	LOADD(EndCommandBuffer);
	LOADD(QueueSubmit);
	LOADD(CreateFence);
	LOADD(DestroyFence);
	LOADD(WaitForFences);
	LOADD(ResetFences);
	LOADD(GetFenceStatus);
	LOADD(CreateQueryPool);
	LOADD(DestroyQueryPool);
	LOADD(GetQueryPoolResults);
	LOADD(CmdResetQueryPool);
	LOADD(CmdWriteTimestamp);
	LOADD(CmdBindPipeline);
	LOADD(CmdBindDescriptorSets);
	LOADD(CmdPushConstants);
	LOADD(CmdDispatch);
	LOADD(CmdDispatchBase);
	LOADD(CmdPipelineBarrier);
	LOADD(CmdFillBuffer);
	LOADD(CmdCopyBuffer);
	if (en->pushDescriptor) {
		LOADD(CmdPushDescriptorSetKHR);
		LOADD(CmdPushDescriptorSetWithTemplateKHR);
		LOADD(CreateDescriptorUpdateTemplate);
		LOADD(DestroyDescriptorUpdateTemplate);
	}
	if (en->pipelineStats) {
		LOADD(GetPipelineExecutablePropertiesKHR);
		LOADD(GetPipelineExecutableStatisticsKHR);
	}
	return VK_SUCCESS;
}

uint32_t sg_memory_budget(SgInstance *in, VkPhysicalDevice pd, int ext, uint64_t *size, uint64_t *budget, uint64_t *usage) {
	VkPhysicalDeviceMemoryProperties2 mp = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
	VkPhysicalDeviceMemoryBudgetPropertiesEXT mb = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
	if (ext) mp.pNext = &mb;
	in->GetPhysicalDeviceMemoryProperties2(pd, &mp);
	uint32_t n = mp.memoryProperties.memoryHeapCount;
	for (uint32_t i = 0; i < n; i++) {
		size[i] = mp.memoryProperties.memoryHeaps[i].size;
		budget[i] = ext ? mb.heapBudget[i] : 0;
		usage[i] = ext ? mb.heapUsage[i] : 0;
	}
	return n;
}

void sg_destroy_device(SgDevice *d) {
	if (d->device) d->DestroyDevice(d->device, NULL);
	d->device = NULL;
}

VkResult sg_create_memory(SgDevice *d, uint64_t size, uint32_t memType, int map, uint64_t *memory, void **mapped) {
	VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
	ai.allocationSize = size;
	ai.memoryTypeIndex = memType;
	VkDeviceMemory mem;
	VkResult r = d->AllocateMemory(d->device, &ai, NULL, &mem);
	if (r != VK_SUCCESS) return r;
	*mapped = NULL;
	if (map) {
		r = d->MapMemory(d->device, mem, 0, VK_WHOLE_SIZE, 0, mapped);
		if (r != VK_SUCCESS) {
			d->FreeMemory(d->device, mem, NULL);
			return r;
		}
	}
	*memory = U(mem);
	return VK_SUCCESS;
}

void sg_destroy_memory(SgDevice *d, uint64_t memory, int mapped) {
	if (mapped) d->UnmapMemory(d->device, H(VkDeviceMemory, memory));
	d->FreeMemory(d->device, H(VkDeviceMemory, memory), NULL);
}

static VkResult newBuffer(SgDevice *d, uint64_t size, VkBuffer *buf, VkMemoryRequirements *req) {
	VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
	bi.size = size;
	bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
	bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
	VkResult r = d->CreateBuffer(d->device, &bi, NULL, buf);
	if (r != VK_SUCCESS) return r;
	d->GetBufferMemoryRequirements(d->device, *buf, req);
	return VK_SUCCESS;
}

VkResult sg_buffer_requirements(SgDevice *d, uint64_t size, uint64_t *alignment, uint32_t *typeBits) {
	VkBuffer buf;
	VkMemoryRequirements req;
	VkResult r = newBuffer(d, size, &buf, &req);
	if (r != VK_SUCCESS) return r;
	d->DestroyBuffer(d->device, buf, NULL);
	*alignment = req.alignment;
	*typeBits = req.memoryTypeBits;
	return VK_SUCCESS;
}

VkResult sg_create_buffer(SgDevice *d, uint64_t memory, uint32_t memType, uint64_t offset, uint64_t size, uint64_t *buffer) {
	VkBuffer buf;
	VkMemoryRequirements req;
	VkResult r = newBuffer(d, size, &buf, &req);
	if (r != VK_SUCCESS) return r;
	if (!(req.memoryTypeBits & (1u << memType)) || offset % req.alignment != 0) {
		d->DestroyBuffer(d->device, buf, NULL);
		return VK_ERROR_FEATURE_NOT_PRESENT;
	}
	r = d->BindBufferMemory(d->device, buf, H(VkDeviceMemory, memory), offset);
	if (r != VK_SUCCESS) {
		d->DestroyBuffer(d->device, buf, NULL);
		return r;
	}
	*buffer = U(buf);
	return VK_SUCCESS;
}

void sg_destroy_buffer(SgDevice *d, uint64_t buffer) { d->DestroyBuffer(d->device, H(VkBuffer, buffer), NULL); }

VkResult sg_create_pipeline_cache(SgDevice *d, const void *data, size_t len, uint64_t *cache) {
	VkPipelineCacheCreateInfo ci = {VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
	ci.initialDataSize = len;
	ci.pInitialData = data;
	VkPipelineCache c;
	VkResult r = d->CreatePipelineCache(d->device, &ci, NULL, &c);
	if (r != VK_SUCCESS && len > 0) {
		ci.initialDataSize = 0; // a corrupt or foreign cache file: start empty
		ci.pInitialData = NULL;
		r = d->CreatePipelineCache(d->device, &ci, NULL, &c);
	}
	if (r == VK_SUCCESS) *cache = U(c);
	return r;
}

size_t sg_pipeline_cache_data(SgDevice *d, uint64_t cache, void *out, size_t cap) {
	size_t n = cap;
	VkResult r = d->GetPipelineCacheData(d->device, H(VkPipelineCache, cache), &n, out);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) return 0;
	return n;
}

void sg_destroy_pipeline_cache(SgDevice *d, uint64_t cache) {
	d->DestroyPipelineCache(d->device, H(VkPipelineCache, cache), NULL);
}

VkResult sg_create_layouts(SgDevice *d, uint32_t nbuf, uint32_t pushSize, int pushDescriptors, uint64_t *setLayout, uint64_t *layout, uint64_t *tmpl) {
	*tmpl = 0;
	VkDescriptorSetLayoutBinding b[16];
	for (uint32_t i = 0; i < nbuf; i++) {
		memset(&b[i], 0, sizeof b[i]);
		b[i].binding = i;
		b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
		b[i].descriptorCount = 1;
		b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
	}
	VkDescriptorSetLayoutCreateInfo si = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
	if (pushDescriptors) si.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
	si.bindingCount = nbuf;
	si.pBindings = b;
	VkDescriptorSetLayout sl;
	VkResult r = d->CreateDescriptorSetLayout(d->device, &si, NULL, &sl);
	if (r != VK_SUCCESS) return r;
	VkPushConstantRange pr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, pushSize};
	VkPipelineLayoutCreateInfo li = {VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
	li.setLayoutCount = 1;
	li.pSetLayouts = &sl;
	li.pushConstantRangeCount = pushSize > 0 ? 1 : 0;
	li.pPushConstantRanges = &pr;
	VkPipelineLayout pl;
	r = d->CreatePipelineLayout(d->device, &li, NULL, &pl);
	if (r != VK_SUCCESS) {
		d->DestroyDescriptorSetLayout(d->device, sl, NULL);
		return r;
	}
	*setLayout = U(sl);
	*layout = U(pl);
	if (pushDescriptors && d->CmdPushDescriptorSetWithTemplateKHR && d->CreateDescriptorUpdateTemplate) {
		VkDescriptorUpdateTemplateEntry e[16];
		for (uint32_t i = 0; i < nbuf; i++) {
			e[i].dstBinding = i;
			e[i].dstArrayElement = 0;
			e[i].descriptorCount = 1;
			e[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
			e[i].offset = i * sizeof(SgBuf);
			e[i].stride = sizeof(SgBuf);
		}
		VkDescriptorUpdateTemplateCreateInfo ti = {VK_STRUCTURE_TYPE_DESCRIPTOR_UPDATE_TEMPLATE_CREATE_INFO};
		ti.descriptorUpdateEntryCount = nbuf;
		ti.pDescriptorUpdateEntries = e;
		ti.templateType = VK_DESCRIPTOR_UPDATE_TEMPLATE_TYPE_PUSH_DESCRIPTORS_KHR;
		ti.descriptorSetLayout = sl;
		ti.pipelineBindPoint = VK_PIPELINE_BIND_POINT_COMPUTE;
		ti.pipelineLayout = pl;
		ti.set = 0;
		VkDescriptorUpdateTemplate t;
		// Without a template the bindings are pushed as writes.
		if (d->CreateDescriptorUpdateTemplate(d->device, &ti, NULL, &t) == VK_SUCCESS) *tmpl = U(t);
	}
	return VK_SUCCESS;
}

void sg_destroy_layouts(SgDevice *d, uint64_t setLayout, uint64_t layout, uint64_t tmpl) {
	if (tmpl) d->DestroyDescriptorUpdateTemplate(d->device, H(VkDescriptorUpdateTemplate, tmpl), NULL);
	d->DestroyPipelineLayout(d->device, H(VkPipelineLayout, layout), NULL);
	d->DestroyDescriptorSetLayout(d->device, H(VkDescriptorSetLayout, setLayout), NULL);
}

VkResult sg_create_module(SgDevice *d, const uint32_t *code, size_t len, uint64_t *module) {
	VkShaderModuleCreateInfo ci = {VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
	ci.codeSize = len;
	ci.pCode = code;
	VkShaderModule m;
	VkResult r = d->CreateShaderModule(d->device, &ci, NULL, &m);
	if (r == VK_SUCCESS) *module = U(m);
	return r;
}

void sg_destroy_module(SgDevice *d, uint64_t module) {
	d->DestroyShaderModule(d->device, H(VkShaderModule, module), NULL);
}

VkResult sg_create_pipeline(SgDevice *d, uint64_t cache, uint64_t module, uint64_t layout, const uint32_t *spec, uint32_t nspec,
	uint32_t subgroupSize, uint32_t flags, uint64_t *pipeline) {
	VkSpecializationMapEntry e[32];
	if (nspec > 32) nspec = 32;
	for (uint32_t i = 0; i < nspec; i++) {
		e[i].constantID = i;
		e[i].offset = 4 * i;
		e[i].size = 4;
	}
	VkSpecializationInfo si = {nspec, e, 4 * (size_t)nspec, spec};
	VkComputePipelineCreateInfo ci = {VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
	// Grids beyond maxComputeWorkGroupCount are recorded as several
	// vkCmdDispatchBase calls.
	ci.flags = VK_PIPELINE_CREATE_DISPATCH_BASE_BIT;
	ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
	VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT rs = {
		VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT};
	if (subgroupSize > 0) {
		rs.requiredSubgroupSize = subgroupSize;
		ci.stage.pNext = &rs;
		ci.stage.flags = VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT_EXT;
	}
	ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
	ci.stage.module = H(VkShaderModule, module);
	ci.stage.pName = "main";
	ci.stage.pSpecializationInfo = nspec > 0 ? &si : NULL;
	ci.layout = H(VkPipelineLayout, layout);
	ci.flags |= flags;
	VkPipeline p;
	VkResult r = d->CreateComputePipelines(d->device, H(VkPipelineCache, cache), 1, &ci, NULL, &p);
	if (r == VK_SUCCESS) *pipeline = U(p);
	return r;
}

void sg_destroy_pipeline(SgDevice *d, uint64_t pipeline) {
	d->DestroyPipeline(d->device, H(VkPipeline, pipeline), NULL);
}

VkResult sg_pipeline_statistics(SgDevice *d, uint64_t pipeline, SgStat *out, uint32_t cap, uint32_t *count, uint32_t *subgroupSize) {
	*count = 0;
	*subgroupSize = 0;
	if (!d->GetPipelineExecutablePropertiesKHR || !d->GetPipelineExecutableStatisticsKHR) return VK_ERROR_EXTENSION_NOT_PRESENT;
	VkPipelineInfoKHR pi = {VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR};
	pi.pipeline = H(VkPipeline, pipeline);
	VkPipelineExecutablePropertiesKHR props[4];
	uint32_t nexec = 4;
	for (uint32_t i = 0; i < nexec; i++) {
		memset(&props[i], 0, sizeof props[i]);
		props[i].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR;
	}
	VkResult r = d->GetPipelineExecutablePropertiesKHR(d->device, &pi, &nexec, props);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) return r;
	uint32_t exec = nexec;
	for (uint32_t i = 0; i < nexec; i++) {
		if (props[i].stages & VK_SHADER_STAGE_COMPUTE_BIT) {
			exec = i;
			break;
		}
	}
	if (exec == nexec) return VK_ERROR_FEATURE_NOT_PRESENT;
	*subgroupSize = props[exec].subgroupSize;
	VkPipelineExecutableInfoKHR ei = {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR};
	ei.pipeline = H(VkPipeline, pipeline);
	ei.executableIndex = exec;
	VkPipelineExecutableStatisticKHR st[64];
	uint32_t n = cap < 64 ? cap : 64;
	for (uint32_t i = 0; i < n; i++) {
		memset(&st[i], 0, sizeof st[i]);
		st[i].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
	}
	r = d->GetPipelineExecutableStatisticsKHR(d->device, &ei, &n, st);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) return r;
	for (uint32_t i = 0; i < n; i++) {
		snprintf(out[i].name, sizeof out[i].name, "%s", st[i].name);
		switch (st[i].format) {
		case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: out[i].value = st[i].value.b32; break;
		case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: out[i].value = (double)st[i].value.i64; break;
		case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: out[i].value = (double)st[i].value.u64; break;
		default: out[i].value = st[i].value.f64; break;
		}
	}
	*count = n;
	return VK_SUCCESS;
}

VkResult sg_create_frame(SgDevice *d, uint32_t queries, uint64_t *cmdPool, VkCommandBuffer *cmd, uint64_t *fence, uint64_t *queryPool) {
	VkCommandPoolCreateInfo pi = {VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
	pi.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
	pi.queueFamilyIndex = d->queueFamily;
	VkCommandPool cp;
	VkResult r = d->CreateCommandPool(d->device, &pi, NULL, &cp);
	if (r != VK_SUCCESS) return r;
	*cmdPool = U(cp);
	VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
	ai.commandPool = cp;
	ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
	ai.commandBufferCount = 1;
	r = d->AllocateCommandBuffers(d->device, &ai, cmd);
	if (r != VK_SUCCESS) return r;
	VkFenceCreateInfo fi = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
	VkFence f;
	r = d->CreateFence(d->device, &fi, NULL, &f);
	if (r != VK_SUCCESS) return r;
	*fence = U(f);
	if (queries > 0) {
		VkQueryPoolCreateInfo qi = {VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
		qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
		qi.queryCount = queries;
		VkQueryPool qp;
		r = d->CreateQueryPool(d->device, &qi, NULL, &qp);
		if (r != VK_SUCCESS) return r;
		*queryPool = U(qp);
	}
	return VK_SUCCESS;
}

void sg_destroy_frame(SgDevice *d, uint64_t cmdPool, uint64_t fence, uint64_t queryPool) {
	if (queryPool) d->DestroyQueryPool(d->device, H(VkQueryPool, queryPool), NULL);
	if (fence) d->DestroyFence(d->device, H(VkFence, fence), NULL);
	if (cmdPool) d->DestroyCommandPool(d->device, H(VkCommandPool, cmdPool), NULL);
}

VkResult sg_create_descriptor_pool(SgDevice *d, uint32_t maxSets, uint32_t maxDescriptors, uint64_t *pool) {
	VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, maxDescriptors};
	VkDescriptorPoolCreateInfo di = {VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
	di.maxSets = maxSets;
	di.poolSizeCount = 1;
	di.pPoolSizes = &ps;
	VkDescriptorPool dp;
	VkResult r = d->CreateDescriptorPool(d->device, &di, NULL, &dp);
	if (r == VK_SUCCESS) *pool = U(dp);
	return r;
}

void sg_destroy_descriptor_pool(SgDevice *d, uint64_t pool) {
	d->DestroyDescriptorPool(d->device, H(VkDescriptorPool, pool), NULL);
}

VkResult sg_reset_descriptor_pool(SgDevice *d, uint64_t pool) {
	return d->ResetDescriptorPool(d->device, H(VkDescriptorPool, pool), 0);
}

// fillWrites fills n descriptor writes for bufs (dstSet left to the caller).
static void fillWrites(uint32_t n, const SgBuf *bufs, VkDescriptorBufferInfo *info, VkWriteDescriptorSet *w, VkDescriptorSet set) {
	for (uint32_t i = 0; i < n; i++) {
		info[i].buffer = H(VkBuffer, bufs[i].buffer);
		info[i].offset = bufs[i].offset;
		info[i].range = bufs[i].range;
		memset(&w[i], 0, sizeof w[i]);
		w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
		w[i].dstSet = set;
		w[i].dstBinding = i;
		w[i].descriptorCount = 1;
		w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
		w[i].pBufferInfo = &info[i];
	}
}

VkResult sg_make_set(SgDevice *d, uint64_t pool, uint64_t setLayout, uint32_t nbuf, const SgBuf *bufs, uint64_t *set) {
	VkDescriptorSetLayout sl = H(VkDescriptorSetLayout, setLayout);
	VkDescriptorSetAllocateInfo ai = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
	ai.descriptorPool = H(VkDescriptorPool, pool);
	ai.descriptorSetCount = 1;
	ai.pSetLayouts = &sl;
	VkDescriptorSet s;
	VkResult r = d->AllocateDescriptorSets(d->device, &ai, &s);
	if (r != VK_SUCCESS) return r;
	VkDescriptorBufferInfo info[16];
	VkWriteDescriptorSet w[16];
	fillWrites(nbuf, bufs, info, w, s);
	d->UpdateDescriptorSets(d->device, nbuf, w, 0, NULL);
	*set = U(s);
	return VK_SUCCESS;
}

static void sg_barrier(SgDevice *d, VkCommandBuffer cmd) {
	VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER};
	mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
	mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
		VK_ACCESS_TRANSFER_WRITE_BIT;
	VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
	d->CmdPipelineBarrier(cmd, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
}

VkResult sg_begin(SgDevice *d, uint64_t cmdPool, VkCommandBuffer cmd, uint64_t queryPool, uint32_t queries) {
	VkResult r = d->ResetCommandPool(d->device, H(VkCommandPool, cmdPool), 0);
	if (r != VK_SUCCESS) return r;
	VkCommandBufferBeginInfo bi = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
	bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
	r = d->BeginCommandBuffer(cmd, &bi);
	if (r != VK_SUCCESS) return r;
	if (queryPool) d->CmdResetQueryPool(cmd, H(VkQueryPool, queryPool), 0, queries);
	// Order this batch after everything submitted before it.
	sg_barrier(d, cmd);
	return VK_SUCCESS;
}

void sg_end(SgDevice *d, VkCommandBuffer cmd) { d->EndCommandBuffer(cmd); }

VkResult sg_submit(SgDevice *d, VkCommandBuffer cmd, uint64_t fence) {
	// Make every shader write of the batch visible to the host.
	VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER};
	mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
	mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
	d->CmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
		VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
	VkResult r = d->EndCommandBuffer(cmd);
	if (r != VK_SUCCESS) return r;
	VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO};
	si.commandBufferCount = 1;
	si.pCommandBuffers = &cmd;
	return d->QueueSubmit(d->queue, 1, &si, H(VkFence, fence));
}

VkResult sg_wait(SgDevice *d, uint64_t fence) {
	VkFence f = H(VkFence, fence);
	return d->WaitForFences(d->device, 1, &f, VK_TRUE, UINT64_MAX);
}

VkResult sg_reset_fence(SgDevice *d, uint64_t fence) {
	VkFence f = H(VkFence, fence);
	return d->ResetFences(d->device, 1, &f);
}

VkResult sg_query_results(SgDevice *d, uint64_t queryPool, uint32_t count, uint64_t *out) {
	return d->GetQueryPoolResults(d->device, H(VkQueryPool, queryPool), 0, count, (size_t)count * 8, out, 8,
		VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
}

VkResult sg_dispatch(SgDevice *d, VkCommandBuffer cmd, const SgDispatch *x) {
	VkPipelineLayout layout = H(VkPipelineLayout, x->layout);
	if (x->barrier) sg_barrier(d, cmd);
	if (x->bind) d->CmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, H(VkPipeline, x->pipeline));
	if (x->set) {
		VkDescriptorSet set = H(VkDescriptorSet, x->set);
		d->CmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
	} else if (x->tmpl) {
		d->CmdPushDescriptorSetWithTemplateKHR(cmd, H(VkDescriptorUpdateTemplate, x->tmpl), layout, 0, x->bufs);
	} else {
		VkDescriptorBufferInfo info[16];
		VkWriteDescriptorSet w[16];
		fillWrites(x->nbuf, x->bufs, info, w, VK_NULL_HANDLE);
		d->CmdPushDescriptorSetKHR(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, x->nbuf, w);
	}
	if (x->pushSize > 0) d->CmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, x->pushSize, x->push);
	if (x->queryPool)
		d->CmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, H(VkQueryPool, x->queryPool), x->query);
	const uint32_t *g = x->groups, *m = d->maxGroups;
	if (g[0] <= m[0] && g[1] <= m[1] && g[2] <= m[2]) {
		d->CmdDispatch(cmd, g[0], g[1], g[2]);
	} else {
		// A grid beyond the device's limit runs as several dispatches whose
		// gl_WorkGroupID continues where the last stopped.
		for (uint64_t z = 0; z < g[2]; z += m[2])
			for (uint64_t y = 0; y < g[1]; y += m[1])
				for (uint64_t xx = 0; xx < g[0]; xx += m[0]) {
					uint64_t cx = g[0] - xx < m[0] ? g[0] - xx : m[0];
					uint64_t cy = g[1] - y < m[1] ? g[1] - y : m[1];
					uint64_t cz = g[2] - z < m[2] ? g[2] - z : m[2];
					d->CmdDispatchBase(cmd, (uint32_t)xx, (uint32_t)y, (uint32_t)z, (uint32_t)cx, (uint32_t)cy, (uint32_t)cz);
				}
	}
	if (x->queryPool)
		d->CmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, H(VkQueryPool, x->queryPool), x->query + 1);
	return VK_SUCCESS;
}

void sg_fill(SgDevice *d, VkCommandBuffer cmd, uint64_t buffer, uint64_t offset, uint64_t size, uint32_t value, int barrier) {
	if (barrier) sg_barrier(d, cmd);
	d->CmdFillBuffer(cmd, H(VkBuffer, buffer), offset, size, value);
}

void sg_wait_idle(SgDevice *d) { d->DeviceWaitIdle(d->device); }

VkResult sg_fence_status(SgDevice *d, uint64_t fence) {
	PFN_vkGetFenceStatus f = d->GetFenceStatus;
	return f(d->device, H(VkFence, fence));
}

void sg_copy(SgDevice *d, VkCommandBuffer cmd, uint64_t src, uint64_t srcOffset, uint64_t dst, uint64_t dstOffset, uint64_t size, int barrier) {
	if (barrier) sg_barrier(d, cmd);
	VkBufferCopy r = {srcOffset, dstOffset, size};
	d->CmdCopyBuffer(cmd, H(VkBuffer, src), H(VkBuffer, dst), 1, &r);
}
