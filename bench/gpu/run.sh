#!/usr/bin/env bash
# Checks and measures sargo's Vulkan backend on a GPU machine that has
# neither Go nor network access, from the repository root, with what
# bench/gpu/build.sh put in bench/gpu/dist/. See bench/gpu/README.md.
#
# Usage: bench/gpu/run.sh [--quick] [--checks-only | --bench-only] [--limit SECONDS] [OUTDIR]
#
#   checks  sargo devices; the conformance suite without the validation
#           layer; the Vulkan tests named for NaN, Inf, bounds and ids; the
#           training test against the CPU without, then with, validation;
#           the conformance suite and the other Vulkan tests with validation
#           (on a CPU driver such as lavapipe, a subset).
#   bench   sargo bench --gpu-shapes: matmul (against cuBLAS with TF32 off
#           and on), attention (against PyTorch's unfused path and
#           scaled_dot_product_attention), the train step and sampling
#           (against PyTorch eager); then the Vulkan profiler over train and
#           sample steps (gpucheck profile). --quick runs a few of these at
#           their quick (tiny) sizes: matmul, attention, train and the train
#           profile.
#
# The PyTorch reference runs only where a python3's torch sees CUDA; else
# the bench runs sargo alone and the summary says the reference was absent
# (SARGO_GPU_TORCH_CPU=1 runs it on the CPU instead, to try the script on a
# machine without a GPU). When `sargo devices` finds no Vulkan device, the
# loader's debug output is kept and every later phase is skipped.
#
# --limit is the time after which the run has ended, results kept (default:
# 210 s with --quick or --checks-only, 400 s with --bench-only, 540 s for
# the full run): every phase has its own timeout, cut to the time left, and
# phases that no longer fit are recorded as skipped. A phase that fails or
# times out never stops the run. The defaults stay under the 600 s a
# device-machine command may take.
#
# OUTDIR (default $OUT) receives run.log, summary.md, summary.json
# (gpucheck report) and logs.tar.gz (every log and JSON file), refreshed
# after every phase; the unpacked logs are in OUTDIR/logs, or, when OUTDIR
# is $OUT (the device machine's return folder, which takes few files), in a
# temporary folder. The exit status is 0 when no phase failed or timed out.
#
# Environment: SARGO_PYTHON (interpreter with torch; default the first of
# python3 and /usr/bin/python3 whose torch sees CUDA), SARGO_GPU_TORCH_CPU=1
# (a CPU reference when none sees CUDA), SARGO_GPU_UNPACK=1 (use the
# packaged Vulkan loader even if one is installed), SARGO_BENCH_FLAGS (more
# sargo bench flags), SARGO_GPU_PEAK_TFLOPS (the device's fp32 peak, if not
# in gpucheck's table).
set -uo pipefail

usage="usage: bench/gpu/run.sh [--quick] [--checks-only | --bench-only] [--limit SECONDS] [OUTDIR (default \$OUT)]"
quick=0 only="" limit="" outdir=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--checks-only) only=checks ;;
	--bench-only) only=bench ;;
	--limit) limit=${2:-}; shift ;;
	--limit=*) limit=${1#--limit=} ;;
	-h | --help) echo "$usage"; exit 0 ;;
	-*) echo "run.sh: unknown flag $1; $usage" >&2; exit 2 ;;
	*) [ -n "$outdir" ] && { echo "run.sh: one OUTDIR only; $usage" >&2; exit 2; }; outdir=$1 ;;
	esac
	shift
done
[ -z "$outdir" ] && outdir=${OUT:-}
[ -n "$outdir" ] || { echo "run.sh: no OUTDIR and no \$OUT; $usage" >&2; exit 2; }
if [ -z "$limit" ]; then
	limit=540
	if [ "$quick" = 1 ] || [ "$only" = checks ]; then
		limit=210
	elif [ "$only" = bench ]; then
		limit=400
	fi
