#!/usr/bin/env python3
"""Per-operation cost from Python: `c = a + b` on 1-element arrays.

    .venv/bin/python bench/dispatch.py [--n 10000] [--repeat 7]

Measures, in one run on this machine, mxnext, NumPy and, when their environments exist
(bench/setup_peers.sh makes them), PyTorch 2.13 (CPU, .venv-torch) and Apache MXNet 1.9.1
(.venv-mxnet). Each framework runs in its own interpreter. Two figures per framework:
  op       10,000 additions in a loop, then one wait       (dispatch cost)
  op+wait  an addition followed by a wait, 10,000 times    (dispatch + synchronisation)
The best of --repeat runs is reported, with ratios against PyTorch and MXNet."""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TIMER = r"""
import json, time, sys
N, R = int(sys.argv[1]), int(sys.argv[2])
def best(fn):
    fn(N // 10)
    return min(fn(N) for _ in range(R)) / N * 1e6
"""

# mxnext and Apache MXNet share the API, so one snippet measures both.
MXNET_API = TIMER + r"""
import {module} as mx
a = mx.nd.array([1.0]); b = mx.nd.array([2.0])
def op(n):
    t = time.perf_counter()
    for _ in range(n): c = a + b
    mx.nd.waitall()
    return time.perf_counter() - t
def op_wait(n):
    t = time.perf_counter()
    for _ in range(n):
        c = a + b
        c.wait_to_read()
    return time.perf_counter() - t
assert (a + b).asscalar() == 3.0
print(json.dumps({{"op": best(op), "op+wait": best(op_wait), "version": mx.__version__}}))
"""

SNIPPETS = {
    "mxnext": MXNET_API.format(module="mxnext"),
    "numpy": TIMER + r"""
import numpy as np
a = np.array([1.0], np.float32); b = np.array([2.0], np.float32)
def op(n):
    t = time.perf_counter()
    for _ in range(n): c = a + b
    return time.perf_counter() - t
r = best(op)
print(json.dumps({"op": r, "op+wait": r}))
""",
    "pytorch": TIMER + r"""
import torch
torch.set_num_threads(2)
a = torch.tensor([1.0]); b = torch.tensor([2.0])
def op(n):
    t = time.perf_counter()
    for _ in range(n): c = a + b
    return time.perf_counter() - t
r = best(op)
print(json.dumps({"op": r, "op+wait": r, "version": torch.__version__}))
""",
    "mxnet": MXNET_API.format(module="mxnet"),
}

INTERPRETERS = {
    "mxnext": os.path.join(ROOT, ".venv", "bin", "python"),
    "numpy": os.path.join(ROOT, ".venv", "bin", "python"),
    "pytorch": os.path.join(ROOT, ".venv-torch", "bin", "python"),
    "mxnet": os.path.join(ROOT, ".venv-mxnet", "bin", "python"),
}


def measure(name, n, repeat):
    python = INTERPRETERS[name]
    if not os.path.exists(python):
        return None, "not installed (bench/setup_peers.sh)"
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "2")
    proc = subprocess.run([python, "-c", SNIPPETS[name], str(n), str(repeat)],
                          capture_output=True, text=True, env=env, cwd="/tmp")
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def main():
    ap = argparse.ArgumentParser(description="per-operation dispatch cost")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    results = {}
    print(f"c = a + b on 1-element float32 arrays, {args.n} iterations, best of {args.repeat}")
    print(f"{'framework':<10} {'op (us)':>10} {'op+wait (us)':>14}")
    for name in ["mxnext", "numpy", "pytorch", "mxnet"]:
        r, why = measure(name, args.n, args.repeat)
        if r is None:
            print(f"{name:<10} {'-':>10} {'-':>14}   {why}")
            continue
        results[name] = r
        print(f"{name:<10} {r['op']:>10.3f} {r['op+wait']:>14.3f}")
    mine = results["mxnext"]
    for peer in ["pytorch", "mxnet", "numpy"]:
        if peer in results:
            p = results[peer]
            print(f"mxnext / {peer}: op {mine['op'] / p['op']:.2f}x, "
                  f"op+wait {mine['op+wait'] / p['op+wait']:.2f}x (lower is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
