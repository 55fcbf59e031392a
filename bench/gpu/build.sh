#!/usr/bin/env bash
# Builds what bench/gpu/run.sh needs on a GPU machine that has neither Go nor
# network access, into bench/gpu/dist/ (ignored by git):
#
#   dist/sargo          the sargo binary (sargo devices, sargo bench)
#   dist/vulkan.test    kernels/vulkan's tests (go test -c): the conformance
#                       suite with validation, the runtime's tests
#   dist/train.test     sar/train's tests: training on the device against
#                       the CPU (TestGPUTrainingMatchesCPU)
#   dist/gpucheck       bench/gpu/gpucheck: the profiler run and the report
#   dist/gpucheck.test  its tests: the conformance suite without validation
#   dist/debs/*.deb     the Vulkan loader, the Khronos validation layer and
#                       glvnd's dispatch library that NVIDIA's Vulkan driver
#                       loads (apt-get download), unpacked by run.sh if
#                       missing there
#   dist/BUILD_INFO     date, Go version, commit, glibc, sizes
#
# The binaries are stripped (-s -w) so that dist/ stays under 50 MiB: the
# device machine's tool carries it with the working tree, 64 MiB in all.
# Each is self-contained (shaders embedded, no Go needed) but linked
# against the C library, because the Vulkan loader is opened with dlopen:
# the GPU machine needs a glibc at least as new as the symbols they use
# (GLIBC_2.34 on Debian 12). Run it from anywhere in the
# repository; extra go build flags may be given in GOFLAGS.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH=/usr/local/go/bin:$PATH
dist=bench/gpu/dist
rm -rf "$dist"
mkdir -p "$dist/debs"
flags=(-trimpath -ldflags='-s -w')

echo "build: sargo"
go build "${flags[@]}" -o "$dist/sargo" ./cmd/sargo
echo "build: bench/gpu/gpucheck"
go build "${flags[@]}" -o "$dist/gpucheck" ./bench/gpu/gpucheck
for pkg in kernels/vulkan sar/train bench/gpu/gpucheck; do
	echo "build: $pkg test binary"
	go test -c "${flags[@]}" -o "$dist/$(basename "$pkg").test" "./$pkg"
done

echo "build: download the Vulkan loader and validation layer packages"
# apt-get download writes into the current folder; as root it warns that
# the _apt user cannot write there, which is harmless.
(cd "$dist/debs" && apt-get download libvulkan1 vulkan-validationlayers libglvnd0 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
ls "$dist"/debs/libvulkan1_*.deb "$dist"/debs/vulkan-validationlayers_*.deb "$dist"/debs/libglvnd0_*.deb >/dev/null

size=$(du -sm "$dist" | cut -f1)
{
	echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
	echo "go: $(go version)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "glibc: $(ldd --version | head -1); the binaries need $(objdump -T "$dist/sargo" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1)"
	echo "size: ${size} MiB"
	(cd "$dist" && ls -1s --block-size=K sargo gpucheck ./*.test debs/*.deb)
} >"$dist/BUILD_INFO"
cat "$dist/BUILD_INFO"
if [ "$size" -gt 50 ]; then
	echo "build: $dist is ${size} MiB, over 50 MiB: with the working tree it would not fit the 64 MiB the device machine's tool carries" >&2
	exit 1
fi
echo "build: done; carry $dist to the GPU machine and run bench/gpu/run.sh [--quick] [OUTDIR] from the repository root (see bench/gpu/README.md)"