fi
case $limit in '' | *[!0-9]*) echo "run.sh: --limit wants whole seconds, got '$limit'" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
dist=$root/bench/gpu/dist
mkdir -p "$outdir" || exit 1
outdir=$(cd "$outdir" && pwd)
if [ -n "${OUT:-}" ] && [ "$outdir" = "$(cd "$OUT" 2>/dev/null && pwd)" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/sargo-gpu.XXXXXX")
	# Everything in it is in OUTDIR/logs.tar.gz by the end.
	trap 'rm -rf "$work"' EXIT
else
	work=$outdir/logs
	rm -rf "$work"
	mkdir -p "$work"
fi
exec > >(tee "$outdir/run.log") 2>&1
t0=$(date +%s)
deadline=$((t0 + limit))
reserve=15 # seconds kept for the last report
say() { echo "run.sh [$(($(date +%s) - t0))s] $*"; }

for f in sargo vulkan.test train.test gpucheck gpucheck.test; do
	[ -x "$dist/$f" ] || { say "missing $dist/$f: run bench/gpu/build.sh on a machine with Go first"; exit 1; }
done
cp "$dist/BUILD_INFO" "$work/" 2>/dev/null

# pack refreshes OUTDIR's summary and log archive from the working folder.
pack() {
	"$dist/gpucheck" report --out "$outdir" "$work" >>"$work/report.log" 2>&1 || say "gpucheck report failed: see report.log"
	if [ "$work" != "$outdir/logs" ]; then
		tar -czf "$outdir/logs.tar.gz.tmp" -C "$work" --exclude=./root . && mv "$outdir/logs.tar.gz.tmp" "$outdir/logs.tar.gz"
	fi
}

printf 'name\tgroup\tvariant\tstatus\trc\tseconds\ttimeout\tlog\tjson\tcommand\n' >"$work/phases.tsv"

# phase NAME GROUP VARIANT SECONDS LOG JSON COMMAND... runs COMMAND with its
# output in LOG, for at most SECONDS or the time left, records it in
# phases.tsv and packs. An argument -test.timeout=@ becomes the phase's
# timeout less 5 s, so that a Go test binary reports the test it was in.
phase() {
	local name=$1 group=$2 variant=$3 want=$4 log=$5 json=$6
	shift 6
	local left=$((deadline - $(date +%s) - reserve)) t=$want
	[ "$left" -lt "$t" ] && t=$left
	local cmd=("$@") i
	if [ "$t" -lt 10 ]; then
		say "$name: skipped, ${left}s left"
		printf '%s\t%s\t%s\tskipped\t0\t0\t%s\t-\t-\t%s\n' "$name" "$group" "${variant:--}" "$want" "${cmd[*]}" >>"$work/phases.tsv"
		return
	fi
	for i in "${!cmd[@]}"; do
		[ "${cmd[$i]}" = "-test.timeout=@" ] && cmd[i]="-test.timeout=$((t - 5))s"
	done
	say "$name (at most ${t}s)"
	local start rc status
	start=$(date +%s%N)
	timeout -s INT -k 10 "$t" "${cmd[@]}" >"$work/$log" 2>&1
	rc=$?
	local secs
	secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	case $rc in
	0) status=pass ;;
	124 | 137) status=timeout ;;
	*) status=fail ;;
	esac
	say "$name: $status (exit $rc, ${secs}s)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$group" "${variant:--}" "$status" "$rc" "$secs" "$t" "$log" \
		"${json:--}" "${cmd[*]}" >>"$work/phases.tsv"
	pack
}

# 1. Loader, validation layer, ICD.
unpack=$work/root
libdir=$unpack/usr/lib/x86_64-linux-gnu
if [ "${SARGO_GPU_UNPACK:-0}" = 1 ] || ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
	say "unpacking the Vulkan loader from dist/debs"
	mkdir -p "$unpack"
	dpkg-deb -x "$dist"/debs/libvulkan1_*.deb "$unpack" 2>/dev/null ||
		(cd "$unpack" && ar p "$dist"/debs/libvulkan1_*.deb data.tar.xz | tar -xJ)
	export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
