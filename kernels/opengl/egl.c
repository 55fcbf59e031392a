//go:build opengl && cgo

#include "egl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// The entry points are loaded once per process and kept: the Go binding's
// GL function pointers come from eglGetProcAddress and live as long.
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *lib;
static PFNEGLGETPROCADDRESSPROC GetProcAddress;
static PFNEGLQUERYSTRINGPROC QueryString;
static PFNEGLGETERRORPROC GetError;
static PFNEGLINITIALIZEPROC Initialize;
static PFNEGLBINDAPIPROC BindAPI;
static PFNEGLCREATECONTEXTPROC CreateContext;
static PFNEGLDESTROYCONTEXTPROC DestroyContext;
static PFNEGLMAKECURRENTPROC MakeCurrent;
static PFNEGLGETPLATFORMDISPLAYEXTPROC GetPlatformDisplayEXT;
static PFNEGLQUERYDEVICESEXTPROC QueryDevicesEXT;
static PFNEGLQUERYDEVICESTRINGEXTPROC QueryDeviceStringEXT;

int sg_egl_open(const char *name, char *err, int errlen) {
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, errlen, "%s", e ? e : "dlopen failed");
		return -1;
	}
	pthread_mutex_lock(&mu);
	if (lib) {
		pthread_mutex_unlock(&mu);
		dlclose(h);
		return 0;
	}
	GetProcAddress = (PFNEGLGETPROCADDRESSPROC)dlsym(h, "eglGetProcAddress");
	QueryString = (PFNEGLQUERYSTRINGPROC)dlsym(h, "eglQueryString");
	GetError = (PFNEGLGETERRORPROC)dlsym(h, "eglGetError");
	Initialize = (PFNEGLINITIALIZEPROC)dlsym(h, "eglInitialize");
	BindAPI = (PFNEGLBINDAPIPROC)dlsym(h, "eglBindAPI");
	CreateContext = (PFNEGLCREATECONTEXTPROC)dlsym(h, "eglCreateContext");
	DestroyContext = (PFNEGLDESTROYCONTEXTPROC)dlsym(h, "eglDestroyContext");
	MakeCurrent = (PFNEGLMAKECURRENTPROC)dlsym(h, "eglMakeCurrent");
	if (!GetProcAddress || !QueryString || !GetError || !Initialize || !BindAPI || !CreateContext ||
		!DestroyContext || !MakeCurrent) {
		pthread_mutex_unlock(&mu);
		dlclose(h);
		snprintf(err, errlen, "%s lacks the EGL 1.4 entry points", name);
		return -1;
	}
	GetPlatformDisplayEXT = (PFNEGLGETPLATFORMDISPLAYEXTPROC)GetProcAddress("eglGetPlatformDisplayEXT");
	QueryDevicesEXT = (PFNEGLQUERYDEVICESEXTPROC)GetProcAddress("eglQueryDevicesEXT");
	QueryDeviceStringEXT = (PFNEGLQUERYDEVICESTRINGEXTPROC)GetProcAddress("eglQueryDeviceStringEXT");
	lib = h;
	pthread_mutex_unlock(&mu);
	return 0;
}

const char *sg_egl_client_extensions(void) {
	const char *s = QueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (!s) {
		GetError(); // EGL_BAD_DISPLAY without EGL_EXT_client_extensions
		return "";
	}
	return s;
}

int sg_egl_devices(void **devs, int max) {
	if (!QueryDevicesEXT) {
		return -1;
	}
	EGLint n = 0;
	if (!QueryDevicesEXT(max, (EGLDeviceEXT *)devs, &n)) {
		return -1;
	}
	return n;
}

const char *sg_egl_device_string(void *dev, int name) {
	if (!QueryDeviceStringEXT) {
		return NULL;
	}
	const char *s = QueryDeviceStringEXT((EGLDeviceEXT)dev, name);
	if (!s) {
		GetError();
	}
	return s;
}

void *sg_egl_display(void *dev, int *egl_err) {
	*egl_err = EGL_SUCCESS;
	if (!GetPlatformDisplayEXT) {
		*egl_err = EGL_BAD_PARAMETER;
		return NULL;
	}
	EGLDisplay dpy = dev ? GetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, dev, NULL)
			     : GetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	if (dpy == EGL_NO_DISPLAY) {
		*egl_err = GetError();
		return NULL;
	}
	EGLint major, minor;
	if (!Initialize(dpy, &major, &minor)) {
		*egl_err = GetError();
		return NULL;
	}
	return dpy;
}

const char *sg_egl_display_string(void *dpy, int name) {
	const char *s = QueryString((EGLDisplay)dpy, name);
	return s ? s : "";
}

void *sg_egl_context(void *dpy, int major, int minor, int core, int debug, int robust, int *egl_err) {
	*egl_err = EGL_SUCCESS;
	if (!BindAPI(EGL_OPENGL_API)) {
		*egl_err = GetError();
		return NULL;
	}
	EGLint attr[16];
	int n = 0;
	if (major > 0) {
		attr[n++] = EGL_CONTEXT_MAJOR_VERSION;
		attr[n++] = major;
		attr[n++] = EGL_CONTEXT_MINOR_VERSION;
		attr[n++] = minor;
	}
	if (core) {
		attr[n++] = EGL_CONTEXT_OPENGL_PROFILE_MASK;
		attr[n++] = EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT;
	}
	if (debug) {
		attr[n++] = EGL_CONTEXT_OPENGL_DEBUG;
		attr[n++] = EGL_TRUE;
	}
	if (robust) {
		attr[n++] = EGL_CONTEXT_OPENGL_ROBUST_ACCESS;
		attr[n++] = EGL_TRUE;
	}
	attr[n] = EGL_NONE;
	EGLContext ctx = CreateContext((EGLDisplay)dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attr);
	if (ctx == EGL_NO_CONTEXT) {
		*egl_err = GetError();
		return NULL;
	}
	if (!MakeCurrent((EGLDisplay)dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
		*egl_err = GetError();
		DestroyContext((EGLDisplay)dpy, ctx);
		return NULL;
	}
	return ctx;
}

void sg_egl_release(void *dpy, void *ctx) {
	MakeCurrent((EGLDisplay)dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	DestroyContext((EGLDisplay)dpy, (EGLContext)ctx);
}

void *sg_egl_proc(const char *name) { return (void *)GetProcAddress(name); }

const char *sg_gl_string(void *fn, unsigned name) {
	if (!fn) {
		return NULL;
	}
	typedef const unsigned char *(*GetString)(unsigned);
	return (const char *)((GetString)fn)(name);
}
