#!/usr/bin/env python3
"""Whole networks at 224x224, inference and training steps: mxnext vs Apache MXNet 1.9.1 vs
PyTorch 2.13 (CPU), float32, two threads.

    PYTHONPATH=$PWD/build/perf/python .venv/bin/python bench/convnets.py \
        [--nets alexnet,vgg16,inception-bn,resnet18,resnet50] [--batch 1,16] \
        [--modes infer,train] [--repeat 5] [--frameworks mxnext,mxnet,pytorch] [--json FILE]

The networks are examples/symbols' (the same file for mxnext and MXNet, imported under each
framework's name) and their torch.nn versions in bench/torch_nets.py, checked against the
symbols (bench/netcheck.py: parameter counts, printed, and every conv/pool/fc output shape).
Each (network, batch, mode) runs in a fresh interpreter per framework (bench/peers.py:
OMP_NUM_THREADS=2, OPENBLAS_NUM_THREADS=2, torch.set_num_threads(2)), the frameworks one after
the other for that configuration (the order rotating from one configuration to the next), so
that load from other processes falls on all of them alike.

- infer: mxnext and MXNet bind a Module with for_training=False and time forward(is_train=False)
  up to the softmax; PyTorch runs the model in eval() under torch.inference_mode(), softmax
  included.
- train: Module forward(is_train=True), backward, update (SGD, momentum 0.9; Xavier
  initialisation); PyTorch zero_grad, forward, cross_entropy, backward, SGD step (momentum
  0.9).

Binding, initialisation and one warm-up iteration are not timed; then --repeat iterations are
timed each (mx.nd.waitall() inside the timed region). The table shows the best (minimum) of
them, in seconds per iteration, and mxnext's time over the faster peer's (below 1: mxnext
faster); --json also keeps every time and the medians. --rounds N runs the whole set N times
(each configuration's frameworks still back to back) and keeps each framework's best round:
on a shared machine the peers' OpenMP threads slow down far more than mxnext's under load
(AlexNet training at batch 1: MXNet and PyTorch 5-7x slower at load average 3.5 than at 1 on
two cores, mxnext 1.5x), so compare figures taken at a low, steady load."""
import argparse
import json
import os
import statistics
import sys
import time

from netcheck import compare
from peers import ROOT, run

NETS = ["alexnet", "vgg16", "inception-bn", "resnet18", "resnet50"]
FRAMEWORKS = ["mxnext", "mxnet", "pytorch"]
LABELS = {"mxnext": "mxnext", "mxnet": "MXNet", "pytorch": "PyTorch"}
MODES = ["infer", "train"]

# argv: net, batch, mode (infer or train), repeat, ROOT
MX_CODE = r"""
import json, os, sys, time
import numpy as np
import {module} as mx
sys.modules["mxnext"] = mx  # examples/symbols is written against `import mxnext as mx`
NET, BATCH, MODE, REPEAT, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \
    sys.argv[5]
sys.path[:0] = [ROOT + "/examples", ROOT + "/bench"]
from symbols import ALL_NETWORKS
from netcheck import symbol_summary
train = MODE == "train"
sym = ALL_NETWORKS[NET](num_classes=1000)
mod = mx.mod.Module(sym, context=mx.cpu())
mod.bind(data_shapes=[("data", (BATCH, 3, 224, 224))],
         label_shapes=[("softmax_label", (BATCH,))], for_training=train)
mod.init_params(mx.init.Xavier())
if train:
    mod.init_optimizer(optimizer="sgd",
                       optimizer_params={{"learning_rate": 0.01, "momentum": 0.9}})
batch = mx.io.DataBatch([mx.random.uniform(shape=(BATCH, 3, 224, 224))],
                        [mx.nd.array(np.random.randint(0, 1000, BATCH))])
mx.nd.waitall()
def step():
    t = time.perf_counter()
    mod.forward(batch, is_train=train)
    if train:
        mod.backward()
        mod.update()
    mx.nd.waitall()
    return time.perf_counter() - t
times = [step() for _ in range(REPEAT + 1)][1:]
try:
    onednn = mx.runtime.Features().is_enabled("MKLDNN")
except AttributeError:  # mxnext: is oneDNN linked in?
    with open("/proc/self/maps") as f:
        onednn = "libdnnl" in f.read()
print(json.dumps({{"times": times, "summary": symbol_summary(sym), "version": mx.__version__,
                  "module": os.path.dirname(mx.__file__), "onednn": onednn}}))
"""

TORCH_CODE = r"""
import json, sys, time
import torch
torch.set_num_threads(2)
NET, BATCH, MODE, REPEAT, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \
    sys.argv[5]
sys.path.insert(0, ROOT + "/bench")
from torch_nets import NETWORKS, summary
torch.manual_seed(0)
model = NETWORKS[NET]()
x, y = torch.rand(BATCH, 3, 224, 224), torch.randint(0, 1000, (BATCH,))
if MODE == "train":
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    def body():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
else:
    model.eval()
    def body():
        with torch.inference_mode():
            torch.softmax(model(x), 1)
def step():
    t = time.perf_counter()
    body()
    return time.perf_counter() - t
times = [step() for _ in range(REPEAT + 1)][1:]
print(json.dumps({"times": times, "summary": summary(NET), "version": torch.__version__,
                  "threads": torch.get_num_threads()}))
"""