if ! ldconfig -p | grep -q 'libGLdispatch\.so\.0 ' && ls "$dist"/debs/libglvnd0_*.deb >/dev/null 2>&1; then
	# The NVIDIA Vulkan driver (libGLX_nvidia.so.0) needs glvnd's dispatch library.
	say "unpacking libglvnd0 (libGLdispatch.so.0) from dist/debs"
	mkdir -p "$unpack"
	dpkg-deb -x "$dist"/debs/libglvnd0_*.deb "$unpack" 2>/dev/null ||
		(cd "$unpack" && ar p "$dist"/debs/libglvnd0_*.deb data.tar.xz | tar -xJ)
	case ":${LD_LIBRARY_PATH:-}:" in *":$libdir:"*) ;; *) export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ;; esac
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
	# The driver's own folder, where the machine mounts it, in case ldconfig does not list it.
	[ -d "$d" ] || continue
	case ":${LD_LIBRARY_PATH:-}:" in *":$d:"*) ;; *) export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d ;; esac
done
have_layer=0
for d in /usr/share/vulkan/explicit_layer.d /etc/vulkan/explicit_layer.d /usr/local/share/vulkan/explicit_layer.d; do
	[ -f "$d/VkLayer_khronos_validation.json" ] && have_layer=1
done
if [ "${SARGO_GPU_UNPACK:-0}" = 1 ] || [ $have_layer = 0 ]; then
	say "unpacking the Khronos validation layer from dist/debs"
	mkdir -p "$unpack"
	dpkg-deb -x "$dist"/debs/vulkan-validationlayers_*.deb "$unpack" 2>/dev/null ||
		(cd "$unpack" && ar p "$dist"/debs/vulkan-validationlayers_*.deb data.tar.xz | tar -xJ)
	export VK_LAYER_PATH=$unpack/usr/share/vulkan/explicit_layer.d
	export VK_ADD_LAYER_PATH=$VK_LAYER_PATH
	case ":${LD_LIBRARY_PATH:-}:" in *":$libdir:"*) ;; *) export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ;; esac
fi
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -n "${VK_DRIVER_FILES:-}" ]; then
	export VK_ICD_FILENAMES=$VK_DRIVER_FILES
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
		printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" >"$work/nvidia_icd.json"
		export VK_ICD_FILENAMES=$work/nvidia_icd.json
		say "no NVIDIA ICD manifest; wrote $VK_ICD_FILENAMES for $lib"
	else
		say "no NVIDIA ICD manifest or libGLX_nvidia.so.0 found; the loader uses its default search"
	fi
fi
[ -n "${VK_ICD_FILENAMES:-}" ] && export VK_DRIVER_FILES=$VK_ICD_FILENAMES

# The reference: the first interpreter whose torch sees CUDA
# (torch.cuda.is_available()); each candidate is asked once. Without one
# the bench runs sargo alone, unless SARGO_GPU_TORCH_CPU=1 asks for a CPU
# reference.
python="" torch_line="" torch_device="" reference=""
torch_cpu_python="" torch_cpu_line=""
for p in ${SARGO_PYTHON:-} "$(command -v python3 2>/dev/null)" /usr/bin/python3; do
	[ -x "$p" ] || continue
	line=$("$p" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>/dev/null | tail -1)
	case $line in
	*"available True") python=$p torch_line=$line torch_device=cuda; break ;;
	torch*) [ -z "$torch_cpu_python" ] && torch_cpu_python=$p torch_cpu_line=$line ;;
	esac
done
if [ -n "$python" ]; then
	reference="PyTorch CUDA ($python: $torch_line)"
elif [ "${SARGO_GPU_TORCH_CPU:-0}" = 1 ] && [ -n "$torch_cpu_python" ]; then
	python=$torch_cpu_python torch_line=$torch_cpu_line torch_device=cpu
	reference="PyTorch on the CPU, asked for by SARGO_GPU_TORCH_CPU=1 ($python: $torch_line)"
elif [ -n "$torch_cpu_python" ]; then
	reference="absent: no python3 whose torch sees CUDA ($torch_cpu_python: $torch_cpu_line); sargo ran alone"
else
	reference="absent: no python3 with torch; sargo ran alone"
fi

mode=full
[ "$quick" = 1 ] && mode=quick
[ -n "$only" ] && mode="$mode, $only only"
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "mode: $mode, limit ${limit}s"
	echo "host: $(uname -a)"
	sed 's/^/build: /' "$dist/BUILD_INFO" 2>/dev/null
	echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
	echo "VK_LAYER_PATH=${VK_LAYER_PATH:-}"
	echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
	echo "reference: $reference"
	if command -v nvidia-smi >/dev/null; then
		nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
	else
		echo "gpu: nvidia-smi not installed"
	fi
	lscpu 2>/dev/null | grep 'Model name' || true
	echo "missing libraries of sargo:"
	ldd "$dist/sargo" | grep 'not found' || echo "  none"
} >"$work/env.txt" 2>&1
cat "$work/env.txt"

