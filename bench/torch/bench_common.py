"""Shared driver of the PyTorch reference scripts of `sargo bench`.

Each bench_<suite>.py script defines one setup function per case kind and
calls run(). run() talks with `sargo bench` one JSON object per line each
way, so that sargo can alternate its repeats with this script's:

    <- {"suite": ..., "device": ..., "threads": ..., "warmup": W,
        "min_time": SECONDS, "seed": ...}
    -> {"info": {...}}
    <- {"cmd": "setup", "case": {"case": NAME, "kind": ..., "unit": ...,
                                 "work": ..., "params": {...}}}
    -> {"ok": true}                       after W warm-up runs
    <- {"cmd": "repeat"}
    -> {"rate": R, "cpu_rate": C}         one repeat: the case run until
                                          min_time has passed
    <- {"cmd": "release"}
    -> {"ok": true, "peak_bytes": B}      B only for cases whose parameters
                                          hold "peak_memory": the process's
                                          peak resident memory from after
                                          the case's setup to its release

R is the rate in the case's unit per wall-clock second, C per
processor-second of the whole process (all threads). A failing command is
answered {"error": "..."}; the script exits when its stdin closes. The
replies go to the original stdout; anything else printed to stdout (by
this script or a library) goes to stderr, which is progress.
"""

import ctypes
import gc
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


def run_warmup(fn, device, warmup):
    """Runs fn warmup times, untimed."""
    for _ in range(warmup):
        fn()
    sync(device)


def run_repeat(fn, device, work, min_time):
    """Runs fn until min_time seconds have passed (at least once) and returns
    the rate (work per second) and the rate per processor-second of the whole
    process (0 when the processor time did not advance)."""
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
    return work * iters / elapsed, (work * iters / cpu if cpu > 0 else 0.0)


def reset_peak():
    """Resets the process's peak resident memory (VmHWM) to its current
    size, after freeing what can be freed; False where Linux refuses."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_bytes():
    """The process's peak resident memory in bytes (VmHWM), or 0."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run(setups):
    """Serves `sargo bench` on stdin and stdout with setups, a dict from case
    kind to a function (params, device, seed) -> callable that runs the case
    once."""
    reply_to = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr

    def reply(obj):
        reply_to.write(json.dumps(obj) + "\n")
        reply_to.flush()

    header = json.loads(sys.stdin.readline())
    threads = int(header.get("threads") or 0)
    if threads > 0:
        torch.set_num_threads(threads)
    device = resolve_device(header.get("device", "cpu"))
    tf32 = configure(header, device)
    seed = int(header.get("seed", 0))
    torch.manual_seed(seed)
    warmup, min_time = int(header.get("warmup", 1)), float(header.get("min_time", 0.0))
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
    reply({"info": info})
    fn, case, peak = None, None, False
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        cmd = msg.get("cmd")
        try:
            if cmd == "setup":
                fn, case = None, msg["case"]
                gc.collect()
                if case["kind"] not in setups:
                    raise ValueError(f"unknown case kind {case['kind']!r}")
                fn = setups[case["kind"]](case["params"], device, seed)
                peak = bool(case["params"].get("peak_memory")) and reset_peak()
                run_warmup(fn, device, warmup)
                reply({"ok": True})
            elif cmd == "repeat":
                if fn is None:
                    raise RuntimeError("repeat before a successful setup")
                rate, cpu_rate = run_repeat(fn, device, case["work"], min_time)
                print(f"torch {case['case']}: {rate:.4g} {case['unit']}", file=sys.stderr, flush=True)
                reply({"rate": rate, "cpu_rate": cpu_rate})
            elif cmd == "release":
                done = {"ok": True}
                if peak:
                    done["peak_bytes"] = peak_bytes()
                fn, case, peak = None, None, False
                gc.collect()
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                reply(done)
            else:
                raise ValueError(f"unknown command {cmd!r}")
        except Exception as e:  # noqa: BLE001 - every failure is reported per command
            traceback.print_exc(file=sys.stderr)
            reply({"error": f"{type(e).__name__}: {e}"})