def code_of(fw):
    return TORCH_CODE if fw == "pytorch" else MX_CODE.format(module=fw)


def measure(fw, net, batch, mode, repeat):
    r = run(fw, code_of(fw), [net, batch, mode, repeat, ROOT])
    if "times" in r:
        r["best"], r["median"] = min(r["times"]), statistics.median(r["times"])
    return r


def fmt(r):
    return f"{r['best']:9.4f}" if "best" in r else f"{'—':>9}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default=",".join(NETS), help=f"from {', '.join(NETS)}")
    ap.add_argument("--batch", default="1,16", help="comma-separated batch sizes")
    ap.add_argument("--modes", default=",".join(MODES), help="infer, train or both")
    ap.add_argument("--repeat", type=int, default=5, help="timed iterations after a warm-up")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run the whole set this many times, keeping each one's best round")
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--json", help="write every figure here")
    a = ap.parse_args()
    nets = [n for n in a.nets.split(",") if n]
    batches = [int(b) for b in a.batch.split(",") if b]
    modes = [m for m in a.modes.split(",") if m]
    fws = [f for f in a.frameworks.split(",") if f]
    for name, got, allowed in (("network", nets, NETS), ("mode", modes, MODES),
                               ("framework", fws, FRAMEWORKS)):
        for g in got:
            if g not in allowed:
                ap.error(f"unknown {name} {g!r} (choose from {', '.join(allowed)})")
    log = (lambda s: print(s, file=sys.stderr, flush=True))  # noqa: E731

    print(f"float32, 224x224, 2 threads; seconds per iteration, best of {a.repeat} after a "
          f"warm-up" + (f", best of {a.rounds} rounds" if a.rounds > 1 else ""), flush=True)
    rows = [{"net": n, "batch": b, "mode": m} for n in nets for b in batches for m in modes]
    checks, versions, loads, i = {}, {}, [], 0
    for rnd in range(a.rounds):
        loads.append(os.getloadavg()[0])
        for row in rows:
            order = fws[i % len(fws):] + fws[:i % len(fws)]
            i += 1
            for fw in order:
                t = time.time()
                r = measure(fw, row["net"], row["batch"], row["mode"], a.repeat)
                summary = r.pop("summary", None)
                if summary is not None:
                    checks.setdefault(row["net"], {})[fw] = summary
                for k in ("version", "module", "onednn", "threads"):
                    if k in r:
                        versions.setdefault(fw, {})[k] = r.pop(k)
                log(f"  round {rnd + 1} {row['net']} batch {row['batch']} {row['mode']} "
                    f"{LABELS[fw]}: " + (r["error"] if "error" in r else
                                         f"best {r['best']:.4f} s, median {r['median']:.4f} s")
                    + f" ({time.time() - t:.0f} s in all)")
                old = row.get(fw)
                if old is None or "error" in old or ("best" in r and r["best"] < old["best"]):
                    row[fw] = r  # the round with the best time is kept
                if "best" in r:
                    row.setdefault(f"{fw}_rounds", []).append(r["best"])
    for row in rows:
        peers = [row[f]["best"] for f in fws if f != "mxnext" and "best" in row[f]]
        if "best" in row.get("mxnext", {}) and peers:
            row["ratio"] = row["mxnext"]["best"] / min(peers)
    all_ok = True
    for net, c in checks.items():
        if "mxnext" in c and "pytorch" in c:
            ok, text = compare(net, c["mxnext"], c["pytorch"], c.get("mxnet"))
            all_ok &= ok
            print(text, flush=True)
    load_end = os.getloadavg()

    print()
    print(f"{'network':<13}{'batch':>6}  {'mode':<6}"
          + "".join(f"{LABELS[f]:>9}" for f in fws) + "  mxnext / faster peer")
    for row in rows:
        line = f"{row['net']:<13}{row['batch']:>6}  {row['mode']:<6}" + "".join(
            fmt(row[f]) for f in fws)
        if "ratio" in row:
            peer = min((f for f in fws if f != "mxnext" and "best" in row[f]),
                       key=lambda f: row[f]["best"])
            line += f"  {row['ratio']:5.2f} ({LABELS[peer]})"
        print(line)
    for row in rows:
        for f in fws:
            if "error" in row[f]:
                print(f"{row['net']} batch {row['batch']} {row['mode']} {LABELS[f]}: "
                      f"{row[f]['error']}")
    for f in fws:
        v = versions.get(f, {})
        print(f"{LABELS[f]} {v.get('version', '?')}" + (f" from {v['module']}" if "module" in v
                                                         else "")
              + ("" if "onednn" not in v else f", oneDNN {'on' if v['onednn'] else 'OFF'}"))
    print("load average (1 min) at the start of each round "
          + ", ".join(f"{x:.2f}" for x in loads) + f", at the end {load_end[0]:.2f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"repeat": a.repeat, "rounds": a.rounds, "statistic": "best",
                       "load_average_1min": loads + [load_end[0]], "versions": versions,
                       "params": {n: {f: s["params"] for f, s in c.items()}
                                  for n, c in checks.items()},
                       "rows": rows}, fh, indent=1)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
