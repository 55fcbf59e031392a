//go:build opengl && cgo

package opengl

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "egl.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"unsafe"
)

// This file is the only one that imports "C": thin wrappers over egl.c.
// EGL handles travel as unsafe.Pointer (they are C pointers).

// libraryName is the runtime name of libEGL (libegl1), not the -dev
// symlink libEGL.so.
const libraryName = "libEGL.so.1"

// loadEGL opens libEGL (SARGO_OPENGL_EGL names another file; tests use a
// missing one).
func loadEGL() error {
	name := libraryName
	if env := os.Getenv("SARGO_OPENGL_EGL"); env != "" {
		name = env
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var msg [512]C.char
	if C.sg_egl_open(cname, &msg[0], C.int(len(msg))) != 0 {
		return fmt.Errorf("%w (%s)", ErrNoLibrary, C.GoString(&msg[0]))
	}
	return nil
}

// eglError names an EGL error code.
type eglError int

func (e eglError) Error() string {
	names := map[eglError]string{
		0x3001: "EGL_NOT_INITIALIZED", 0x3002: "EGL_BAD_ACCESS", 0x3003: "EGL_BAD_ALLOC",
		0x3004: "EGL_BAD_ATTRIBUTE", 0x3005: "EGL_BAD_CONFIG", 0x3006: "EGL_BAD_CONTEXT",
		0x3008: "EGL_BAD_DISPLAY", 0x3009: "EGL_BAD_MATCH", 0x300C: "EGL_BAD_PARAMETER",
		0x300E: "EGL_CONTEXT_LOST",
	}
	if n, ok := names[e]; ok {
		return n
	}
	return fmt.Sprintf("EGL error 0x%x", int(e))
}

func clientExtensions() string { return C.GoString(C.sg_egl_client_extensions()) }

// hasExtension reports whether the space-separated list exts names ext.
func hasExtension(exts, ext string) bool {
	for _, e := range strings.Fields(exts) {
		if e == ext {
			return true
		}
	}
	return false
}

// eglDevice is one EGLDeviceEXT with what sargo reads from it.
type eglDevice struct {
	handle   unsafe.Pointer // nil: the surfaceless platform
	software bool           // EGL_MESA_device_software
	drmNode  string
}

// eglDevices lists the EGL devices, or the surfaceless platform as one
// device where devices cannot be enumerated.
func eglDevices() ([]eglDevice, string, error) {
	exts := clientExtensions()
	if hasExtension(exts, "EGL_EXT_device_enumeration") && hasExtension(exts, "EGL_EXT_platform_device") {
		var hs [C.SG_EGL_MAX_DEVICES]unsafe.Pointer
		n := int(C.sg_egl_devices(&hs[0], C.int(len(hs))))
		if n > 0 {
			devs := make([]eglDevice, n)
			for i := range devs {
				d := eglDevice{handle: hs[i]}
				d.software = hasExtension(deviceString(hs[i], C.EGL_EXTENSIONS), "EGL_MESA_device_software")
				d.drmNode = deviceString(hs[i], C.EGL_DRM_RENDER_NODE_FILE_EXT)
				if d.drmNode == "" {
					d.drmNode = deviceString(hs[i], C.EGL_DRM_DEVICE_FILE_EXT)
				}
				devs[i] = d
			}
			return devs, "device", nil
		}
	}
	if hasExtension(exts, "EGL_MESA_platform_surfaceless") {
		return []eglDevice{{software: false}}, "surfaceless", nil
	}
	return nil, "", fmt.Errorf("%w (EGL offers neither EGL_EXT_platform_device nor EGL_MESA_platform_surfaceless)", ErrNoDevice)
}

func deviceString(dev unsafe.Pointer, name C.int) string {
	s := C.sg_egl_device_string(dev, name)
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// eglDisplay returns the initialised display of dev.
func eglDisplay(dev eglDevice) (unsafe.Pointer, error) {
	var e C.int
	d := C.sg_egl_display(dev.handle, &e)
	if d == nil {
		return nil, eglError(e)
	}
	return d, nil
}

func displayString(dpy unsafe.Pointer, name C.int) string {
	return C.GoString(C.sg_egl_display_string(dpy, name))
}

// contextRequest is what eglContext asks for.
type contextRequest struct {
	major, minor  int // 0: any version
	core          bool
	debug, robust bool
}

// eglContext creates a context on dpy and makes it current on the calling
// thread.
func eglContext(dpy unsafe.Pointer, r contextRequest) (unsafe.Pointer, error) {
	var e C.int
	ctx := C.sg_egl_context(dpy, C.int(r.major), C.int(r.minor), cbool(r.core), cbool(r.debug), cbool(r.robust), &e)
	if ctx == nil {
		return nil, eglError(e)
	}
	return ctx, nil
}

func cbool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

// eglRelease unbinds and destroys ctx (on the thread it is current on).
func eglRelease(dpy, ctx unsafe.Pointer) { C.sg_egl_release(dpy, ctx) }

// procAddress is eglGetProcAddress, the GL binding's function loader.
func procAddress(name string) unsafe.Pointer {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return C.sg_egl_proc(cname)
}

// glString is glGetString(name) of the current context, called through
// eglGetProcAddress without the binding; "unknown" when it fails.
func glString(name uint32) string {
	cname := C.CString("glGetString")
	defer C.free(unsafe.Pointer(cname))
	if s := C.sg_gl_string(C.sg_egl_proc(cname), C.uint(name)); s != nil {
		return C.GoString(s)
	}
	return "unknown"
}

// EGL_VENDOR and EGL_VERSION for display strings.
const (
	eglVendor  = C.EGL_VENDOR
	eglVersion = C.EGL_VERSION
	eglExts    = C.EGL_EXTENSIONS
)
