#!/usr/bin/env bash
# Runs the GPU checks from the repository root of a GPU machine, with the
# files bench/gpu/build.sh put in bench/gpu/dist/ (no Go, no network):
#
#   1. makes the Vulkan loader and validation layer available (unpacking
#      dist/debs when ldconfig does not know them) and points the loader at
#      the NVIDIA driver's ICD (VK_ICD_FILENAMES, if already set, wins);
#   2. runs the conformance suite on the GPU (vulkan.test -test.run
#      TestConformance, with SARGO_REQUIRE_VULKAN=1);
#   3. runs `sargo bench all --device vulkan --vs torch` (PyTorch on CUDA
#      when the Python found has it);
#   4. prints one summary table.
#
# Usage: bench/gpu/run.sh LOGDIR
#
# Full logs go to LOGDIR: run.log (everything), env.txt, devices.txt,
# conformance.log, bench.txt (the table), bench.log (progress), bench.json.
# The whole run stays under 8 minutes (conformance ≤ 150 s, bench ≤ 300 s).
# On a CPU driver (lavapipe) the bench runs with --quick.
#
# Environment: SARGO_PYTHON (interpreter with torch), SARGO_BENCH_QUICK=1
# (force --quick), SARGO_BENCH_FLAGS (extra bench flags),
# SARGO_GPU_UNPACK=1 (use the packaged loader even if one is installed).
set -uo pipefail

logdir=${1:?usage: bench/gpu/run.sh LOGDIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
dist=$root/bench/gpu/dist
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
exec > >(tee "$logdir/run.log") 2>&1
t0=$(date +%s)
say() { echo "run.sh [$(($(date +%s) - t0))s] $*"; }

for f in "$dist/sargo" "$dist/vulkan.test"; do
	[ -x "$f" ] || { say "missing $f: run bench/gpu/build.sh on the development machine first"; exit 1; }
done

# 1. Loader, validation layer, ICD.
unpack=$dist/root
libdir=$unpack/usr/lib/x86_64-linux-gnu
if [ "${SARGO_GPU_UNPACK:-0}" = 1 ] || ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
	say "unpacking the Vulkan loader from dist/debs"
	mkdir -p "$unpack"
	dpkg-deb -x "$dist"/debs/libvulkan1_*.deb "$unpack" 2>/dev/null ||
		(cd "$unpack" && ar p "$dist"/debs/libvulkan1_*.deb data.tar.xz | tar -xJ)
	export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
layer_dirs="/usr/share/vulkan/explicit_layer.d /etc/vulkan/explicit_layer.d /usr/local/share/vulkan/explicit_layer.d"
have_layer=0
for d in $layer_dirs; do [ -f "$d/VkLayer_khronos_validation.json" ] && have_layer=1; done
if [ "${SARGO_GPU_UNPACK:-0}" = 1 ] || [ $have_layer = 0 ]; then
	say "unpacking the Khronos validation layer from dist/debs"
	mkdir -p "$unpack"
	dpkg-deb -x "$dist"/debs/vulkan-validationlayers_*.deb "$unpack" 2>/dev/null ||
		(cd "$unpack" && ar p "$dist"/debs/vulkan-validationlayers_*.deb data.tar.xz | tar -xJ)
	export VK_LAYER_PATH=$unpack/usr/share/vulkan/explicit_layer.d
	export VK_ADD_LAYER_PATH=$VK_LAYER_PATH
	case ":${LD_LIBRARY_PATH:-}:" in *":$libdir:"*) ;; *) export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ;; esac
fi

if [ -z "${VK_ICD_FILENAMES:-}" ]; then
	for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
		/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
		if [ -f "$f" ]; then export VK_ICD_FILENAMES=$f; break; fi
	done
fi
if [ -z "${VK_ICD_FILENAMES:-}" ]; then
	# No ICD manifest: write one for the driver's Vulkan library if present.
	lib=$(ldconfig -p | awk '/libGLX_nvidia\.so\.0 /{print $NF; exit}')
	[ -z "$lib" ] && lib=$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/local/nvidia/lib64/libGLX_nvidia.so.0 2>/dev/null | head -1)
	if [ -n "$lib" ]; then
		printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" >"$logdir/nvidia_icd.json"
		export VK_ICD_FILENAMES=$logdir/nvidia_icd.json
		say "no NVIDIA ICD manifest; wrote $VK_ICD_FILENAMES for $lib"
	else
		say "no NVIDIA ICD manifest or libGLX_nvidia.so.0 found; the loader uses its default search"
	fi
