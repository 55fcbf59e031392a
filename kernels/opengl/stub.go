//go:build !opengl || !cgo

package opengl

import "sargo/tensor"

// Built reports whether this binary has the OpenGL backend.
const Built = false

func init() {
	tensor.Register("opengl", func(int) (tensor.Backend, error) { return nil, ErrNotBuilt })
}

// Probe says why OpenGL cannot be used: this binary lacks the backend.
func Probe() error { return ErrNotBuilt }

// Devices returns ErrNotBuilt.
func Devices() ([]DeviceInfo, error) { return nil, ErrNotBuilt }
