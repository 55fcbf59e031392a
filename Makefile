# The two entry points of the README: `make demo` runs the main job,
# `make test` runs the whole test suite. Both first install what is missing
# (scripts/setup.sh; system packages need root).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

# Vulkan tests run on every device the loader finds; set VK_ICD_FILENAMES
# (as .ci/run does, to Mesa's lavapipe) to pin one driver.
GO_TEST_FLAGS ?= -count=1 -timeout 20m

# The OpenGL backend is compiled with -tags opengl, which needs the EGL and
# GL development files (libegl-dev, libgl-dev: setup installs them). The tag
# is added when pkg-config finds them, evaluated after setup has run.
GO_TAGS = $(shell pkg-config --exists egl gl 2>/dev/null && echo opengl)

.PHONY: setup build demo test vet generate shader-stats

setup:
	@bash scripts/setup.sh

build: setup
	go build -tags '$(GO_TAGS)' -o bin/sargo ./cmd/sargo

demo: build
	./bin/sargo devices
	./bin/sargo demo --out out/demo

test: setup
	go vet -tags '$(GO_TAGS)' ./...
	SARGO_VULKAN_VALIDATION=1 SARGO_OPENGL_DEBUG=1 go test -tags '$(GO_TAGS)' $(GO_TEST_FLAGS) ./...

# Recompile the shaders (needs glslc and spirv-val) and write their OpenGL
# versions.
generate:
	go generate ./kernels/vulkan

# Compile every Vulkan pipeline variant on Mesa's RADV null device (AMD's
# shader compiler, no AMD hardware needed) and rewrite docs/shader-stats.md
# and the statistics tables of kernels/vulkan/shaders/README.md.
shader-stats:
	go run ./kernels/vulkan/internal/statsdoc -o docs/shader-stats.md -readme kernels/vulkan/shaders/README.md