fi
[ -n "${VK_ICD_FILENAMES:-}" ] && export VK_DRIVER_FILES=$VK_ICD_FILENAMES

# The reference's interpreter: the first with torch, preferring CUDA.
python=""
for p in ${SARGO_PYTHON:-} /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
	[ -x "$p" ] || continue
	if "$p" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then python=$p; break; fi
	[ -z "$python" ] && "$p" -c 'import torch' 2>/dev/null && python=$p
done
[ -z "$python" ] && python=/usr/bin/python3

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(uname -a)"
	cat "$dist/BUILD_INFO" 2>/dev/null
	echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
	echo "VK_LAYER_PATH=${VK_LAYER_PATH:-}"
	echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
	echo "python: $python ($("$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1))"
	if command -v nvidia-smi >/dev/null; then
		nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
	else
		echo "nvidia-smi: not installed"
	fi
	lscpu 2>/dev/null | grep 'Model name' || true
	echo "missing libraries of sargo:"; ldd "$dist/sargo" | grep 'not found' || echo "  none"
} >"$logdir/env.txt" 2>&1
cat "$logdir/env.txt"

say "devices"
"$dist/sargo" devices --device vulkan 2>&1 | tee "$logdir/devices.txt"

quick=""
if [ "${SARGO_BENCH_QUICK:-0}" = 1 ] || grep -Eqi 'llvmpipe|lavapipe|type: *cpu' "$logdir/devices.txt"; then
	quick="--quick"
	say "CPU Vulkan driver: the bench runs with --quick"
fi

# 2. Conformance.
say "conformance suite (kernels/vulkan TestConformance)"
(cd kernels/vulkan && SARGO_REQUIRE_VULKAN=1 timeout -s INT 150 "$dist/vulkan.test" \
	-test.run 'TestConformance' -test.v -test.timeout 145s) >"$logdir/conformance.log" 2>&1
conf_rc=$?
conf_pass=$(grep -c -- '--- PASS' "$logdir/conformance.log")
conf_fail=$(grep -c -- '--- FAIL' "$logdir/conformance.log")
conf_skip=$(grep -c -- '--- SKIP' "$logdir/conformance.log")
say "conformance: exit $conf_rc, $conf_pass passed, $conf_fail failed, $conf_skip skipped"

# 3. Benchmarks.
say "sargo bench all --device vulkan --vs torch $quick"
# shellcheck disable=SC2086 # word splitting of the optional flags is intended
timeout -s INT -k 20 300 "$dist/sargo" bench all --device vulkan --vs torch --python "$python" \
	--repeats 5 --min-time 200ms --json "$logdir/bench.json" $quick ${SARGO_BENCH_FLAGS:-} \
	>"$logdir/bench.txt" 2>"$logdir/bench.log"
bench_rc=$?
say "bench: exit $bench_rc"

# 4. Summary.
conf_status=PASS
[ $conf_rc -ne 0 ] && conf_status="FAIL (exit $conf_rc)"
[ $conf_rc -eq 124 ] && conf_status="TIMEOUT"
echo
echo "================ GPU check summary ($(($(date +%s) - t0)) s) ================"
echo "device:      $(grep -m1 '^\*' "$logdir/devices.txt" | sed 's/^\* *//')"
echo "conformance: $conf_status: $conf_pass passed, $conf_fail failed, $conf_skip skipped"
[ "$conf_fail" -gt 0 ] && grep -- '--- FAIL' "$logdir/conformance.log" | head -20 | sed 's/^/  /'
echo "bench:       exit $bench_rc$([ -n "$quick" ] && echo ' (--quick)')"
echo
cat "$logdir/bench.txt"
echo
echo "logs: $logdir"
[ $conf_rc -eq 0 ] && [ $bench_rc -eq 0 ]
