"""Shared driver of the PyTorch reference scripts of `sargo bench`.

Each bench_<suite>.py script defines one setup function per case kind and
calls run(); run() reads the request that `sargo bench` writes on stdin
(device, threads, timing, and the cases with all their parameters), times
every case the way sargo does (warm-up runs, then repeats that each run the
case until a minimum time has passed), and prints

    {"info": {...}, "results": [{"case": NAME, "runs": [RATE, ...],
                                 "cpu_runs": [RATE, ...]}, ...]}

on stdout, a rate per repeat in the case's unit, per wall-clock second
(runs) and per processor-second of the whole process (cpu_runs). Progress
goes to stderr.
A failing case is reported with an "error" instead of "runs".
"""

import ctypes
import json
import os
import sys
import time
import traceback

import torch
import torch.nn.functional as F

# HAS_SDPA: scaled_dot_product_attention with its scale argument (PyTorch
# 2.1 and later).
HAS_SDPA = hasattr(F, "scaled_dot_product_attention") and tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 1)

def blas_info():
    """Names the BLAS library loaded into this process and, for OpenBLAS,
    the kernel (core) it selected and its thread count."""
    paths = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            for line in f:
                path = line.split()[-1]
                base = os.path.basename(path)
                if ("blas" in base or "mkl" in base) and path not in paths and ".so" in base:
                    paths.append(path)
    except OSError:
        pass
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            core = lib.openblas_get_corename
            core.restype = ctypes.c_char_p
            config = lib.openblas_get_config
            config.restype = ctypes.c_char_p
            threads = lib.openblas_get_num_threads()
            return f"{config().decode().strip()} core={core().decode()} threads={threads} ({os.path.realpath(path)})"
        except (OSError, AttributeError):
            continue
    if paths:
        return ", ".join(os.path.realpath(p) for p in paths)
    return "unknown"


def resolve_device(name):
    """Maps the request's device (cpu, cuda, auto) to a torch device."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("bench: CUDA requested but torch.cuda.is_available() is false")
    return torch.device(name)


# The request's reference options (tf32, attention), set by run() before
# any setup function is called.
_options = {"tf32": False, "attention": ""}


def options():
    """The request's reference options: "tf32" (bool) and "attention"
    ("", "unfused" or "sdpa")."""
    return dict(_options)


def set_tf32(on):
    """Lets cuBLAS and cuDNN round fp32 operands to TF32 (on) or keeps them
    in fp32, through PyTorch 2.9's fp32_precision settings where they exist
    (mixing them with the older allow_tf32 flags is an error there), else
    the allow_tf32 flags. Returns whether cuBLAS matmuls may use TF32."""
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        precision = "tf32" if on else "ieee"
        matmul.fp32_precision = precision
        conv = getattr(torch.backends.cudnn, "conv", None)
        if conv is not None and hasattr(conv, "fp32_precision"):
            conv.fp32_precision = precision
        return matmul.fp32_precision == "tf32"
    matmul.allow_tf32 = bool(on)
    torch.backends.cudnn.allow_tf32 = bool(on)
    return bool(matmul.allow_tf32)


def configure(req, device):
    """Applies the request's reference options and returns whether TF32 is
    in effect (on CUDA only)."""
    _options["tf32"] = bool(req.get("tf32", False))
    _options["attention"] = str(req.get("attention") or "")
    if _options["attention"] not in ("", "unfused", "sdpa"):
        raise SystemExit(f"bench: unknown attention path {_options['attention']!r}: want unfused or sdpa")
    if device.type != "cuda":
        return False
    return set_tf32(_options["tf32"])


def sync(device):
    """Waits for the device."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(fn, device, work, warmup, repeats, min_time, budget=0.0):
    """Returns the rate (work per second) of each timed repeat of fn, and the
    rate per processor-second of the whole process (all threads). With a
    positive budget (seconds) the repeats stop early once they together took
    longer than it, after at least two."""
    for _ in range(warmup):
        fn()
    sync(device)
    rates, cpu_rates = [], []
    spent = 0.0
    for r in range(max(repeats, 1)):
        if budget > 0 and r >= 2 and spent > budget:
            break
        iters = 0
        cpu0 = time.process_time()
        start = time.perf_counter()
        while True:
            fn()
            sync(device)
            iters += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        cpu = time.process_time() - cpu0
        spent += elapsed
        rates.append(work * iters / elapsed)
        if cpu > 0:
            cpu_rates.append(work * iters / cpu)
    return rates, cpu_rates


def run(setups):
    """Runs the request on stdin with setups, a dict from case kind to a
    function (params, device, seed) -> callable that runs the case once."""
    req = json.load(sys.stdin)
    threads = int(req.get("threads") or 0)
    if threads > 0:
        torch.set_num_threads(threads)
    device = resolve_device(req.get("device", "cpu"))
    tf32 = configure(req, device)
    torch.manual_seed(int(req.get("seed", 0)))
    info = {
        "torch": torch.__version__,
        "device": str(device) if device.type == "cpu" else f"cuda ({torch.cuda.get_device_name(device)})",
        "threads": torch.get_num_threads(),
        "blas": blas_info() if device.type == "cpu" else f"CUDA {torch.version.cuda}",
        "tf32": tf32,
    }
    if _options["attention"]:
        info["attention"] = _options["attention"]
    print(f"reference: {json.dumps(info)}", file=sys.stderr, flush=True)
    results = []
    for case in req["cases"]:
        name, kind = case["case"], case["kind"]
        try:
            if kind not in setups:
                raise ValueError(f"unknown case kind {kind!r}")
            fn = setups[kind](case["params"], device, int(req.get("seed", 0)))
            runs, cpu_runs = measure(fn, device, case["work"], int(req["warmup"]), int(req["repeats"]), float(req["min_time"]),
                           float(req.get("budget", 0.0)))
            del fn
            result = {"case": name, "runs": runs}
            if len(cpu_runs) == len(runs):
                result["cpu_runs"] = cpu_runs
            results.append(result)
            runs_sorted = sorted(runs)
            print(f"torch {name}: {runs_sorted[len(runs) // 2]:.4g} {case['unit']}", file=sys.stderr, flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported per case
            traceback.print_exc(file=sys.stderr)
            results.append({"case": name, "error": f"{type(e).__name__}: {e}"})
        if device.type == "cuda":
            torch.cuda.empty_cache()
    json.dump({"info": info, "results": results}, sys.stdout)
    sys.stdout.write("\n")