say "devices"
phase devices env "" 30 devices.txt "" "$dist/sargo" devices --device vulkan
cat "$work/devices.txt"
have_device=1
if ! grep -Eq '^[* ] vulkan:[0-9]' "$work/devices.txt"; then
	have_device=0
	say "no Vulkan device: keeping the loader's debug output; every later phase is skipped"
	{
		echo "ldconfig:"
		ldconfig -p | grep -Ei 'vulkan|nvidia|GLdispatch' || echo "  (none)"
		echo "ICD manifests:"
		ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1
	} >"$work/loader.txt" 2>&1
	phase loader-debug env "" 30 loader-debug.log "" env VK_LOADER_DEBUG=error,warn,info,driver "$dist/sargo" devices --device vulkan
fi
cpu_driver=0
grep -Eqi 'type: *cpu' "$work/devices.txt" && cpu_driver=1
[ $cpu_driver = 1 ] && say "vulkan:0 is a CPU driver: the checks run a subset, and its figures are no GPU's"

# The runtime's tests of special values and bounds: NaN and Inf through the
# unary ops and reductions, out-of-range targets and ids, empty rows, no
# keys, no input channels, oversize allocations, a bad device index, and
# injected faults. (TestDeviceLostStopsTheRun, which waits for a timeout,
# runs with the other Vulkan tests on a GPU.)
robust='^(TestUnarySpecialValues|TestReduce|TestCrossEntropy|TestGatherScatterAdd|TestEmptyRows|TestAttentionNoKeys|TestConv2dNoInputChannels|TestOversizeAllocation|TestOpenBadIndex|TestFaultInjection)$'
# Tests fail rather than skip without a device. Commands run without the
# validation layer ("${novalidation[@]}" [-C DIR] CMD) unless named for it
# (env -C DIR SARGO_VULKAN_VALIDATION=1 CMD).
export SARGO_REQUIRE_VULKAN=1
novalidation=(env -u SARGO_VULKAN_VALIDATION)

run_checks() {
	phase conformance check "" 120 conformance.log "" "${novalidation[@]}" -C "$root/bench/gpu/gpucheck" SARGO_GPU_CONFORMANCE=1 \
		"$dist/gpucheck.test" -test.run '^TestConformanceOnDevice$' -test.v -test.count=1 -test.timeout=@
	phase robustness-validation check "" 60 robustness.log "" env -C "$root/kernels/vulkan" SARGO_VULKAN_VALIDATION=1 \
		"$dist/vulkan.test" -test.run "$robust" -test.v -test.count=1 -test.timeout=@
	phase training check "" 90 training.log "" "${novalidation[@]}" -C "$root/sar/train" \
		"$dist/train.test" -test.run '^TestGPUTrainingMatchesCPU$/^vulkan$' -test.v -test.count=1 -test.timeout=@
	phase conformance-validation check "" 120 conformance-validation.log "" env -C "$root/kernels/vulkan" SARGO_VULKAN_VALIDATION=1 \
		"$dist/vulkan.test" -test.run '^TestConformance$' -test.v -test.count=1 -test.timeout=@
	if [ $cpu_driver = 1 ]; then
		# lavapipe: the runtime's own tests, not the long ones CI runs anyway.
		phase vulkan-tests-validation check "" 90 vulkan-tests.log "" env -C "$root/kernels/vulkan" SARGO_VULKAN_VALIDATION=1 \
			"$dist/vulkan.test" -test.run '^(TestValidationIsActive|TestMatMul|TestProfiler|TestSteadyState|TestBatchLimitAndHazards|TestMemoryBudget)$' \
			-test.v -test.count=1 -test.timeout=@
	else
		phase vulkan-tests-validation check "" 150 vulkan-tests.log "" env -C "$root/kernels/vulkan" SARGO_VULKAN_VALIDATION=1 \
			"$dist/vulkan.test" -test.skip '^TestConformance$|TestShaderStats' -test.v -test.count=1 -test.timeout=@
		phase training-validation check "" 90 training-validation.log "" env -C "$root/sar/train" SARGO_VULKAN_VALIDATION=1 \
			"$dist/train.test" -test.run '^TestGPUTrainingMatchesCPU$/^vulkan$' -test.v -test.count=1 -test.timeout=@
	fi
}

