#!/usr/bin/env python3
"""KVStore push + pull: 10 keys of 1M float32 each, each pushed as a list of 2 values (two
devices) then pulled into 2 outputs, on the 'local' store; mxnext against Apache MXNet 1.9.1
(.venv-mxnet) in the same run, each in its own interpreter.

    PYTHONPATH=build/<dir>/python .venv/bin/python bench/kvstore.py [--rounds 20] [--repeat 3]
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SNIPPET = r"""
import json, sys, time
import {module} as mx
rounds, repeat = int(sys.argv[1]), int(sys.argv[2])
N, K = 1 << 20, 10
kv = mx.kv.create("local")
keys = list(range(K))
kv.init(keys, [mx.nd.zeros((N,)) for _ in keys])
vals = [[mx.nd.ones((N,)), mx.nd.ones((N,))] for _ in keys]
outs = [[mx.nd.zeros((N,)), mx.nd.zeros((N,))] for _ in keys]
def run(n):
    t = time.perf_counter()
    for _ in range(n):
        for k in keys:
            kv.push(k, vals[k], priority=-k)
        for k in keys:
            kv.pull(k, out=outs[k], priority=-k)
    mx.nd.waitall()
    return time.perf_counter() - t
run(2)
assert float(outs[3][1].asnumpy()[7]) == 2.0
best = min(run(rounds) for _ in range(repeat))
print(json.dumps({{"ms_per_round": best / rounds * 1e3, "version": mx.__version__}}))
"""

INTERPRETERS = {
    "mxnext": os.path.join(ROOT, ".venv", "bin", "python"),
    "mxnet": os.path.join(ROOT, ".venv-mxnet", "bin", "python"),
}


def measure(name, rounds, repeat):
    python = INTERPRETERS[name]
    if not os.path.exists(python):
        return None, "not installed (bench/setup_peers.sh)"
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "2")
    if name != "mxnext":
        env.pop("PYTHONPATH", None)
    proc = subprocess.run([python, "-c", SNIPPET.format(module=name), str(rounds), str(repeat)],
                          capture_output=True, text=True, env=env, cwd="/tmp")
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def main():
    ap = argparse.ArgumentParser(description="kvstore push+pull")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    res = {}
    print("push (2 values) + pull (2 outputs) of 10 keys x 1M float32, per round "
          f"(best of {args.repeat} x {args.rounds} rounds)")
    for name in ["mxnext", "mxnet"]:
        r, why = measure(name, args.rounds, args.repeat)
        if r is None:
            print(f"{name:<8} -   {why}")
            continue
        res[name] = r
        print(f"{name:<8} {r['ms_per_round']:>8.2f} ms/round   ({r.get('version', '')})")
    if len(res) == 2:
        print(f"mxnext speed / mxnet: {res['mxnet']['ms_per_round'] / res['mxnext']['ms_per_round']:.2f}x"
              " (higher is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
