#!/usr/bin/env python3
"""GEMM-shaped operators against the OpenBLAS sgemm they run on, in one process.

    PYTHONPATH=$PWD/build/dev/python .venv/bin/python bench/ops.py [--repeat 10] [--json FILE]

For each case the operator (FullyConnected, dot, batch_dot, linalg_gemm2; float32, through the
NDArray API, waiting for the result) and cblas_sgemm of the same shape, called through ctypes on
the very libopenblas that libmxnext loaded, on the same thread count, are timed alternately;
best of --repeat each. The figure is the operator's GFLOP/s over sgemm's: the issue's bar is
0.90. FullyConnected's bias add is part of the operator's time (MXNet's too)."""
import argparse
import ctypes
import json
import time

import numpy as np

import mxnext as mx
from peers import best

# (name, M, N, K, batch, build): the operator computes batch products of (M, K) x (K, N).
CASES = [
    ("FullyConnected", 256, 1024, 1024, 1,
     lambda a, b: lambda: mx.nd.FullyConnected(a, b, mx.nd.zeros((b.shape[0],)),
                                                num_hidden=b.shape[0])),
    ("FullyConnected", 64, 4096, 4096, 1,
     lambda a, b: lambda: mx.nd.FullyConnected(a, b, mx.nd.zeros((b.shape[0],)),
                                                num_hidden=b.shape[0])),
    ("FullyConnected", 16, 4096, 9216, 1,
     lambda a, b: lambda: mx.nd.FullyConnected(a, b, mx.nd.zeros((b.shape[0],)),
                                                num_hidden=b.shape[0])),
    ("dot", 1024, 1024, 1024, 1, lambda a, b: lambda: mx.nd.dot(a, b)),
    ("dot", 2048, 2048, 2048, 1, lambda a, b: lambda: mx.nd.dot(a, b)),
    ("dot transpose_b", 512, 2048, 512, 1,
     lambda a, b: lambda: mx.nd.dot(a, b, transpose_b=True)),
    ("linalg_gemm2", 1024, 1024, 1024, 1, lambda a, b: lambda: mx.nd.linalg_gemm2(a, b)),
    ("batch_dot", 128, 128, 128, 32, lambda a, b: lambda: mx.nd.batch_dot(a, b)),
]


def openblas():
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "libopenblas" in line}
    mx_paths = [p for p in paths if "scipy_openblas" not in p]
    if not mx_paths:
        raise SystemExit("libmxnext did not load a libopenblas (a build without BLAS?)")
    lib = ctypes.CDLL(mx_paths[0])
    lib.cblas_sgemm.restype = None
    p = ctypes.c_void_p
    i, f = ctypes.c_int, ctypes.c_float
    lib.cblas_sgemm.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]
    return lib, mx_paths[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args()
    lib, path = openblas()
    rng = np.random.default_rng(0)
    rows = []
    for name, M, N, K, batch, build in CASES:
        shape_a = (batch, M, K) if batch > 1 else (M, K)
        if name.startswith("FullyConnected") or "transpose_b" in name:
            shape_b = (N, K)
        else:
            shape_b = (batch, K, N) if batch > 1 else (K, N)
        a_np = rng.standard_normal(shape_a, dtype=np.float32)
        b_np = rng.standard_normal(shape_b, dtype=np.float32)
        a, b = mx.nd.array(a_np), mx.nd.array(b_np)
        op = build(a, b)
        run_op = lambda: op().wait_to_read()  # noqa: E731
        trans_b = 112 if shape_b[-2:] == (N, K) else 111  # CblasTrans / CblasNoTrans
        ldb = K if trans_b == 112 else N
        c_np = np.empty((batch, M, N), np.float32)
        per_a, per_b = M * K, K * N

        def run_sgemm():
            for i in range(batch):
                lib.cblas_sgemm(101, 111, trans_b, M, N, K, 1.0,
                                a_np.ctypes.data + 4 * i * per_a, K,
                                b_np.ctypes.data + 4 * i * per_b, ldb, 0.0,
                                c_np.ctypes.data + 4 * i * M * N, N)
        t_op = t_blas = float("inf")
        for _ in range(2):  # alternate, so load falls on both
            t_op = min(t_op, best(run_op, args.repeat))
            t_blas = min(t_blas, best(run_sgemm, args.repeat))
        flops = 2.0 * batch * M * N * K
        row = {"op": name, "M": M, "N": N, "K": K, "batch": batch, "op_s": t_op,
               "sgemm_s": t_blas, "op_gflops": flops / t_op / 1e9,
               "sgemm_gflops": flops / t_blas / 1e9, "ratio": t_blas / t_op}
        rows.append(row)
        print(f"{name:18s} {batch:3d} x ({M:5d} x {K:5d}) x ({K:5d} x {N:5d})  "
              f"op {row['op_gflops']:6.1f} GFLOP/s  sgemm {row['sgemm_gflops']:6.1f} GFLOP/s  "
              f"op / sgemm {row['ratio']:.2f}")
    print(f"OpenBLAS: {path}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