run_bench() {
	local size=() timing steps=5 ref=()
	if [ "$quick" = 1 ] || [ $cpu_driver = 1 ]; then
		steps=2
		[ "$quick" = 1 ] || say "CPU driver: the bench runs at its quick sizes"
		size=(--quick)
		timing=(--warmup 1 --repeats 2 --min-time 0 --budget 5s)
	else
		timing=(--warmup 1 --repeats 5 --min-time 200ms --budget 10s)
	fi
	[ -n "$torch_device" ] && ref=(--vs torch --python "$python" --torch-device "$torch_device")
	# shellcheck disable=SC2206 # word splitting of the extra flags is intended
	local b=("${novalidation[@]}" "$dist/sargo" bench --device vulkan "${ref[@]}" --gpu-shapes "${size[@]}" "${timing[@]}" ${SARGO_BENCH_FLAGS:-})
	local tf32=() sdpa=()
	if [ -n "$torch_device" ]; then
		tf32=(--tf32)
		sdpa=(--torch-attention sdpa)
	fi
	phase bench-matmul-fp32 bench fp32 100 bench-matmul-fp32.log bench-matmul-fp32.json "${b[@]}" matmul --json "$work/bench-matmul-fp32.json"
	phase bench-attention-unfused bench unfused 100 bench-attention-unfused.log bench-attention-unfused.json \
		"${b[@]}" attention ${torch_device:+--torch-attention unfused} --json "$work/bench-attention-unfused.json"
	phase bench-train bench eager 120 bench-train.log bench-train.json "${b[@]}" train --json "$work/bench-train.json"
	phase profile-train profile "" 60 profile-train.log profile-train.json "${novalidation[@]}" "$dist/gpucheck" profile \
		--suite train --steps "$steps" --gpu-shapes "${size[@]}" --json "$work/profile-train.json"
	[ "$quick" = 1 ] && return
	phase bench-sample bench eager 70 bench-sample.log bench-sample.json "${b[@]}" sample --json "$work/bench-sample.json"
	if [ -n "$torch_device" ]; then
		# The same sargo cases against the other reference paths.
		phase bench-matmul-tf32 bench tf32 70 bench-matmul-tf32.log bench-matmul-tf32.json "${b[@]}" matmul "${tf32[@]}" \
			--json "$work/bench-matmul-tf32.json"
		phase bench-attention-sdpa bench sdpa 70 bench-attention-sdpa.log bench-attention-sdpa.json \
			"${b[@]}" attention "${sdpa[@]}" --json "$work/bench-attention-sdpa.json"
	fi
	phase profile-sample profile "" 40 profile-sample.log profile-sample.json "${novalidation[@]}" "$dist/gpucheck" profile \
		--suite sample --steps "$steps" --gpu-shapes "${size[@]}" --json "$work/profile-sample.json"
}

# skip_all NAME GROUP records a group of phases as skipped: no device.
skip_all() {
	printf '%s\t%s\t-\tskipped\t0\t0\t0\t-\t-\tnot run: no Vulkan device\n' "$1" "$2" >>"$work/phases.tsv"
}

if [ $have_device = 0 ]; then
	[ "$only" != bench ] && skip_all checks check
	[ "$only" != checks ] && skip_all bench bench
else
	[ "$only" != bench ] && run_checks
	[ "$only" != checks ] && run_bench
fi
pack
echo
say "done in $(($(date +%s) - t0))s (limit ${limit}s); results in $outdir"
echo
cat "$outdir/summary.md" 2>/dev/null
# The run succeeds when a Vulkan device was found and no phase failed or
# timed out.
[ $have_device = 1 ] && ! awk -F'\t' 'NR > 1 && ($4 == "fail" || $4 == "timeout") { bad = 1 } END { exit !bad }' "$work/phases.tsv"
