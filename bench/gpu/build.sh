#!/usr/bin/env bash
# Builds what bench/gpu/run.sh needs on a GPU machine that has neither Go nor
# network access, into bench/gpu/dist/ (ignored by git):
#
#   dist/sargo         the sargo binary
#   dist/vulkan.test   the Vulkan backend's test binary (go test -c), whose
#                      TestConformance runs the conformance suite
#   dist/debs/*.deb    the Vulkan loader and the Khronos validation layer
#                      (apt-get download), unpacked by run.sh if missing there
#
# Run it on the development machine from anywhere in the repository. Extra
# go build flags may be given in GOFLAGS.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dist=bench/gpu/dist
rm -rf "$dist"
mkdir -p "$dist/debs"

echo "build: sargo"
go build -trimpath -o "$dist/sargo" ./cmd/sargo
echo "build: kernels/vulkan test binary"
go test -c -trimpath -o "$dist/vulkan.test" ./kernels/vulkan

echo "build: download the Vulkan loader and validation layer packages"
# apt-get download writes into the current folder; as root it warns that
# the _apt user cannot write there, which is harmless.
(cd "$dist/debs" && apt-get download libvulkan1 vulkan-validationlayers 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
ls "$dist"/debs/libvulkan1_*.deb "$dist"/debs/vulkan-validationlayers_*.deb >/dev/null

{
	echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
	echo "go: $(go version)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "glibc: $(ldd --version | head -1)"
	ls -1 "$dist/debs"
} >"$dist/BUILD_INFO"
cat "$dist/BUILD_INFO"
echo "build: done; copy the repository (with $dist) to the GPU machine and run bench/gpu/run.sh LOGDIR from its root"
