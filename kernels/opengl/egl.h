// The EGL side of the OpenGL backend: libEGL is opened with dlopen, so a
// binary built with the opengl tag starts without it and says what to
// install. Headless contexts come from EGL_EXT_platform_device (one display
// per enumerated device) or EGL_MESA_platform_surfaceless.
#ifndef SARGO_EGL_SHIM_H
#define SARGO_EGL_SHIM_H

#include <EGL/egl.h>
#include <EGL/eglext.h>

#define SG_EGL_MAX_DEVICES 16

// sg_egl_open loads the EGL library name and its entry points the first
// time it succeeds; later calls only check that name opens. Returns 0, or
// -1 with a message in err.
int sg_egl_open(const char *name, char *err, int errlen);

// sg_egl_client_extensions is EGL_EXTENSIONS of EGL_NO_DISPLAY.
const char *sg_egl_client_extensions(void);

// sg_egl_devices fills devs with up to max EGLDeviceEXT handles and
// returns their number, or -1 when the call fails.
int sg_egl_devices(void **devs, int max);

// sg_egl_device_string is eglQueryDeviceStringEXT, or NULL.
const char *sg_egl_device_string(void *dev, int name);

// sg_egl_display returns the initialised display of dev (with
// EGL_PLATFORM_DEVICE_EXT), or of the surfaceless platform when dev is
// NULL, or NULL with the EGL error in *egl_err.
void *sg_egl_display(void *dev, int *egl_err);

// sg_egl_display_string is eglQueryString of an initialised display.
const char *sg_egl_display_string(void *dpy, int name);

// sg_egl_context creates an OpenGL context of at least major.minor (core
// profile when core is set, none at all when major is 0), with the debug
// and robust-access flags as asked, and makes it current on the calling
// thread without a surface. Returns NULL with the EGL error in *egl_err.
void *sg_egl_context(void *dpy, int major, int minor, int core, int debug, int robust, int *egl_err);

// sg_egl_release unbinds the calling thread's context and destroys ctx.
void sg_egl_release(void *dpy, void *ctx);

// sg_egl_proc is eglGetProcAddress.
void *sg_egl_proc(const char *name);

// sg_gl_string calls glGetString through fn (its address), or returns
// NULL when fn is NULL.
const char *sg_gl_string(void *fn, unsigned name);

#endif
