#!/usr/bin/env python3
"""Measures numpy's fp32 matmul (the BLAS numpy links) for the sizes of the
CPU backend's BenchmarkMatMul, printing the median GFLOP/s per wall-clock second and per processor-second
(user and system time of all threads) as a table.

Run with the thread count and BLAS settings of the comparison, e.g.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 \
        /usr/bin/python3 bench/torch/matmul_ref.py --repeats 7
"""

import argparse
import ctypes
import ctypes.util
import os
import statistics
import time

import numpy as np


def blas_info():
    """Describes the BLAS library behind numpy, as far as it can be found."""
    try:
        import threadpoolctl  # noqa: PLC0415

        infos = threadpoolctl.threadpool_info()
        return "; ".join(
            f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} threads={i.get('num_threads')}"
            for i in infos
        )
    except ImportError:
        pass
    for name in ("openblas", "blas"):
        path = ctypes.util.find_library(name)
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path)
            core = lib.openblas_get_corename
            core.restype = ctypes.c_char_p
            config = lib.openblas_get_config
            config.restype = ctypes.c_char_p
            threads = lib.openblas_get_num_threads()
            return f"{config().decode()} core={core().decode()} threads={threads} ({path})"
        except (OSError, AttributeError):
            continue
    return "unknown"


def gflops(n, repeats, min_time):
    """GFLOP/s of n×n×n products over repeats timed runs, per wall-clock
    second and per processor-second of the whole process."""
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    wall, cpu = [], []
    for _ in range(repeats):
        iters = 0
        start, cpu0 = time.perf_counter(), time.process_time()
        while True:
            np.matmul(a, b, out=c)
            iters += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        used = time.process_time() - cpu0
        wall.append(2.0 * n**3 * iters / elapsed / 1e9)
        cpu.append(2.0 * n**3 * iters / used / 1e9)
    return wall, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per repeat")
    args = p.parse_args()
    print(f"numpy {np.__version__}; BLAS: {blas_info()}")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')}")
    print(f"{'size':>6} {'GFLOP/s':>8} {'GFLOP/cpu-s':>12}  wall runs")
    for n in args.sizes:
        wall, cpu = gflops(n, args.repeats, args.min_time)
        print(f"{n:>6} {statistics.median(wall):>8.1f} {statistics.median(cpu):>12.1f}  "
              f"{' '.join(f'{r:.1f}' for r in wall)}")


if __name__ == "__main__":
    main()
